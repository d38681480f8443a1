"""A scripted loopback WebSocket server for the WebSocket unit tests (answers etcd never
sends: bad frames, oversize messages, a close in the middle of a message).

Not a mock of etcd: a script gets each text message received and the raw socket, and writes
what it likes (wsproto frames, or raw bytes). It records what arrived.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from loopback import Listener
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Message,
    RejectConnection,
    Request,
    TextMessage,
)

Script = Callable[["Peer", str], None]
"""Called with each whole text message received (on the connection's thread)."""


class Peer:
    """One accepted WebSocket connection, for the script to answer on."""

    def __init__(self, sock: socket.socket, ws: WSConnection) -> None:
        self.sock = sock
        self.ws = ws

    def text(self, data: str, *, final: bool = True) -> None:
        """Send a text message (``final=False``: a first fragment only)."""
        self.sock.sendall(self.ws.send(TextMessage(data=data, message_finished=final)))

    def raw(self, data: bytes) -> None:
        """Send raw bytes (a broken frame)."""
        self.sock.sendall(data)

    def close(self, code: int = 1000) -> None:
        """Close the WebSocket properly."""
        self.sock.sendall(self.ws.send(CloseConnection(code=code)))

    def drop(self) -> None:
        """Close the TCP connection without a close frame."""
        self.sock.close()


class FakeWebSocketServer(contextlib.AbstractContextManager["FakeWebSocketServer"]):
    """Accepts WebSocket upgrades (or refuses them with ``refuse``, an HTTP status) and runs
    ``script`` for each message received.

    :ivar messages: every text message received, in order.
    :ivar upgrades: the target and the subprotocols of each upgrade request.
    """

    def __init__(self, script: Script, *, refuse: int = 0) -> None:
        self._script = script
        self._refuse = refuse
        self.messages: list[str] = []
        self.upgrades: list[tuple[str, list[str]]] = []
        self.peers: list[Peer] = []
        self.cond = threading.Condition()
        self._listener = Listener(self._serve)
        self.url = f"http://127.0.0.1:{self._listener.port}"

    def _serve(self, conn: socket.socket) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        peer = Peer(conn, ws)
        parts: list[str] = []
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, Request):
                        with self.cond:
                            self.upgrades.append((event.target, list(event.subprotocols)))
                            self.peers.append(peer)
                            self.cond.notify_all()
                        if self._refuse:
                            conn.sendall(ws.send(RejectConnection(status_code=self._refuse)))
                            conn.close()
                            return
                        proto = "Bearer" if event.subprotocols[:1] == ["Bearer"] else None
                        conn.sendall(ws.send(AcceptConnection(subprotocol=proto)))
                    elif isinstance(event, Message) and isinstance(event.data, str):
                        parts.append(event.data)
                        if event.message_finished:
                            text, parts = "".join(parts), []
                            with self.cond:
                                self.messages.append(text)
                                self.cond.notify_all()
                            self._script(peer, text)
                    elif isinstance(event, CloseConnection):
                        conn.close()
                        return
        except OSError:
            return

    def wait(self, pred: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``pred()`` holds (checked when a message or upgrade arrives)."""
        with self.cond:
            return self.cond.wait_for(pred, timeout)

    def close(self) -> None:
        self._listener.close()
        for peer in self.peers:
            peer.sock.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
