"""A write burst from a separate process: HTTP/1.1-pipelined PUTs over several connections.

Run as ``python -m tests.benchmarks._burst URL PREFIX N CONNECTIONS``. It connects, prints
``ready``, waits for a line on stdin, sends its N writes (``PREFIX/k<i>`` = ``<i>``) and prints
one JSON line: ``{"start": t0, "end": t1, "ok": writes answered 2xx}``, with times from
:func:`time.perf_counter` (CLOCK_MONOTONIC on Linux, so comparable with the parent's clock).

A separate process keeps the writer off the benchmark process's GIL, and pipelining lets a
single core push ~10,000 writes/s into etcd, well above what any watcher here must sustain.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import quote, urlsplit

__all__ = ["main"]


def _requests(host: str, prefix: str, indexes: range) -> bytes:
    out = []
    for i in indexes:
        body = f"value={i}".encode()
        out.append(
            f"PUT /v2/keys{quote(prefix)}/k{i} HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return b"".join(out)


def _send(sock: socket.socket, payload: bytes, want: int, ok: list[int]) -> None:
    sock.sendall(payload)
    seen = good = 0
    tail = b""
    while seen < want:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        data = tail + chunk
        seen += data.count(b"HTTP/1.1 ")
        good += data.count(b"HTTP/1.1 20")
        tail = data[-10:]
    ok.append(good)


def main(argv: list[str]) -> int:
    """Entry point; see the module docstring for the arguments."""
    return run(argv, _requests)


def run(argv: list[str], build: Callable[[str, str, range], bytes]) -> int:
    """Connect, print ``ready``, wait for stdin, send the pipelined writes ``build`` makes for
    each connection's share of the indexes, print the JSON result line."""
    url, prefix, n, conns = argv[0], argv[1], int(argv[2]), int(argv[3])
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 2379
    socks = [socket.create_connection((host, port), timeout=30) for _ in range(conns)]
    payloads = [build(f"{host}:{port}", prefix, range(c, n, conns)) for c in range(conns)]
    ok: list[int] = []
    threads = [
        threading.Thread(target=_send, args=(s, p, len(range(c, n, conns)), ok), daemon=True)
        for c, (s, p) in enumerate(zip(socks, payloads, strict=True))
    ]
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    end = time.perf_counter()
    for s in socks:
        s.close()
    print(json.dumps({"start": start, "end": end, "ok": sum(ok)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
