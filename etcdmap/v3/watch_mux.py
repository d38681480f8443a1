"""Every v3 watch of a client on ONE WebSocket per member in use: :class:`WatchMux`, the
:class:`~etcdmap.v3.subscription.WatchChannel` of the v3 backend.

etcd's gateway serves ``/v3/watch`` as a WebSocket (:mod:`etcdmap.http.websocket`), and one
stream carries any number of watches (etcd-io/etcd release-3.5:server/etcdserver/api/v3rpc/
watch.go): each ``create_request`` carries a ``watch_id`` chosen here (1, 2, ... per client,
never 0, which asks the server to choose), so every answer — created, events, canceled — names
its watch, and the socket's messages are routed by it to the watch's subscription, read on the
hub's I/O thread like every other stream. ``fragment: true`` lets etcd split an answer larger
than its request limit; the subscription's cursor puts the fragments together. Closing a watch
sends a ``cancel_request``; a socket without watches closes after a few seconds.

Telling an idle socket from a dead one: the member's shared ``/health`` check
(:class:`~etcdmap.http.liveness.Liveness`) moves the watches of a frozen, dead or partitioned
member; on top of that, a socket silent for ``idle`` seconds gets a ``progress_request``, and
one that does not answer within ``idle`` more seconds is dropped. (etcd 3.5 answers a progress
request at once with the store's revision, not in order with the events in flight, so the
answer proves the socket alive and is never taken as a watch's progress.) When a socket breaks,
every watch on it ends with the error and its subscription resumes on another member from its
last revision + 1.

Fallback: where the upgrade is refused (a proxy, a user session that cannot hand its socket
over, a server without the route), or etcd refuses a token sent in the upgrade (etcd before
3.5.32 does not take the ``Bearer`` form the WebSocket proxy makes of it:
etcd-io/etcd release-3.5:server/auth/store.go ``AuthInfoFromCtx``), the watches of the client
go back to one HTTP stream each (:class:`~etcdmap.v3.subscription.HttpChannel`):
:attr:`WatchMux.mode` says which is in use, and the switch is logged (``etcdmap.watch``, debug).

Thread-safety: every public method may be called from any thread.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from etcdmap.errors import ClusterError, EtcdMapError
from etcdmap.http.watch_lifecycle import open_avoiding
from etcdmap.http.websocket import UpgradeRefused, WebSocket, WebSocketError
from etcdmap.v3.errors import error_from_body
from etcdmap.v3.member_sockets import MemberSockets

if TYPE_CHECKING:
    import socket

    from wsproto import WSConnection

    from etcdmap.http.hub import StreamHub, Timer
    from etcdmap.v3.client_protocol import V3Parts
    from etcdmap.v3.subscription import Closable, Ended, HttpChannel, Lines

__all__ = ["WatchMux"]

log = logging.getLogger("etcdmap.watch")

_ID = re.compile(rb'"watch_id"\s*:\s*"(-?\d+)"')
"""The id of an answer (base64 keys and values hold no quote, so this cannot match inside one)."""
_CANCELED = re.compile(rb'"canceled"\s*:\s*true')
_CREATED = re.compile(rb'"created"\s*:\s*true')
_DENIED = (b"permission denied", b"invalid auth token", b"user name is empty")
"""The reasons etcd gives for refusing a watch to a token (3.5: permission denied; 3.4: the
token the proxy passed on is invalid)."""
_LINGER = 5.0
"""Seconds a socket without watches stays open (a watch that moves comes back at once)."""


class _Handle:
    """One watch on a member's socket (see :class:`~etcdmap.v3.subscription.Closable`)."""

    __slots__ = ("_socket", "_watch_id")

    def __init__(self, socket: _MemberSocket, watch_id: int) -> None:
        self._socket = socket
        self._watch_id = watch_id

    def close(self) -> None:
        self._socket.cancel(self._watch_id)


class _MemberSocket:
    """The WebSocket of one member and the watches it carries."""

    def __init__(self, mux: WatchMux, endpoint: str, token: str | None,
                 sock: socket.socket, ws: WSConnection) -> None:
        self.mux = mux
        self.endpoint = endpoint
        self.token = token
        self.lock = threading.Lock()
        self.watches: dict[int, tuple[Lines, Ended]] = {}
        self.unconfirmed: collections.deque[int] = collections.deque()
        """Watches sent and not yet ``created``, in the order sent (etcd answers creates in
        order: a refusal without an id -- etcd 3.4 answers ``watch_id: -1`` -- is the first)."""
        self.probe_sent = 0.0
        self.timer: Timer | None = None
        self.ws: WebSocket | None = WebSocket(mux._hub, sock, ws, endpoint,
                                              on_message=self.on_message, on_close=self.failed)
        self._schedule()
        log.debug("v3 watches on %s share one WebSocket", endpoint)

    def add(self, watch_id: int, create: dict[str, Any], on_lines: Lines,
            on_end: Ended) -> _Handle:
        ws = self.ws
        assert ws is not None
        with self.lock:
            if ws.closed:
                raise ClusterError([(self.endpoint, WebSocketError("the WebSocket closed"))])
            self.watches[watch_id] = (on_lines, on_end)
            self.unconfirmed.append(watch_id)
        ws.send(json.dumps({"create_request": {**create, "watch_id": str(watch_id),
                                               "fragment": True}}))
        return _Handle(self, watch_id)

    def cancel(self, watch_id: int) -> None:
        with self.lock:
            known = self.watches.pop(watch_id, None) is not None
            empty = not self.watches
        ws = self.ws
        if known and ws is not None:
            ws.send(json.dumps({"cancel_request": {"watch_id": str(watch_id)}}))
            if empty:
                self.mux._hub.call_later(_LINGER, self._linger)

    def _linger(self) -> None:
        with self.lock:
            if self.watches:
                return
        self.mux._sockets.forget(self)
        if self.ws is not None:
            self.ws.close()
        if self.timer is not None:
            self.timer.cancel()

    # ------------------------------------------------------------------ the I/O thread

    def on_message(self, text: str) -> None:
        data = text.encode()
        found = _ID.search(data, 0, 4096)
        watch_id = int(found.group(1)) if found else 0
        created = _CREATED.search(data, 0, 4096) is not None
        canceled = _CANCELED.search(data) is not None
        if created:
            watch_id = self._confirm(watch_id, refused=canceled)
        if watch_id <= 0:
            if data.startswith(b'{"error"'):
                error = error_from_body(0, data) or EtcdMapError(text[:200])
                self.failed(WebSocketError(f"{self.endpoint}: the watch stream failed: {error}"))
            return  # a progress answer (-1): the socket is alive, nothing more
        if canceled and self.token and any(r in data for r in _DENIED):
            self._token_refused()
            return
        with self.lock:
            entry = self.watches.pop(watch_id, None) if canceled else self.watches.get(watch_id)
        if entry is not None:  # else: a watch closed meanwhile
            entry[0]([data])

    def _confirm(self, watch_id: int, *, refused: bool) -> int:
        """A ``created`` answer: the watch it confirms (the first unconfirmed one when etcd
        refused a create without naming it)."""
        with self.lock:
            if watch_id > 0:
                with contextlib.suppress(ValueError):  # a created answer seen twice
                    self.unconfirmed.remove(watch_id)
                return watch_id
            if refused and self.unconfirmed:
                return self.unconfirmed.popleft()
        return watch_id

    def _token_refused(self) -> None:
        """etcd refused a watch on a socket opened with a token (I/O thread): the socket is
        reopened with a new token, its watches moving with it; when that token was new
        already, the refusal is final for WebSockets: the client's watches go back to HTTP
        streams, where a denial is etcd's answer to the watch itself and is reported as it
        is (on the socket it may be the token's form that etcd refused)."""
        sockets = self.mux._sockets
        if self.token == sockets.renewed_token:
            self.mux._refuse("etcd refused the token sent with the WebSocket upgrade")
            reason = "refused the socket's new auth token: the watches go over HTTP streams"
        else:
            sockets.renew_token = True  # it may have expired since the upgrade
            reason = "refused the socket's auth token: reopening with a new one"
        self.mux._hub.call_later(0.0, lambda: self.failed(WebSocketError(
            f"{self.endpoint} {reason}")))

    def failed(self, error: WebSocketError) -> None:
        """The socket broke: every watch on it ends (I/O thread, or a timer)."""
        self.mux._sockets.forget(self)
        if self.ws is not None:
            self.ws.close()
        if self.timer is not None:
            self.timer.cancel()
        with self.lock:
            watches, self.watches = list(self.watches.values()), {}
        broken = ClusterError([(self.endpoint, error)], "the watch WebSocket broke")
        for _, on_end in watches:
            on_end(broken)

    def _schedule(self) -> None:
        self.timer = self.mux._hub.call_later(self.mux._idle, self._check)

    def _check(self) -> None:
        """On the hub's timer: probe a silent socket; drop one that stays silent."""
        ws = self.ws
        if ws is None or ws.closed:
            return
        now = time.monotonic()
        if self.probe_sent and ws.last_received >= self.probe_sent:
            self.probe_sent = 0.0  # answered: alive
        if self.probe_sent:
            if now - self.probe_sent >= self.mux._idle:
                self.failed(WebSocketError(f"{self.endpoint} did not answer a progress "
                                           f"request within {self.mux._idle:g} s"))
                return
        elif now - ws.last_received >= self.mux._idle:
            self.probe_sent = now
            ws.send('{"progress_request":{}}')
        self._schedule()


class WatchMux:
    """The v3 watches of one client on one WebSocket per member (see the module docstring).

    :param client: the v3 client.
    :param hub: the client's watch hub (its I/O thread reads the sockets).
    :param fallback: the HTTP channel used where the upgrade is refused.
    :param idle: seconds of silence before a socket is probed (and as long again before it
        is dropped).
    """

    def __init__(self, client: V3Parts, hub: StreamHub, fallback: HttpChannel, *,
                 idle: float = 5.0) -> None:
        self._client = client
        self._hub = hub
        self._fallback = fallback
        self._idle = idle
        transport = client.transport
        self._sockets: MemberSockets[_MemberSocket] = MemberSockets(
            client, "/v3/watch", lambda ep, token, sock, ws: _MemberSocket(self, ep, token, sock, ws),
            transport.request_timeout or transport.timeout)
        self._ids = itertools.count(1)
        self._refused: str | None = None

    @property
    def mode(self) -> str:
        """``"websocket"``, or ``"http"`` once the upgrade was refused (one stream per watch)."""
        return "http" if self._refused is not None else "websocket"

    @property
    def refused(self) -> str | None:
        """Why the client's watches went back to HTTP streams (``None``: they did not)."""
        return self._refused

    @property
    def sockets(self) -> int:
        """How many member sockets are open."""
        return len(self._sockets)

    @property
    def messages(self) -> tuple[int, int]:
        """``(sent, received)`` messages on the open sockets (creates, cancels and progress
        requests; answers and events)."""
        sockets = [s.ws for s in self._sockets.carriers() if s.ws is not None]
        return sum(ws.sent for ws in sockets), sum(ws.received for ws in sockets)

    def open(self, create: dict[str, Any], *, avoid: str | None, on_lines: Lines,
             on_end: Ended) -> tuple[str, Closable]:
        """See :meth:`~etcdmap.v3.subscription.WatchChannel.open`."""
        if self._refused is None:
            try:
                return open_avoiding(self._client.transport.endpoints, avoid, lambda ep: (
                    self._open_on(ep, create, on_lines, on_end)))
            except UpgradeRefused as exc:
                self._refuse(str(exc))
        return self._fallback.open(create, avoid=avoid, on_lines=on_lines, on_end=on_end)

    def close(self) -> None:
        """Close every socket (the client is closing; the hub ends the watches' lifecycles)."""
        self._sockets.close()

    # ------------------------------------------------------------------ sockets

    def _refuse(self, reason: str) -> None:
        if self._refused is None:
            self._refused = reason
            log.debug("v3 watches go over one HTTP stream each: %s", reason)

    def _open_on(self, endpoint: str | None, create: dict[str, Any], on_lines: Lines,
                 on_end: Ended) -> tuple[str, Closable]:
        sock = self._sockets.get(endpoint)
        try:
            return sock.endpoint, sock.add(next(self._ids), create, on_lines, on_end)
        except ClusterError:  # it closed right then: once more, on any member
            sock = self._sockets.get(endpoint)
            return sock.endpoint, sock.add(next(self._ids), create, on_lines, on_end)
