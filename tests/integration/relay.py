"""A loopback TCP relay to one etcd for the integration tests: it records the request lines
that pass, and can hold back the requests that open a watch stream until the test lets them
go (a stream that opens late, while the rest of the client works)."""

from __future__ import annotations

import socket
import threading

from loopback import Listener


class Relay:
    """Relays every connection to ``upstream`` (as a forward proxy too: the bytes are relayed
    as they are).

    :param upstream: etcd's client URL (``http://host:port``).
    :param hold: request starts (``b"GET /v3/watch"``) held back until :attr:`gate` is set.
    :ivar first_lines: the ``GET`` and ``PUT`` request lines that passed, in order.
    :ivar held: set once a request was held back.

    Thread-safe: its threads only append and set events.
    """

    def __init__(self, upstream: str, *, hold: tuple[bytes, ...] = ()) -> None:
        host, port = upstream.removeprefix("http://").rsplit(":", 1)
        self.upstream = (host, int(port))
        self.hold = hold
        self.first_lines: list[bytes] = []
        self.gate = threading.Event()
        self.held = threading.Event()
        self._listener = Listener(self._relay)
        self.url = f"http://127.0.0.1:{self._listener.port}"

    def _relay(self, client: socket.socket) -> None:
        server = socket.create_connection(self.upstream)
        threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()
        self._pump(client, server, True)

    def _pump(self, src: socket.socket, dst: socket.socket, requests: bool) -> None:
        try:
            while data := src.recv(65536):
                if requests:
                    self.first_lines.extend(line for line in data.split(b"\r\n")
                                            if line.startswith((b"GET ", b"PUT ")))
                    if self.hold and data.startswith(self.hold) and not self.gate.is_set():
                        self.held.set()
                        self.gate.wait(10)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            src.close()
            dst.close()

    def close(self) -> None:
        """Stop accepting (and let anything held go)."""
        self.gate.set()
        self._listener.close()
