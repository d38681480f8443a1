"""The lease of one lock hold or one campaign: granted, kept alive, revoked at the end (the
Go client's ``concurrency.Session``). Argument checks and the lost-state bookkeeping that
locks of every API share are in :mod:`etcdmap._holds`.

Thread-safety: a :class:`LeaseSession` is driven by the thread that holds; its loss callback
comes from a worker thread of the client's hub.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from etcdmap.errors import EtcdMapError, LeaseLost, LeaseNotFound
from etcdmap.http.defaults import DEFAULT

if TYPE_CHECKING:
    from etcdmap.v3.lease import Leases

__all__ = ["LeaseSession"]

log = logging.getLogger("etcdmap.lock")

class LeaseSession:
    """The lease of one hold: granted now, kept alive, revoked by :meth:`close`.

    :param leases: the client's lease API.
    :param ttl: the lease's TTL in seconds.
    :param on_lost: called (on a worker thread of the client's hub) with the
        :class:`~etcdmap.errors.LeaseLost` if the lease is lost.
    :param timeout: the grant's deadline (``None``: the client's default).
    """

    def __init__(self, leases: Leases, ttl: int, on_lost: Callable[[BaseException], object],
                 *, timeout: float | None = None) -> None:
        self._leases = leases
        grant = leases.grant(ttl, timeout=DEFAULT if timeout is None else timeout)
        self.lease_id = grant.id
        self.ttl = grant.ttl
        self._keepalive = leases.keep_alive(grant.id, grant.ttl, on_lost=on_lost)

    @property
    def error(self) -> LeaseLost | None:
        """The lease's loss, once lost."""
        return self._keepalive.error

    def close(self) -> None:
        """Stop the keep-alive and revoke the lease (its keys go with it). A failed revoke
        is logged, not raised: the lease then expires after its TTL."""
        self._keepalive.stop()
        try:
            self._leases.revoke(self.lease_id)
        except LeaseNotFound:
            pass  # already expired or revoked
        except EtcdMapError as exc:
            log.warning("lease %x not revoked (%s): it expires in %d s",
                        self.lease_id, exc, self.ttl)
