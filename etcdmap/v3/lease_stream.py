"""Every lease keep-alive of a client on ONE ``/v3/lease/keepalive`` WebSocket per member:
:class:`LeaseStream`, driven by the client's watch hub (its timers pace the renewals, its I/O
thread reads the answers): no thread per kept lease.

etcd serves the keep-alive stream as a WebSocket (:mod:`etcdmap.http.websocket`): each text
message ``{"ID":"<id>"}`` renews one lease and is answered with
``{"result":{"header":…,"ID":"<id>","TTL":"<granted>"}}``, any number of leases on one socket;
an answer without a TTL means the lease is gone (expired or revoked; etcd-io/etcd
release-3.5:server/etcdserver/api/v3rpc/lease.go ``leaseKeepAlive``).

- :meth:`LeaseStream.renew` sends one renewal and calls back with the TTL (or the failure);
  :meth:`LeaseStream.renew_once` waits for it (the v3 backend's ``refresh``).
- :meth:`LeaseStream.keep` keeps a lease alive: a renewal every ``ttl / 3`` on the hub's
  timers (as clientv3 does); a renewal that fails or goes unanswered within the client's
  ``request_timeout`` is sent again on another member at once and then every 0.2 s for as
  long as the lease cannot have expired (less than ``ttl`` since the last successful renewal
  was sent); after that, or when etcd says the lease is gone, the lease is **lost**: its
  handle stores the error, logs it (``etcdmap.keepalive``) and calls ``on_lost``.
- Where the upgrade is refused (a proxy, a session that cannot hand its socket over), each
  renewal is one ``POST /v3/lease/keepalive`` on a hub worker instead.

Thread-safety: every public method may be called from any thread; callbacks run on the hub's
I/O thread (``renew``) or a hub worker (``on_lost``) and must not block.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from etcdmap.errors import ClusterError, DeadlineExceeded, EtcdMapError
from etcdmap.http.watch_lifecycle import open_avoiding
from etcdmap.http.websocket import UpgradeRefused, WebSocket, WebSocketError
from etcdmap.v3.errors import LeaseNotFound, error_from_body
from etcdmap.v3.member_sockets import MemberSockets
from etcdmap.v3.wire import decode_json
from etcdmap.v3.wire_admin import parse_keepalive

if TYPE_CHECKING:
    import socket

    from wsproto import WSConnection

    from etcdmap.http.hub import StreamHub, Timer
    from etcdmap.v3.parts import V3Parts

__all__ = ["LeaseKeeper", "LeaseStream"]

log = logging.getLogger("etcdmap.keepalive")

Answer = Callable[[int | None, BaseException | None], None]
"""``answer(ttl, error)``: the granted TTL (0: the lease is gone), or the failure."""
_RETRY = 0.2
"""Seconds between renewals sent again after a failure."""


class _LeaseSocket:
    """The keep-alive WebSocket of one member and the renewals waiting for an answer."""

    def __init__(self, stream: LeaseStream, endpoint: str, sock: socket.socket,
                 ws: WSConnection) -> None:
        self.stream = stream
        self.endpoint = endpoint
        self.lock = threading.Lock()
        self.waiting: dict[int, list[Answer]] = {}
        self.ws: WebSocket | None = WebSocket(stream._hub, sock, ws, endpoint,
                                              on_message=self.on_message, on_close=self.failed)

    def send(self, lease_id: int, answer: Answer) -> None:
        ws = self.ws
        assert ws is not None
        with self.lock:
            if ws.closed:
                raise ClusterError([(self.endpoint, WebSocketError("the WebSocket closed"))])
            self.waiting.setdefault(lease_id, []).append(answer)
        ws.send(json.dumps({"ID": str(lease_id)}))

    def forget(self, lease_id: int, answer: Answer) -> bool:
        """Drop a renewal that timed out; :returns: whether it was still waiting."""
        with self.lock:
            answers = self.waiting.get(lease_id, [])
            if answer not in answers:
                return False
            answers.remove(answer)
            if not answers:
                del self.waiting[lease_id]
            return True

    def on_message(self, text: str) -> None:
        """One answer (I/O thread)."""
        try:
            data = decode_json(text.encode())
            result = data.get("result")
            if not isinstance(result, dict):
                raise error_from_body(0, text.encode()) or EtcdMapError(text[:200])
            reply = parse_keepalive(result)
        except EtcdMapError as exc:
            self.failed(WebSocketError(f"{self.endpoint}: the keep-alive stream failed: {exc}"))
            return
        with self.lock:
            answers = self.waiting.pop(reply.id, [])
        for answer in answers:
            answer(reply.ttl, None)

    def failed(self, error: WebSocketError) -> None:
        """The socket broke: every renewal waiting on it fails (they are sent elsewhere)."""
        self.stream._sockets.forget(self)
        if self.ws is not None:
            self.ws.close()
        with self.lock:
            waiting, self.waiting = self.waiting, {}
        broken = ClusterError([(self.endpoint, error)], "the keep-alive WebSocket broke")
        for answers in waiting.values():
            for answer in answers:
                answer(None, broken)


class LeaseStream:
    """The lease keep-alives of one client (see the module docstring).

    :param client: the v3 client; ``hub``: its watch hub.
    """

    def __init__(self, client: V3Parts, hub: StreamHub) -> None:
        self._client = client
        self._hub = hub
        self._sockets: MemberSockets[_LeaseSocket] = MemberSockets(
            client, "/v3/lease/keepalive",
            lambda ep, _token, sock, ws: _LeaseSocket(self, ep, sock, ws), self.timeout)
        self._refused: str | None = None
        self.renewals = 0
        """Renewals sent in all."""

    @property
    def mode(self) -> str:
        """``"websocket"``, or ``"http"`` once the upgrade was refused (a POST per renewal)."""
        return "http" if self._refused is not None else "websocket"

    @property
    def timeout(self) -> float:
        """How long a renewal may go unanswered before it is sent again elsewhere."""
        transport = self._client.transport
        return min(transport.request_timeout or 2.0, transport.timeout or 2.0)

    def keep(self, lease_id: int, ttl: float,
             on_lost: Callable[[BaseException], object] | None = None) -> LeaseKeeper:
        """Keep ``lease_id`` alive until the handle is stopped (see :class:`LeaseKeeper`).

        :param ttl: the lease's granted TTL in seconds (renewals every ``ttl / 3``).
        :param on_lost: called once, on a hub worker, with the error when the lease is lost.
        :returns: the started handle.
        :raises ValueError: ``ttl`` is not positive.
        """
        if not ttl > 0:
            raise ValueError(f"ttl must be positive, got {ttl!r}")
        return LeaseKeeper(self, lease_id, float(ttl), on_lost)._start()

    def renew(self, lease_id: int, answer: Answer, *, avoid: str | None = None) -> None:
        """Renew ``lease_id`` once, without waiting: ``answer(ttl, None)`` with the granted TTL
        (0: gone) or ``answer(None, error)`` (no member answered within :attr:`timeout`).

        :param avoid: a member to leave (the last renewal failed there).
        """
        self.renewals += 1
        if self._refused is None:
            sock = self._sockets.current(avoid)
            if sock is not None:  # the usual case: no blocking, fine on the I/O thread
                self._send(sock, lease_id, answer)
            else:
                self._hub.workers.submit(lambda: self._connect_and_send(lease_id, answer, avoid),
                                         urgent=True)
            return
        self._hub.workers.submit(lambda: self._post(lease_id, answer), urgent=True)

    def _connect_and_send(self, lease_id: int, answer: Answer, avoid: str | None) -> None:
        """On a worker: open a member's socket, then send (or POST when refused)."""
        try:
            sock = open_avoiding(self._client.transport.endpoints, avoid, self._sockets.get)
        except UpgradeRefused as exc:
            if self._refused is None:
                self._refused = str(exc)
                log.debug("lease keep-alives go over one POST each: %s", exc)
            self._post(lease_id, answer)
            return
        except EtcdMapError as exc:
            answer(None, exc)
            return
        self._send(sock, lease_id, answer)

    def renew_once(self, lease_id: int) -> int:
        """Renew ``lease_id`` and wait for the answer.

        :returns: the granted TTL (0: the lease no longer exists).
        :raises ClusterError, DeadlineExceeded: no member answered in time.
        """
        done = threading.Event()
        got: list[tuple[int | None, BaseException | None]] = []

        def answer(ttl: int | None, error: BaseException | None) -> None:
            got.append((ttl, error))
            done.set()

        self.renew(lease_id, answer)
        if not done.wait(self.timeout + 1.0):  # the renewal's own timeout answers first
            raise DeadlineExceeded(f"no answer to the keep-alive of lease {lease_id}")
        ttl, error = got[0]
        if error is not None:
            raise error
        assert ttl is not None
        return ttl

    def close(self) -> None:
        """Close every socket (the client is closing)."""
        self._sockets.close()

    # ------------------------------------------------------------------ sockets

    def _send(self, sock: _LeaseSocket, lease_id: int, answer: Answer) -> None:
        timer: list[Timer] = []
        answered = threading.Event()

        def once(ttl: int | None, error: BaseException | None) -> None:
            if not answered.is_set():
                answered.set()
                if timer:
                    timer[0].cancel()
                answer(ttl, error)

        def late() -> None:
            if sock.forget(lease_id, once):  # a silent member: leave its socket
                silent = WebSocketError(f"{sock.endpoint} did not answer the keep-alive of "
                                        f"lease {lease_id} within {self.timeout:g} s")
                once(None, ClusterError([(sock.endpoint, silent)], "the keep-alive"))
                sock.failed(silent)

        try:
            sock.send(lease_id, once)
        except EtcdMapError as exc:
            once(None, exc)
            return
        timer.append(self._hub.call_later(self.timeout, late))

    def _post(self, lease_id: int, answer: Answer) -> None:
        """The fallback: one ``POST /v3/lease/keepalive`` (on a worker)."""
        try:
            ttl = self._client.lease.keepalive_once(lease_id, timeout=self.timeout).ttl
        except EtcdMapError as exc:
            answer(None, exc)
            return
        answer(ttl, None)


class LeaseKeeper:
    """A lease kept alive by a :class:`LeaseStream` (from :meth:`LeaseStream.keep`); a
    context manager that stops it on exit.

    :ivar lease_id: the lease.
    :ivar ttl: its granted TTL in seconds.

    Thread-safety: :meth:`stop` and the properties from any thread.
    """

    def __init__(self, stream: LeaseStream, lease_id: int, ttl: float,
                 on_lost: Callable[[BaseException], object] | None) -> None:
        self.lease_id = lease_id
        self.ttl = ttl
        self._stream = stream
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._timer: Timer | None = None
        self._stopped = False
        self._error: BaseException | None = None
        self._last_ok = time.monotonic()  # the lease was granted or renewed just before
        self._avoid: str | None = None
        self.refreshes = 0
        """Renewals that succeeded."""

    @property
    def alive(self) -> bool:
        """Kept alive now (not stopped, not lost)."""
        return not self._stopped and self._error is None

    @property
    def error(self) -> BaseException | None:
        """Why the lease was lost (``None``: it was not)."""
        return self._error

    def stop(self, revoke: bool = False) -> None:
        """Stop renewing (idempotent); ``revoke``: revoke the lease too (its keys go at once).

        :raises EtcdMapError: the revoke failed (a lease already gone is fine).
        """
        with self._lock:
            self._stopped = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        if revoke:
            with contextlib.suppress(LeaseNotFound):  # already gone: fine
                self._stream._client.lease.revoke(self.lease_id)

    def __enter__(self) -> LeaseKeeper:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "lost" if self._error else "alive" if self.alive else "stopped"
        return f"<LeaseKeeper {self.lease_id} ttl={self.ttl:g} {state}>"

    # ------------------------------------------------------------------ the renewals

    def _start(self) -> LeaseKeeper:
        self._schedule(0.0)
        return self

    def _schedule(self, delay: float) -> None:
        with self._lock:
            if self._stopped or self._error is not None:
                return
            self._timer = self._stream._hub.call_later(delay, self._renew)

    def _renew(self) -> None:
        """On the hub's timer: send one renewal."""
        sent = time.monotonic()
        self._stream.renew(self.lease_id, lambda ttl, error: self._answered(sent, ttl, error),
                           avoid=self._avoid)

    def _answered(self, sent: float, ttl: int | None, error: BaseException | None) -> None:
        if self._stopped:
            return
        if error is None and ttl:
            self._last_ok = sent
            self._avoid = None
            self.refreshes += 1
            self._schedule(max(0.0, sent + self.ttl / 3 - time.monotonic()))
            return
        if error is None:  # etcd: no such lease (expired, or revoked)
            self._lost(LeaseNotFound(f"lease {self.lease_id} expired or was revoked",
                                     grpc_code=5))
            return
        if time.monotonic() + _RETRY < self._last_ok + self.ttl:
            log.warning("keep-alive of lease %d failed, sending it elsewhere: %s",
                        self.lease_id, error)
            if isinstance(error, ClusterError) and error.errors:
                self._avoid = error.errors[-1][0]
            self._schedule(_RETRY)
            return
        self._lost(error)

    def _lost(self, error: BaseException) -> None:
        with self._lock:
            if self._error is not None or self._stopped:
                return
            self._error = error
        log.error("keep-alive of lease %d stopped: the lease is lost: %s", self.lease_id, error)
        on_lost = self._on_lost
        if on_lost is not None:
            def report() -> None:
                try:
                    on_lost(error)
                except Exception:
                    log.exception("keep-alive of lease %d: on_lost failed", self.lease_id)

            self._stream._hub.workers.submit(report)
