"""A counting TCP relay on loopback, run as a separate process (its threads and sockets are not
the client's): ``python -m tests.benchmarks._relay <upstream host> <upstream port>``.

It prints its listening port on the first line, then relays every connection to the upstream
and counts new connections and HTTP requests (request lines seen in client-to-server bytes).
Each line read on stdin is answered with ``<connections> <requests> <open>``; EOF stops it.
One thread, one selector.
"""

from __future__ import annotations

import os
import resource
import selectors
import socket
import sys
import threading

_RECV = 65536


class Relay:
    """The relay state (one selector thread)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.sel = selectors.DefaultSelector()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1024)
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self.connections = 0
        self.requests = 0
        self.open = 0
        self.lock = threading.Lock()
        self.tail: dict[socket.socket, bytes] = {}

    def accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except BlockingIOError:
            return
        server = socket.create_connection(self.upstream)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
        self.sel.register(client, selectors.EVENT_READ, (server, True))
        self.sel.register(server, selectors.EVENT_READ, (client, False))
        with self.lock:
            self.connections += 1
            self.open += 1

    def pump(self, sock: socket.socket, peer: socket.socket, upstream: bool) -> None:
        try:
            data = sock.recv(_RECV)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close(sock, peer)
            return
        if upstream:  # count request lines (the tail keeps a line split across reads)
            text = self.tail.get(sock, b"") + data
            with self.lock:
                self.requests += text.count(b" HTTP/1.1\r\n")
            self.tail[sock] = text[-16:]
        try:
            peer.setblocking(True)
            peer.sendall(data)
            peer.setblocking(False)
        except OSError:
            self.close(sock, peer)

    def close(self, sock: socket.socket, peer: socket.socket) -> None:
        for s in (sock, peer):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                continue
            self.tail.pop(s, None)
            s.close()
        with self.lock:
            self.open -= 1

    def run(self) -> None:
        while True:
            for key, _ in self.sel.select():
                if key.data is None:
                    self.accept()
                else:
                    peer, upstream = key.data
                    self.pump(key.fileobj, peer, upstream)  # type: ignore[arg-type]


def main() -> None:
    """Start the relay, print its port, answer stats requests on stdin until EOF."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    relay = Relay((sys.argv[1], int(sys.argv[2])))
    print(relay.listener.getsockname()[1], flush=True)
    threading.Thread(target=relay.run, daemon=True).start()
    for _ in sys.stdin:
        with relay.lock:
            print(relay.connections, relay.requests, relay.open, flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
