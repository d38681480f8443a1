"""python-etcd 0.4.5's API (``import etcd``) on etcdmap's v2 client.

Change one line::

    import etcdmap.compat.etcd as etcd          # was: import etcd

    client = etcd.Client(host="127.0.0.1", port=2379)
    client.write("/config/a", "1")
    client.read("/config/a").value              # "1"

or call :func:`install` once at start-up so that every ``import etcd`` of the program gets
this package. Names: :class:`Client`, :class:`EtcdResult`, :class:`Lock`, the exception tree
(:mod:`etcdmap.compat.etcd.errors`) and ``EtcdError``'s code table; submodules
``etcd.client``, ``etcd.lock``.

Thread-safety: see :class:`~etcdmap.compat.etcd.client.Client` (thread-safe).
"""

from __future__ import annotations

from etcdmap.compat import install as _install
from etcdmap.compat.etcd import auth, client, lock
from etcdmap.compat.etcd.client import Client
from etcdmap.compat.etcd.errors import (
    EtcdAlreadyExist,
    EtcdClusterIdChanged,
    EtcdCompareFailed,
    EtcdConnectionFailed,
    EtcdDirNotEmpty,
    EtcdError,
    EtcdEventIndexCleared,
    EtcdException,
    EtcdInsufficientPermissions,
    EtcdKeyError,
    EtcdKeyNotFound,
    EtcdLeaderElectionInProgress,
    EtcdLockExpired,
    EtcdNotDir,
    EtcdNotFile,
    EtcdRootReadOnly,
    EtcdValueError,
    EtcdWatcherCleared,
    EtcdWatchTimedOut,
)
from etcdmap.compat.etcd.lock import Lock
from etcdmap.compat.etcd.result import EtcdResult

__version__ = "0.4.5"
"""The python-etcd version whose API this package follows."""

__all__ = [
    "Client",
    "EtcdAlreadyExist",
    "EtcdClusterIdChanged",
    "EtcdCompareFailed",
    "EtcdConnectionFailed",
    "EtcdDirNotEmpty",
    "EtcdError",
    "EtcdEventIndexCleared",
    "EtcdException",
    "EtcdInsufficientPermissions",
    "EtcdKeyError",
    "EtcdKeyNotFound",
    "EtcdLeaderElectionInProgress",
    "EtcdLockExpired",
    "EtcdNotDir",
    "EtcdNotFile",
    "EtcdResult",
    "EtcdRootReadOnly",
    "EtcdValueError",
    "EtcdWatchTimedOut",
    "EtcdWatcherCleared",
    "Lock",
    "auth",
    "client",
    "install",
    "lock",
]

SUBMODULES = ("auth", "client", "lock")
"""The submodules :func:`install` registers under ``etcd.``."""


def install(name: str = "etcd") -> None:
    """Make ``import etcd`` (and ``etcd.client``, ``etcd.lock``) import this package instead.

    :param name: the module name to take over.
    :raises ImportError: the real ``etcd`` was imported already.
    """
    _install(__name__, name, SUBMODULES)
