"""A scripted loopback HTTP peer for the HTTP-layer unit tests (answers etcd never sends).

Not a mock of etcd: each request read from any connection gets the next scripted answer,
raw bytes written as they are (malformed framing included). It records what arrived.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable, Iterable

from loopback import Listener

CLOSE = b"<close>"
"""Scripted answer: close the connection instead of answering."""
Answer = bytes | Callable[[socket.socket], None]


def ok(body: bytes = b"ok", extra: bytes = b"") -> bytes:
    """A 200 with a ``Content-Length`` body (``extra`` headers as raw lines)."""
    return b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (extra, len(body), body)


class ScriptedServer(contextlib.AbstractContextManager["ScriptedServer"]):
    """Answers the n-th request (over all connections) with the n-th scripted answer.

    :ivar requests: ``(connection number, raw head, body)`` of each request, in order.
    :ivar connections: how many connections were accepted.
    """

    def __init__(self, answers: Iterable[Answer], context: ssl.SSLContext | None = None) -> None:
        self._context = context
        self._answers: deque[Answer] = deque(answers)
        self.requests: list[tuple[int, bytes, bytes]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._listener = Listener(self._accepted)
        self.port = self._listener.port
        self.url = f"{'https' if context else 'http'}://127.0.0.1:{self.port}"

    def _accepted(self, conn: socket.socket) -> None:
        with self._lock:
            number = self.connections
            self.connections += 1
            self._socks.append(conn)
        self._serve(conn, number)

    def _serve(self, conn: socket.socket, number: int) -> None:
        buf = b""
        try:
            if self._context is not None:
                conn = self._context.wrap_socket(conn, server_side=True)
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buf) < length:
                    buf += conn.recv(65536)
                body, buf = buf[:length], buf[length:]
                with self._lock:
                    self.requests.append((number, head, body))
                    answer = self._answers.popleft() if self._answers else CLOSE
                if answer == CLOSE:
                    return
                if callable(answer):
                    answer(conn)
                else:
                    conn.sendall(answer)
        except OSError:
            return
        finally:
            conn.close()

    @property
    def targets(self) -> list[str]:
        """The request line of each request received."""
        return [head.split(b"\r\n", 1)[0].decode("latin-1") for _, head, _ in self.requests]

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self._listener.close()
        with self._lock:
            for sock in self._socks:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
