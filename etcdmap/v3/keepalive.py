"""Keep a v3 lease alive: :class:`LeaseKeepAlive`, made by :meth:`client.lease.keep_alive
<etcdmap.v3.lease.Leases.keep_alive>`.

The handle refreshes the lease about every TTL/3 (as clientv3 does) and never dies silently:
when the lease is lost it stores a :class:`~etcdmap.errors.LeaseLost` in
:attr:`LeaseKeepAlive.error`, calls ``on_lost`` once, and :attr:`LeaseKeepAlive.alive` turns
``False``. The lease is **lost** when

- etcd answers a refresh without a TTL (the lease expired or was revoked; etcd-io/etcd
  release-3.5:server/etcdserver/api/v3rpc/lease.go answers TTL 0 then), or
- no refresh got through for a whole TTL, counted from the sending of the last one that did
  (a paused process, a partition, a cluster without quorum): etcd may already have expired
  the lease, so whatever it holds (a lock, leadership) must be taken as gone -- the Go
  client's ``concurrency.Session`` concludes the same.

A failed refresh is retried at once on the next member, each attempt bounded so that every
member gets one before the TTL runs out.

How the refreshes travel is behind :class:`_Refresher` (today one daemon thread per handle
sending ``POST /v3/lease/keepalive``); the handle's interface does not depend on it.

Thread-safety: every method and property of the handle may be used from any thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol

from etcdmap.errors import EtcdMapError, LeaseLost, LeaseNotFound
from etcdmap.http.defaults import CallTimeout
from etcdmap.v3.models import KeepAliveResponse, ResponseHeader

__all__ = ["LeaseCalls", "LeaseKeepAlive"]


class LeaseCalls(Protocol):
    """What a keep-alive needs of the lease API (:class:`etcdmap.v3.lease.Leases` has it)."""

    def keepalive_once(self, lease_id: int, *, timeout: CallTimeout = ...,
                       endpoint: str | None = None) -> KeepAliveResponse:
        """Refresh the lease once."""

    def revoke(self, lease_id: int, *, timeout: CallTimeout = ...) -> ResponseHeader:
        """Revoke the lease."""

log = logging.getLogger("etcdmap.keepalive")

_FAILED: tuple[type[BaseException], ...] = (EtcdMapError, OSError)
"""What a refresh may raise and be retried after (every etcdmap error but the TTL-0 answer,
which is not an exception, and a lost lease, which stops the loop)."""


class LeaseKeepAlive:
    """A lease kept alive in the background until :meth:`stop` (or the end of ``with``).

    ::

        lease = client.lease.grant(10)
        with client.lease.keep_alive(lease.id, lease.ttl) as ka:
            ...                      # ka.alive; ka.error is a LeaseLost once lost
        # leaving the block stops the refreshes (the lease then expires after its TTL,
        # unless stop(revoke=True)); it raises ka.error if the lease was lost meanwhile

    :param leases: the client's lease API (:class:`LeaseCalls`).
    :param lease_id: the lease.
    :param ttl: its granted TTL in seconds (refreshes go every ``ttl / 3``).
    :param on_lost: called once, from the keep-alive's thread, with the
        :class:`~etcdmap.errors.LeaseLost` when the lease is lost; exceptions it raises are
        logged (logger ``etcdmap.keepalive``) and ignored.
    :param endpoints: the members to try, in order (default: the client's).
    :raises TypeError, ValueError: ``lease_id`` or ``ttl`` is not a positive int.
    """

    def __init__(
        self,
        leases: LeaseCalls,
        lease_id: int,
        ttl: int,
        *,
        on_lost: Callable[[BaseException], object] | None = None,
        endpoints: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        for name, value in (("lease_id", lease_id), ("ttl", ttl)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self._leases = leases
        self._lease_id = lease_id
        self._ttl = ttl
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._error: LeaseLost | None = None
        self._stopped = False
        members = endpoints or (lambda: ())

        def send(timeout: float, attempt: int) -> int:
            eps = list(members())
            endpoint = eps[attempt % len(eps)] if eps else None
            return leases.keepalive_once(lease_id, timeout=timeout, endpoint=endpoint).ttl

        self._refresher = _Refresher(self, send)
        self._refresher.start()

    # ------------------------------------------------------------------ state

    @property
    def lease_id(self) -> int:
        """The lease kept alive."""
        return self._lease_id

    @property
    def ttl(self) -> int:
        """The lease's TTL in seconds (as granted, or as the last refresh set it)."""
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

    # ------------------------------------------------------------------ what the refresher reports

    def _refreshed(self, ttl: int) -> None:
        self._ttl = ttl

    def _lost(self, error: LeaseLost) -> None:
        with self._lock:
            if self._error is not None or self._stopped:
                return
            self._error = error
        log.warning("lease %x lost: %s", self._lease_id, error)
        if self._on_lost is not None:
            try:
                self._on_lost(error)
            except Exception:  # a callback's bug must not hide the loss
                log.exception("on_lost callback of lease %x raised", self._lease_id)

    # ------------------------------------------------------------------ stop

    def stop(self, *, revoke: bool = False) -> None:
        """Stop refreshing (idempotent; waits for a refresh in flight, at most ~1 s).

        :param revoke: also revoke the lease now, deleting its keys (a lease already gone is
            fine); otherwise it expires after its TTL.
        :raises EtcdMapError: the revoke failed (the refreshes are stopped all the same).
        """
        with self._lock:
            self._stopped = True
        self._refresher.stop()
        if revoke:
            with contextlib.suppress(LeaseNotFound):
                self._leases.revoke(self._lease_id)

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


class _Refresher:
    """Sends the refreshes of one handle from a daemon thread (the handle's transport).

    :param handle: the handle to report to (``_refreshed``, ``_lost``).
    :param send: ``send(timeout, attempt)`` refreshes once and returns the TTL etcd set (0:
        the lease is gone); ``attempt`` counts the failures so far (the member to try).
    """

    _RETRY = 0.1  # seconds between failed attempts (each on the next member)

    def __init__(self, handle: LeaseKeepAlive, send: Callable[[float, int], int]) -> None:
        self._handle = handle
        self._send = send
        self._stop = threading.Event()
        self._failures = 0
        self._thread = threading.Thread(
            target=self._run, name=f"etcdmap-lease-{handle.lease_id:x}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(1.0)

    def _run(self) -> None:
        handle = self._handle
        expires = time.monotonic() + handle.ttl  # the caller granted or refreshed it just now
        due = time.monotonic()  # the first refresh at once, as clientv3 sends it
        failure: BaseException | None = None
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            sent = time.monotonic()
            left = expires - sent
            if left <= 0:
                lost = LeaseLost(
                    f"lease {handle.lease_id:x}: no keep-alive reached etcd for its whole TTL "
                    f"({handle.ttl} s): it may have expired, and what it held is lost",
                    handle.lease_id)
                lost.__cause__ = failure
                handle._lost(lost)
                return
            try:
                ttl = self._send(min(left, max(handle.ttl / 3, 0.5)), self._failures)
            except _FAILED as exc:
                if self._stop.is_set():
                    return
                failure = exc
                self._failures += 1
                log.info("keep-alive of lease %x failed (%s); retrying", handle.lease_id, exc)
                due = time.monotonic() + self._RETRY
                continue
            if ttl <= 0:
                lost = LeaseLost(f"lease {handle.lease_id:x} expired or was revoked (etcd "
                                 "answered its keep-alive without a TTL)", handle.lease_id)
                lost.__cause__ = LeaseNotFound("etcdserver: requested lease not found",
                                               grpc_code=5)
                handle._lost(lost)
                return
            failure = None
            handle._refreshed(ttl)
            expires = sent + ttl
            due = sent + ttl / 3
