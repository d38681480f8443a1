"""The errors of leases kept alive, locks and elections (client-side conclusions, not etcd
answers: the server error that led to one, if any, is its ``__cause__``)."""

from __future__ import annotations

from etcdmap.errors.base import EtcdMapError
from etcdmap.errors.client import DeadlineExceeded

__all__ = ["LeadershipLost", "LeaseLost", "LockLost", "LockTimeout"]


class LeaseLost(EtcdMapError):
    """A lease that was kept alive can no longer be counted on: etcd said it is gone (it
    expired or was revoked), or no refresh got through before its TTL ran out (a paused
    process, a partition). Whatever the lease held (a lock, leadership, keys) must be taken
    as gone.

    :ivar lease_id: the lease.
    """

    def __init__(self, message: str, lease_id: int = 0) -> None:
        self.lease_id = lease_id
        super().__init__(message)


class LockLost(EtcdMapError):
    """A lock was lost while held: its lease was lost (see :class:`LeaseLost`, the
    ``__cause__``) or its key was deleted by someone else. Raised when the ``with`` block of
    the lock ends (the work done inside it may have overlapped with another holder's).

    :ivar name: the lock's name.
    :ivar key: the key that held it.
    """

    def __init__(self, message: str, *, name: str = "", key: str = "") -> None:
        self.name = name
        self.key = key
        super().__init__(message)


class LeadershipLost(LockLost):
    """An election's leader lost its leadership while it held it (its lease, or its key)."""


class LockTimeout(DeadlineExceeded):
    """A lock was not acquired (or an election not won) within ``timeout``. Nothing is left
    behind in etcd: the waiter's key and lease were removed.

    :ivar name: the lock's or election's name.
    """

    def __init__(self, message: str, *, name: str = "") -> None:
        self.name = name
        super().__init__(message)
