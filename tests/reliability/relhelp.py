"""Shared helpers of the reliability campaign (tests/reliability): fake non-etcd servers,
resource counters, latency statistics, error-type checks and the ``changed`` events of a map.
(What differs between the v2 and v3 APIs is in ``tests/apis.py``.)

Not a test module (pytest does not collect it); the test modules import it by name (the
directory has no ``__init__.py``, pytest puts it on ``sys.path``).
"""

from __future__ import annotations

import gc
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any

from etcdmap import signals
from etcdmap.testing import EtcdCluster, EtcdServer

Handler = Callable[[socket.socket, bytes], None]
"""Serves one request: gets the connected socket and the request head that was read."""


class FakeServer(AbstractContextManager["FakeServer"]):
    """A tiny loopback TCP server that answers every HTTP request with ``handler``.

    Not a mock of etcd: it stands for "an endpoint that is not etcd" (HTML, garbage, silence).
    Each connection gets its own daemon thread; :meth:`close` shuts everything down.
    """

    def __init__(self, handler: Handler, *, read_request: bool = True) -> None:
        self.handler = handler
        self.read_request = read_request
        self.hits = 0
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True, name="fake-server")
        self._thread.start()

    def _accept(self) -> None:
        self._sock.settimeout(0.05)  # so close() ends this loop promptly
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while not self._stop.is_set():
                if self.read_request:
                    while b"\r\n\r\n" not in buf:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buf += data
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    length = _content_length(head)
                    while len(buf) < length:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buf += data
                    buf = buf[length:]
                else:
                    head = b""
                with self._lock:
                    self.hits += 1
                self.handler(conn, head)
                if not self.read_request:
                    return
        except OSError:
            return
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._thread.join(2)

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def http_answer(
    status: int, body: bytes, *, content_type: str = "application/json", extra: str = ""
) -> Handler:
    """A handler answering ``status`` with ``body`` (with a correct Content-Length)."""

    def handler(conn: socket.socket, head: bytes) -> None:
        conn.sendall(
            f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )

    return handler


def raw_answer(data: bytes, *, close: bool = True) -> Handler:
    """A handler sending ``data`` verbatim, then closing the connection if ``close``."""

    def handler(conn: socket.socket, head: bytes) -> None:
        conn.sendall(data)
        if close:
            conn.shutdown(socket.SHUT_WR)

    return handler


# ------------------------------------------------------------------ error checks


def assert_clean_error(exc: BaseException, allowed: tuple[type[BaseException], ...]) -> None:
    """The raised error is of an allowed (etcdmap or documented builtin) type, never a raw
    error of the layers below (socket, ssl, json, urllib3, requests) surfacing as itself."""
    assert isinstance(exc, allowed), f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    module = type(exc).__module__
    assert module == "builtins" or module.startswith("etcdmap"), f"leaked {module}: {exc!r}"
    assert str(exc), f"{type(exc).__name__} without a message"


# ------------------------------------------------------------------ resources


def open_fds() -> int:
    """Open file descriptors of this process (Linux ``/proc``)."""
    return len(os.listdir("/proc/self/fd"))


def open_sockets() -> int:
    """Open sockets of this process (fds that are sockets)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def rss_bytes() -> int:
    """Resident set size of this process."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def settle_threads(baseline: int, timeout: float = 5.0) -> int:
    """Wait (bounded) for threads that are ending to end; returns the live thread count."""
    deadline = time.monotonic() + timeout
    while threading.active_count() > baseline and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)  # poll interval
    return threading.active_count()


# ------------------------------------------------------------------ statistics


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, int(round(pct / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def report(name: str, **numbers: object) -> None:
    """Print measured numbers (shown with ``pytest -s``; collected for guarantees.rst)."""
    text = " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in numbers.items())
    print(f"\n[reliability] {name}: {text}")


# ------------------------------------------------------------------ cluster helpers

HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
"""The loopback addresses of the ``spread_cluster`` fixture's members (conftest.py)."""


@contextmanager
def restored(cluster: EtcdCluster) -> Iterator[EtcdCluster]:
    """Give the cluster back healthy (stopped members continued, dead ones restarted)."""
    try:
        yield cluster
    finally:
        cluster.ensure_healthy()


def by_url(cluster: EtcdCluster) -> dict[str, EtcdServer]:
    """The cluster's members by client URL (what ``transport.pinned`` returns)."""
    return {m.client_url: m for m in cluster.members}


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)  # poll interval


# ------------------------------------------------------------------ events


class Seen:
    """The ``changed`` events of one sender (a map), as ``(key, value)``, in arrival order.

    Thread-safe (events come from the watch's thread); :meth:`close` disconnects.
    """

    def __init__(self, sender: object) -> None:
        self._items: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._sender = sender
        signals.changed.connect(self.receive, sender=sender)

    def receive(self, sender: object, **event: Any) -> None:
        with self._lock:
            self._items.append((event["key"], event["value"]))

    @property
    def items(self) -> list[tuple[str, Any]]:
        """A copy of the events received so far."""
        with self._lock:
            return list(self._items)

    def close(self) -> None:
        signals.changed.disconnect(self.receive, sender=self._sender)
