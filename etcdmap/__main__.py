"""``python -m etcdmap``: the ``etcdmap`` command (see :mod:`etcdmap.cli`)."""

from __future__ import annotations

from etcdmap.cli.app import main

if __name__ == "__main__":
    raise SystemExit(main())
