"""Keep a v3 lease alive: :class:`LeaseKeepAlive`, the one handle of every kept lease of a
client -- :meth:`client.lease.keep_alive <etcdmap.v3.lease.Leases.keep_alive>`, the leases of
locks and elections, :meth:`LeaseStream.keep <etcdmap.v3.lease_stream.LeaseStream.keep>`.

The renewals travel on the client's lease stream (:mod:`etcdmap.v3.lease_stream`: one
``/v3/lease/keepalive`` WebSocket per member, or one POST per renewal where the upgrade is
refused) and are paced by the timers of the client's watch hub: a kept lease costs no thread.
The first renewal goes at once, then one every TTL/3, as clientv3 sends them.

The handle never dies silently: when the lease is lost it stores a
:class:`~etcdmap.errors.LeaseLost` in :attr:`LeaseKeepAlive.error`, logs it (logger
``etcdmap.keepalive``), calls ``on_lost`` once, and :attr:`LeaseKeepAlive.alive` turns
``False``. The lease is **lost** when

- etcd answers a renewal without a TTL (the lease expired or was revoked; etcd-io/etcd
  release-3.5:server/etcdserver/api/v3rpc/lease.go answers TTL 0 then), or
- no renewal got through for a whole TTL, counted from the sending of the last one that did
  (a paused process, a partition, a cluster without quorum): etcd may already have expired
  the lease, so whatever it holds (a lock, leadership) must be taken as gone -- the Go
  client's ``concurrency.Session`` concludes the same.

A renewal that fails, or that its member leaves unanswered for the stream's timeout, is sent
again on another member after 0.1 s, for as long as the lease cannot have expired.

Thread-safety: every method and property of the handle may be used from any thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from etcdmap.errors import ClusterError, LeaseLost, LeaseNotFound

if TYPE_CHECKING:
    from etcdmap.http.hub import StreamHub, Timer

__all__ = ["LeaseKeepAlive", "Renewals", "check_lease"]

log = logging.getLogger("etcdmap.keepalive")

_RETRY = 0.1
"""Seconds between a failed renewal and the next one (sent to another member)."""

OnLost = Callable[[BaseException], object]
Answer = Callable[[int | None, BaseException | None], None]
"""``answer(ttl, error)``: the granted TTL (0: the lease is gone), or the failure."""


class Renewals(Protocol):
    """What a keep-alive needs of the client's lease stream
    (:class:`~etcdmap.v3.lease_stream.LeaseStream` has it)."""

    @property
    def hub(self) -> StreamHub:
        """The client's hub: its timers pace the renewals, its workers run ``on_lost``."""

    def renew(self, lease_id: int, answer: Answer, *, avoid: str | None = None) -> None:
        """Send one renewal without waiting; ``answer`` gets its outcome."""

    def revoke(self, lease_id: int) -> None:
        """Revoke the lease."""


def check_lease(lease_id: object, ttl: object) -> tuple[int, int]:
    """A kept lease's ID and TTL: positive ints.

    :raises TypeError: not an int.
    :raises ValueError: below 1.
    """
    for name, value in (("lease_id", lease_id), ("ttl", ttl)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    assert isinstance(lease_id, int) and isinstance(ttl, int)
    return lease_id, ttl


class LeaseKeepAlive:
    """A lease kept alive in the background until :meth:`stop` (or the end of ``with``).

    ::

        lease = client.lease.grant(10)
        with client.lease.keep_alive(lease.id, lease.ttl) as ka:
            ...                      # ka.alive; ka.error is a LeaseLost once lost
        # leaving the block stops the renewals (the lease then expires after its TTL,
        # unless stop(revoke=True)); it raises ka.error if the lease was lost meanwhile

    Made started by :meth:`Leases.keep_alive <etcdmap.v3.lease.Leases.keep_alive>` or
    :meth:`LeaseStream.keep <etcdmap.v3.lease_stream.LeaseStream.keep>`.

    :param stream: the client's lease stream (it sends the renewals; its hub paces them).
    :param lease_id: the lease.
    :param ttl: its granted TTL in seconds (renewals every ``ttl / 3``).
    :param on_lost: called once, on a worker thread of the client's hub, with the
        :class:`~etcdmap.errors.LeaseLost` when the lease is lost; exceptions it raises are
        logged (logger ``etcdmap.keepalive``) and ignored. It must not block for long.
    :raises TypeError, ValueError: ``lease_id`` or ``ttl`` is not a positive int.
    """

    def __init__(self, stream: Renewals, lease_id: int, ttl: int, *,
                 on_lost: OnLost | None = None) -> None:
        self._lease_id, self._ttl = check_lease(lease_id, ttl)
        self._stream = stream
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._timer: Timer | None = None
        self._stopped = False
        self._error: LeaseLost | None = None
        self._last_ok = time.monotonic()  # the caller granted or renewed it just now
        self._failure: BaseException | None = None
        self._avoid: str | None = None
        self.refreshes = 0
        """Renewals that succeeded so far."""

    # ------------------------------------------------------------------ state

    @property
    def lease_id(self) -> int:
        """The lease kept alive."""
        return self._lease_id

    @property
    def ttl(self) -> int:
        """The lease's TTL in seconds (as granted, or as the last renewal set it)."""
        return self._ttl

    @property
    def alive(self) -> bool:
        """``True`` while the lease is being kept alive: not stopped and not lost."""
        return not self._stopped and self._error is None

    @property
    def error(self) -> LeaseLost | None:
        """The :class:`~etcdmap.errors.LeaseLost` once the lease was lost, else ``None``
        (the failure that led to it is its ``__cause__``)."""
        return self._error

    # ------------------------------------------------------------------ start, stop

    def start(self) -> LeaseKeepAlive:
        """Send the first renewal now and go on every ``ttl / 3`` (idempotent).

        :returns: ``self``.
        """
        with self._lock:
            started = self._timer is not None or self.refreshes
        if not started:
            self._schedule(0.0)
        return self

    def stop(self, *, revoke: bool = False) -> None:
        """Stop renewing (idempotent); an answer still on its way is ignored.

        :param revoke: also revoke the lease now, deleting its keys (a lease already gone is
            fine); otherwise it expires after its TTL.
        :raises EtcdMapError: the revoke failed (the renewals are stopped all the same).
        """
        with self._lock:
            self._stopped = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        if revoke:
            with contextlib.suppress(LeaseNotFound):
                self._stream.revoke(self._lease_id)

    def __enter__(self) -> LeaseKeepAlive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop; raise :attr:`error` if the lease was lost while in the block (unless the
        block itself raised)."""
        self.stop()
        if exc is None and self._error is not None:
            raise self._error

    def __repr__(self) -> str:
        state = "alive" if self.alive else "lost" if self._error else "stopped"
        return f"<LeaseKeepAlive {self._lease_id:x} ttl={self._ttl} {state}>"

    # ------------------------------------------------------------------ the renewals

    def _schedule(self, delay: float) -> None:
        with self._lock:
            if not self._stopped and self._error is None:
                self._timer = self._stream.hub.call_later(delay, self._renew)

    def _renew(self) -> None:
        """On the hub's timer: send one renewal, unless the lease may be gone already."""
        sent = time.monotonic()
        if sent >= self._last_ok + self._ttl:  # e.g. this process was paused past the TTL
            self._lost(f"lease {self._lease_id:x}: no keep-alive reached etcd for its whole "
                       f"TTL ({self._ttl} s): it may have expired, and what it held is lost",
                       self._failure)
            return
        self._stream.renew(self._lease_id, lambda ttl, error: self._answered(sent, ttl, error),
                           avoid=self._avoid)

    def _answered(self, sent: float, ttl: int | None, error: BaseException | None) -> None:
        """A renewal's outcome (I/O thread or a worker)."""
        if self._stopped or self._error is not None:
            return
        if error is None and ttl:
            self._last_ok, self._ttl = sent, ttl
            self._failure = self._avoid = None
            self.refreshes += 1
            self._schedule(max(0.0, sent + ttl / 3 - time.monotonic()))
        elif error is None:
            self._lost(f"lease {self._lease_id:x} expired or was revoked (etcd answered its "
                       "keep-alive without a TTL)",
                       LeaseNotFound("etcdserver: requested lease not found", grpc_code=5))
        else:
            self._failure = error
            if isinstance(error, ClusterError) and error.errors:
                self._avoid = error.errors[-1][0]
            log.info("keep-alive of lease %x failed (%s); sending it again elsewhere",
                     self._lease_id, error)
            self._schedule(_RETRY)  # the next renewal says lost if the TTL ran out meanwhile

    def _lost(self, message: str, cause: BaseException | None) -> None:
        with self._lock:
            if self._error is not None or self._stopped:
                return
            error = self._error = LeaseLost(message, self._lease_id)
            error.__cause__ = cause
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        log.warning("%s", error)
        on_lost = self._on_lost
        if on_lost is not None:
            def report() -> None:
                try:
                    on_lost(error)
                except Exception:  # a callback's bug must not hide the loss
                    log.exception("on_lost callback of lease %x raised", self._lease_id)

            self._stream.hub.workers.submit(report)
