"""A v3 write burst from a separate process: HTTP/1.1-pipelined ``POST /v3/kv/put`` requests
over several connections (the v2 twin is :mod:`._burst`).

Run as ``python -m tests.benchmarks._burst3 URL PREFIX N CONNECTIONS``. It connects, prints
``ready``, waits for a line on stdin, sends its N writes (``PREFIX/k<i>`` = ``<i>``) and prints
one JSON line: ``{"start": t0, "end": t1, "ok": writes answered 2xx}``, with times from
:func:`time.perf_counter` (CLOCK_MONOTONIC on Linux, so comparable with the parent's clock).

A separate process keeps the writer off the benchmark process's GIL, and pipelining lets a
single core push thousands of writes/s into etcd, above what any watcher here must sustain.
"""

from __future__ import annotations

import base64
import json
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

from ._burst import _send

__all__ = ["main"]


def _requests(host: str, prefix: str, indexes: range) -> bytes:
    out = []
    for i in indexes:
        key = base64.b64encode(f"{prefix}/k{i}".encode()).decode()
        value = base64.b64encode(str(i).encode()).decode()
        body = json.dumps({"key": key, "value": value}).encode()
        out.append(
            f"POST /v3/kv/put HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return b"".join(out)


def main(argv: list[str]) -> int:
    """Entry point; see the module docstring for the arguments."""
    url, prefix, n, conns = argv[0], argv[1], int(argv[2]), int(argv[3])
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 2379
    socks = [socket.create_connection((host, port), timeout=30) for _ in range(conns)]
    payloads = [_requests(f"{host}:{port}", prefix, range(c, n, conns)) for c in range(conns)]
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
