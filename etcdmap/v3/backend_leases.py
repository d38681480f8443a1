"""TTLs as leases, for :class:`~etcdmap.v3.backend.V3Backend`: :class:`BackendLeases` grants
one lease per write with a TTL, revokes the lease of a write that failed, remembers the TTL
each lease was asked for (etcd may grant a longer one) and renews a lease on the client's
lease stream when a refresh asks for that same TTL (no event, no new revision).

Thread-safety: safe to share between threads (the TTLs asked for are kept under a lock).
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Protocol

from etcdmap._checks import check_ttl

if TYPE_CHECKING:
    from etcdmap.v3.lease import Leases
    from etcdmap.v3.lease_stream import LeaseStream

__all__ = ["BackendLeases", "Renewals"]

_REMEMBERED = 10_000
"""How many granted leases' TTLs are remembered (the oldest is forgotten first; a forgotten
one is asked of etcd)."""


class Renewals(Protocol):
    """Where a lease is renewed once (:class:`~etcdmap.v3.streams.V3Streams`; asyncio: one
    ``/v3/lease/keepalive`` request)."""

    def leases(self) -> LeaseStream:
        """The client's lease stream."""


class BackendLeases:
    """The leases of one v3 backend (see the module docstring).

    :param lease: the client's lease API.
    :param renewals: the client's lease stream, asked on each renewal.
    """

    def __init__(self, lease: Leases, renewals: Renewals) -> None:
        self._lease = lease
        self._renewals = renewals
        self._granted: dict[int, int] = {}  # lease ID -> the TTL asked for (etcd rounds up)
        self._lock = threading.Lock()

    def grant(self, ttl: int | None) -> int:
        """A new lease of ``ttl`` seconds (``None``: no lease, 0).

        :raises ValueError, TypeError: an invalid ``ttl``.
        """
        if ttl is None:
            return 0
        seconds = int(check_ttl(ttl))
        grant = self._lease.grant(seconds)
        with self._lock:
            self._granted[grant.id] = seconds
            if len(self._granted) > _REMEMBERED:
                self._granted.pop(next(iter(self._granted)))
        return grant.id

    def revoke(self, lease: int) -> None:
        """Revoke the lease of a write that failed, best effort (an unused lease expires)."""
        if lease:
            with contextlib.suppress(Exception):
                self._lease.revoke(lease)

    def ttl_of(self, lease: int) -> int:
        """The lease's remaining seconds (one request)."""
        return max(0, self._lease.time_to_live(lease).ttl)

    def renew(self, lease: int) -> bool:
        """Renew ``lease`` once on the lease stream; whether it still exists."""
        return self._renewals.leases().renew_once(lease) > 0

    def keep(self, lease: int, seconds: int) -> bool:
        """Renew ``lease`` if it was granted for ``seconds``; whether that worked."""
        with self._lock:
            asked = self._granted.get(lease)
        if asked is None:
            asked = self._lease.time_to_live(lease).granted_ttl
        return asked == seconds and self.renew(lease)
