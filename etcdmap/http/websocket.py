"""A client WebSocket on a client's watch hub: the upgrade (blocking, on a worker) and the
framing (by **wsproto**, python-hyper's sans-IO WebSocket, like h11 for HTTP/1.1) of messages
read and written by the hub's I/O thread.

etcd serves every ``/v3/`` stream route as a WebSocket too (tmc/grpc-websocket-proxy around
its gateway, etcd-io/etcd release-3.5:server/embed/serve.go): each text message sent is one
request of the stream, each text message received one ``{"result": ...}`` line. The proxy
forwards no header of the upgrade request but ``Origin`` and ``Referer``; a token goes in the
``Sec-WebSocket-Protocol`` header as ``Bearer, <token>`` and reaches etcd as
``Authorization: Bearer <token>`` (tmc/grpc-websocket-proxy:wsproxy/websocket_proxy.go).

:func:`upgrade` opens the socket through :meth:`etcdmap.http.transport.Transport.open_socket`
(TLS and client certificates as for every other call) and raises :class:`UpgradeRefused`
when the session cannot hand a socket over (a proxy, another adapter) or the server answers
the upgrade with anything but ``101`` — the caller then keeps one HTTP stream per watch.

:class:`WebSocket` runs on the hub: :meth:`WebSocket.send` from any thread queues a message
and :meth:`WebSocket.on_ready` (the I/O thread) writes what is queued and reads what came,
reassembling fragmented messages, answering pings, refusing binary or oversize messages.

Thread-safety: :meth:`WebSocket.send` and :meth:`WebSocket.close` from any thread; the
callbacks run on the hub's I/O thread.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from etcdmap.errors import EtcdMapError
from etcdmap.http.hub import Reader, StreamHub
from etcdmap.http.transport import Transport

__all__ = ["MAX_MESSAGE", "UpgradeRefused", "WebSocket", "WebSocketError", "upgrade"]

MAX_MESSAGE = 64 * 1024 * 1024
"""The longest message accepted, in bytes (etcd splits larger watch answers into fragments
when asked to: ``fragment: true``)."""
_RECV = 65536
_PROTOCOL_CODES = frozenset({1002, 1003, 1007, 1009})
"""Close codes of a broken protocol, bad data or a too large message (RFC 6455 7.4.1)."""


class WebSocketError(EtcdMapError):
    """The WebSocket broke: closed, reset, or the peer broke the protocol."""


class UpgradeRefused(EtcdMapError):
    """No WebSocket here: the session cannot hand a socket over, or the server answered the
    upgrade with another status (a proxy, a server without the route).

    :ivar status: the server's status (0: the upgrade was not sent).
    """

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def upgrade(transport: Transport, endpoint: str, path: str, *, token: str | None,
            timeout: float | None) -> tuple[socket.socket, WSConnection]:
    """Open a WebSocket to ``endpoint`` + ``path`` (blocking: on a worker).

    :param token: an etcd auth token, sent as the ``Bearer`` subprotocol.
    :param timeout: bound of the connect, the TLS handshake and the upgrade answer.
    :returns: the socket and its wsproto state (which keeps whatever came after the
        answer: etcd sends nothing before the first request).
    :raises UpgradeRefused: see the class.
    :raises OSError: the connection failed (nothing was sent, or the upgrade broke).
    """
    sock = transport.open_socket(endpoint, timeout)
    if sock is None:
        raise UpgradeRefused(f"{endpoint}: the session cannot hand a socket over (a proxy, "
                             "or an adapter other than etcdmap's)")
    try:
        return sock, _handshake(sock, endpoint, path, token, timeout)
    except RemoteProtocolError as exc:
        sock.close()
        raise UpgradeRefused(f"{endpoint}: not a WebSocket answer: {exc}") from exc
    except BaseException:
        sock.close()
        raise


def _handshake(sock: socket.socket, endpoint: str, path: str, token: str | None,
               timeout: float | None) -> WSConnection:
    """Send the upgrade request and read the answer (see :func:`upgrade`)."""
    parts = urlsplit(endpoint)
    ws = WSConnection(ConnectionType.CLIENT)
    sock.settimeout(timeout)
    sock.sendall(ws.send(Request(
        host=parts.netloc, target=parts.path.rstrip("/") + path,
        subprotocols=["Bearer", token] if token else [])))
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if deadline is not None:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
        data = sock.recv(_RECV)
        ws.receive_data(data or None)
        for event in ws.events():
            if isinstance(event, AcceptConnection):
                return ws
            if isinstance(event, RejectConnection):
                raise UpgradeRefused(
                    f"{endpoint} answered the WebSocket upgrade of {path} with HTTP "
                    f"{event.status_code}", event.status_code)
        if not data:
            raise ConnectionError(f"{endpoint} closed the connection during the upgrade")


class WebSocket:
    """An open client WebSocket read and written by the hub's I/O thread (see the module
    docstring).

    :param hub: the hub; ``sock`` and ``ws``: what :func:`upgrade` returned.
    :param endpoint: the member, for errors.
    :param on_message: each whole text message (I/O thread).
    :param on_close: once, with the reason it ended (I/O thread; not after :meth:`close`).
    :param max_message: the longest message accepted.
    """

    def __init__(self, hub: StreamHub, sock: socket.socket, ws: WSConnection, endpoint: str,
                 *, on_message: Callable[[str], None],
                 on_close: Callable[[WebSocketError], None],
                 max_message: int = MAX_MESSAGE) -> None:
        self.endpoint = endpoint
        self._ws = ws
        self._sock = sock
        self._on_message = on_message
        self._on_close = on_close
        self._max = max_message
        self._lock = threading.Lock()
        self._out = bytearray()
        self._parts: list[str] = []
        self._size = 0
        self._ended = False
        self.received = 0
        """Messages received so far."""
        self.sent = 0
        """Messages sent so far."""
        self.last_received = time.monotonic()
        """When the last frame arrived (``time.monotonic()``)."""
        self._reader: Reader = hub.add_reader(sock, self.on_ready, self._dropped)

    @property
    def closed(self) -> bool:
        """Whether it ended (closed by either side, or broke)."""
        return self._ended

    def send(self, text: str) -> None:
        """Queue one text message (any thread); ignored once closed."""
        with self._lock:
            if self._ended:
                return
            self._out += self._ws.send(TextMessage(data=text))
            self.sent += 1
        self._reader.want_write(True)

    def close(self) -> None:
        """Close the socket at once (any thread; no callback follows)."""
        with self._lock:
            self._ended = True
        self._reader.close()

    # ------------------------------------------------------------------ the I/O thread

    def on_ready(self, writable: bool) -> None:
        """The socket is readable or writable (I/O thread).

        :raises WebSocketError: the connection broke or the peer broke the protocol (the hub
            then drops the socket and :meth:`_dropped` reports it).
        """
        if writable:
            self._flush()
            return
        while True:
            try:
                data = self._sock.recv(_RECV)
            except (BlockingIOError, ssl.SSLWantReadError):
                return
            except OSError as exc:
                raise WebSocketError(f"{self.endpoint}: the WebSocket broke: {exc}") from exc
            self.last_received = time.monotonic()
            try:
                self._ws.receive_data(data or None)
                for event in self._ws.events():
                    self._event(event)
            except (RemoteProtocolError, LocalProtocolError) as exc:
                raise WebSocketError(f"{self.endpoint}: a bad WebSocket frame: {exc}") from exc
            if not data:
                raise WebSocketError(f"{self.endpoint} closed the WebSocket connection")
            if self._ended:
                return
            sock = self._sock
            if not isinstance(sock, ssl.SSLSocket) or not sock.pending():
                return

    def _event(self, event: Event) -> None:
        if isinstance(event, TextMessage):
            self._size += len(event.data)
            if self._size > self._max:
                raise WebSocketError(f"{self.endpoint} sent a WebSocket message longer than "
                                     f"{self._max} bytes")
            self._parts.append(event.data)
            if event.message_finished:
                text = "".join(self._parts)
                self._parts, self._size = [], 0
                self.received += 1
                self._on_message(text)
        elif isinstance(event, BytesMessage):
            raise WebSocketError(f"{self.endpoint} sent a binary WebSocket message")
        elif isinstance(event, Ping):
            with self._lock:
                self._out += self._ws.send(event.response())
            self._flush()
        elif isinstance(event, CloseConnection):
            reason = f": {event.reason}" if event.reason else ""
            if event.code == 1006:  # wsproto's word for an end without a close frame
                raise WebSocketError(f"{self.endpoint} closed the WebSocket connection "
                                     "without a close frame")
            if event.code in _PROTOCOL_CODES:  # wsproto's verdict on what it received
                raise WebSocketError(f"{self.endpoint} sent a bad WebSocket frame "
                                     f"(code {event.code}{reason})")
            raise WebSocketError(
                f"{self.endpoint} closed the WebSocket (code {event.code}{reason})")

    def _flush(self) -> None:
        with self._lock:
            out = self._out
            while out:
                try:
                    sent = self._sock.send(out)
                except (BlockingIOError, ssl.SSLWantWriteError):
                    break
                except OSError as exc:
                    raise WebSocketError(f"{self.endpoint}: the WebSocket broke: {exc}") from exc
                del out[:sent]
            waiting = bool(out)
        self._reader.want_write(waiting)

    def _dropped(self, exc: BaseException) -> None:
        """The hub dropped the socket (its protocol failed, or the hub's thread did)."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
        error = exc if isinstance(exc, WebSocketError) else WebSocketError(
            f"{self.endpoint}: the WebSocket broke: {exc}")
        self._on_close(error)
