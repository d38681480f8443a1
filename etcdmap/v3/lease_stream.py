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
- :meth:`LeaseStream.keep` keeps a lease alive: a
  :class:`~etcdmap.v3.keepalive.LeaseKeepAlive` (the handle of every kept lease of the
  client, :meth:`client.lease.keep_alive <etcdmap.v3.lease.Leases.keep_alive>` included)
  sends a renewal every ``ttl / 3`` on the hub's timers; a renewal that fails, or goes
  unanswered within :attr:`LeaseStream.timeout` (the client's ``request_timeout``, at most
  2 s), is answered with the failure and the handle sends it again elsewhere (``avoid``).
- Where the upgrade is refused (a proxy, a session that cannot hand its socket over), each
  renewal is one ``POST /v3/lease/keepalive`` on a hub worker instead.

Thread-safety: every public method may be called from any thread; callbacks run on the hub's
I/O thread or a hub worker (``renew``'s answer) and must not block.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING

from etcdmap.errors import ClusterError, DeadlineExceeded, EtcdMapError
from etcdmap.http.watch_lifecycle import open_avoiding
from etcdmap.http.websocket import UpgradeRefused, WebSocket, WebSocketError
from etcdmap.v3.errors import error_from_body
from etcdmap.v3.keepalive import Answer, LeaseKeepAlive, OnLost
from etcdmap.v3.member_sockets import MemberSockets
from etcdmap.v3.wire import decode_json
from etcdmap.v3.wire_admin import parse_keepalive

if TYPE_CHECKING:
    import socket

    from wsproto import WSConnection

    from etcdmap.http.hub import StreamHub, Timer
    from etcdmap.v3.client_protocol import V3Parts

__all__ = ["LeaseKeeper", "LeaseStream"]

LeaseKeeper = LeaseKeepAlive
"""What :meth:`LeaseStream.keep` returns (the name issue 23 gave it): the one handle type of a
kept lease, :class:`~etcdmap.v3.keepalive.LeaseKeepAlive`."""

log = logging.getLogger("etcdmap.keepalive")



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

    @property
    def hub(self) -> StreamHub:
        """The client's watch hub: its timers pace the renewals, its workers run callbacks."""
        return self._hub

    def keep(self, lease_id: int, ttl: int, on_lost: OnLost | None = None) -> LeaseKeepAlive:
        """Keep ``lease_id`` alive until the handle is stopped (see
        :class:`~etcdmap.v3.keepalive.LeaseKeepAlive`).

        :param ttl: the lease's granted TTL in seconds (renewals every ``ttl / 3``).
        :param on_lost: called once, on a hub worker, with the
            :class:`~etcdmap.errors.LeaseLost` when the lease is lost.
        :returns: the started handle.
        :raises TypeError, ValueError: ``lease_id`` or ``ttl`` is not a positive int.
        """
        return LeaseKeepAlive(self, lease_id, ttl, on_lost=on_lost).start()

    def revoke(self, lease_id: int) -> None:
        """Revoke ``lease_id`` (its keys go at once).

        :raises LeaseNotFound: it is gone already.
        :raises EtcdMapError: the revoke failed.
        """
        self._client.lease.revoke(lease_id)

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


if TYPE_CHECKING:  # mypy checks that the stream is what a keep-alive needs
    from etcdmap.v3.keepalive import Renewals

    _RENEWALS: type[Renewals] = LeaseStream
