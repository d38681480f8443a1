"""``python -m tests.benchmarks``: see :mod:`tests.benchmarks.run`."""

from __future__ import annotations

from .run import main

raise SystemExit(main())
