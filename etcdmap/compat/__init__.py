"""Drop-in replacements for the two abandoned Python etcd clients, on etcdmap's own clients.

- :mod:`etcdmap.compat.etcd3`: python-etcd3 0.12's API (``import etcd3``) on
  :mod:`etcdmap.v3` -- no gRPC, no protobuf;
- :mod:`etcdmap.compat.etcd`: python-etcd 0.4.5's API (``import etcd``) on etcdmap's v2
  client.

Either change the import (``import etcdmap.compat.etcd3 as etcd3``), or call the package's
``install()`` once at start-up: it registers the drop-in and its submodules under the old
name in ``sys.modules``, so that every ``import etcd3`` / ``from etcd3.exceptions import ...``
of the program gets the drop-in.

Thread-safety: :func:`install` is meant for start-up; it only writes ``sys.modules``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

__all__ = ["install"]


def install(package: str, name: str, submodules: Sequence[str]) -> None:
    """Register ``package`` and its ``submodules`` as ``name`` in ``sys.modules``.

    :param package: the drop-in, e.g. ``"etcdmap.compat.etcd3"``.
    :param name: the name programs import, e.g. ``"etcd3"``.
    :param submodules: the submodules to register too (``"exceptions"`` ->
        ``"etcd3.exceptions"``), so that ``from etcd3.exceptions import X`` gives the very class
        the drop-in raises.
    :raises ImportError: ``name`` is already imported from another package (the original
        library is installed and was imported first).
    """
    current = sys.modules.get(name)
    module = importlib.import_module(package)
    if current is not None and current is not module:
        raise ImportError(
            f"{name!r} is already imported from {getattr(current, '__file__', current)!r}; "
            f"install the drop-in before anything imports {name!r}"
        )
    sys.modules[name] = module
    for sub in submodules:
        sys.modules[f"{name}.{sub}"] = importlib.import_module(f"{package}.{sub}")
