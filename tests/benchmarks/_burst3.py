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
import sys

from ._burst import run

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
    return run(argv, _requests)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
