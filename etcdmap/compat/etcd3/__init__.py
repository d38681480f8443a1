"""python-etcd3 0.12's API (``import etcd3``) on :mod:`etcdmap.v3`: no gRPC, no protobuf.

Change one line::

    import etcdmap.compat.etcd3 as etcd3        # was: import etcd3

    client = etcd3.client(host="127.0.0.1", port=2379)
    client.put("/config/a", "1")
    value, meta = client.get("/config/a")        # (b"1", KVMetadata)

or call :func:`install` once at start-up so that every ``import etcd3`` and
``from etcd3.exceptions import ...`` of the program gets this package.

Submodules under python-etcd3's names: :mod:`~etcdmap.compat.etcd3.client`,
:mod:`~etcdmap.compat.etcd3.events`, :mod:`~etcdmap.compat.etcd3.exceptions`,
:mod:`~etcdmap.compat.etcd3.leases`, :mod:`~etcdmap.compat.etcd3.locks`,
:mod:`~etcdmap.compat.etcd3.members`, :mod:`~etcdmap.compat.etcd3.transactions`,
:mod:`~etcdmap.compat.etcd3.utils`, :mod:`~etcdmap.compat.etcd3.watch`, and
:mod:`~etcdmap.compat.etcd3.etcdrpc` (the enum values only).

Thread-safety: see :class:`~etcdmap.compat.etcd3.client.Etcd3Client` (thread-safe).
"""

from __future__ import annotations

from etcdmap.compat import install as _install
from etcdmap.compat.etcd3 import (
    client as _client_module,
)
from etcdmap.compat.etcd3 import (
    etcdrpc,
    events,
    exceptions,
    leases,
    locks,
    members,
    transactions,
    utils,
    watch,
)
from etcdmap.compat.etcd3.client import Etcd3Client, KVMetadata, Transactions, client
from etcdmap.compat.etcd3.exceptions import Etcd3Exception
from etcdmap.compat.etcd3.leases import Lease
from etcdmap.compat.etcd3.locks import Lock
from etcdmap.compat.etcd3.members import Member

__version__ = "0.12.0"
"""The python-etcd3 version whose API this package follows."""

__all__ = [
    "Etcd3Client",
    "Etcd3Exception",
    "KVMetadata",
    "Lease",
    "Lock",
    "Member",
    "Transactions",
    "client",
    "etcdrpc",
    "events",
    "exceptions",
    "install",
    "leases",
    "locks",
    "members",
    "transactions",
    "utils",
    "watch",
]

SUBMODULES = ("client", "etcdrpc", "events", "exceptions", "leases", "locks", "members",
              "transactions", "utils", "watch")
"""The submodules :func:`install` registers under ``etcd3.``."""

del _client_module  # imported for the submodule; ``client`` is the function, as in python-etcd3


def install(name: str = "etcd3") -> None:
    """Make ``import etcd3`` (and its submodules) import this package instead.

    :param name: the module name to take over.
    :raises ImportError: the real ``etcd3`` was imported already.
    """
    _install(__name__, name, SUBMODULES)
