"""Watches at scale (issue 15): what many watches of one client cost while idle and under load.

The client's endpoint is a counting TCP relay (:mod:`._relay`, a separate process) in front
of etcd, which counts new connections and HTTP requests. Workloads:

- ``idle 100`` / ``idle 1000``: that many ``m.watch()`` on one client, each on its own
  directory; once all are live, a quiet window is measured: client threads (the process's
  threads minus the baseline), new connections/s, requests/s, fds, RSS. One socket per watched
  directory is inherent to v2 (one ``stream=true`` answer each).
- ``100 maps x 20 writes``: every event delivered (signals counted), events/s.
- ``blocked receiver``: a receiver of one map blocks 2 s; another map's delivery delay.
- ``SIGSTOP`` (3 members): 100 watches on the frozen member; the time until every watch reads
  from another member, compared with ``request_timeout + idle_timeout``.
- ``partition`` (3 members, root + nft): how long a mirror on a member cut off from its peers
  stays stale.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ._harness import Result

__all__ = ["run_hub"]

IDLE_WINDOW = 5.0
REPO = Path(__file__).resolve().parents[2]


class RelayProcess:
    """The counting relay (:mod:`._relay`) in a child process."""

    def __init__(self, upstream_url: str) -> None:
        host_port = upstream_url.split("://", 1)[1].rstrip("/")
        host, port = host_port.rsplit(":", 1)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks._relay", host, port],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def counts(self) -> tuple[int, int, int]:
        """``(connections, requests, open connections)`` so far."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        conns, reqs, open_ = self.proc.stdout.readline().split()
        return int(conns), int(reqs), int(open_)

    def close(self) -> None:
        with suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        self.proc.wait(5)


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def live(watches: list[Any], cap: float = 60.0) -> None:
    """Wait until every watch's stream is open (bounded)."""
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        if all(w.state == "live" and w.endpoint for w in watches):
            return
        time.sleep(0.05)  # poll interval
    raise RuntimeError("the watches did not all go live")


@contextmanager
def _watches(client: Any, root: str, n: int) -> Iterator[list[Any]]:
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415

    watches = [EtcdMap(client, f"{root}/d{i}").watch() for i in range(n)]
    try:
        yield watches
    finally:
        for w in watches:
            w.stop()


def _idle(url: str, root: str, n: int) -> Result:
    from etcdmap.v2.client import Client  # noqa: PLC0415

    relay = RelayProcess(url)
    threads0, fds0, rss0 = threading.active_count(), _fds(), _rss_mb()
    try:
        with Client(relay.url) as client, _watches(client, f"{root}/idle{n}", n) as watches:
            started = time.monotonic()
            live(watches)
            ready = time.monotonic() - started
            time.sleep(1.0)  # let the start-up traffic end
            c0, r0, _ = relay.counts()
            time.sleep(IDLE_WINDOW)  # the measured quiet window
            c1, r1, open_ = relay.counts()
            threads = threading.active_count() - threads0
            fds, rss = _fds() - fds0, _rss_mb() - rss0
    finally:
        relay.close()
    conns_s, reqs_s = (c1 - c0) / IDLE_WINDOW, (r1 - r0) / IDLE_WINDOW
    res = Result(f"idle {n} watches, 1 client", "etcdmap", reqs_s, "requests/s", ratios=False)
    res.extra = {"threads": threads, "new_connections_per_s": conns_s, "requests_per_s": reqs_s,
                 "fds": fds, "rss_mb": round(rss, 1), "open_connections": open_,
                 "start_s": round(ready, 2)}
    res.note = (f"threads +{threads}, new conns {conns_s:.2f}/s, requests {reqs_s:.2f}/s, "
                f"fds +{fds}, RSS +{rss:.1f} MB, {open_} relayed connections, live in {ready:.1f} s")
    return res


def deliver_burst(client: Any, put: Callable[[str], object], root: str, maps: int,
                  writes: int) -> tuple[int, float, str]:
    """Watch ``maps`` maps below ``root`` on ``client``, write ``writes`` keys in each with
    ``put`` from 8 threads, wait (30 s at most) for every event.

    :returns: events delivered, events/s from the first write to the last event, watch mode.
    """
    from etcdmap import signals  # noqa: PLC0415
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415

    got: set[str] = set()
    lock = threading.Condition()
    last = [0.0]

    def on_changed(_sender: object, **kw: Any) -> None:
        with lock:
            got.add(kw["path"])
            last[0] = time.perf_counter()
            lock.notify_all()

    emaps = [EtcdMap(client, f"{root}/d{i}") for i in range(maps)]
    for m in emaps:
        signals.changed.connect(on_changed, sender=m)
    watches = [m.watch() for m in emaps]
    try:
        live(watches)
        keys = [f"{root}/d{i}/k{j}" for j in range(writes) for i in range(maps)]
        start = time.perf_counter()
        threads = [threading.Thread(target=lambda p=keys[i::8]: [put(k) for k in p])
                   for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        with lock:
            lock.wait_for(lambda: len(got) >= maps * writes, 30)
        delivered, mode = len(got), watches[0].mode
    finally:
        for w in watches:
            w.stop()
        for m in emaps:
            signals.changed.disconnect(on_changed, sender=m)
    return delivered, delivered / max(last[0] - start, 1e-9), mode


def _burst(url: str, root: str, maps: int = 100, writes: int = 20) -> Result:
    from etcdmap.v2.client import Client  # noqa: PLC0415

    total = maps * writes
    with Client(url) as client, Client(url) as writer:
        delivered, rate, _ = deliver_burst(client, lambda k: writer.keys.set(k, "v"),
                                           f"{root}/burst", maps, writes)
    res = Result(f"{maps} maps x {writes} writes", "etcdmap", rate, "events/s", ratios=False)
    res.extra = {"delivered": delivered, "missed": total - delivered}
    res.note = f"delivered {delivered}/{total} (writer: 8 threads, one client)"
    return res


def _blocked(url: str, root: str) -> Result:
    from etcdmap import signals  # noqa: PLC0415
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415
    from etcdmap.v2.client import Client  # noqa: PLC0415

    with Client(url) as client:
        slow, fast = EtcdMap(client, f"{root}/slow"), EtcdMap(client, f"{root}/fast")
        arrived = threading.Event()
        blocking = threading.Event()

        def block(_sender: object, **kw: Any) -> None:
            blocking.set()
            time.sleep(2.0)  # the blocked receiver of the measured case

        def on_fast(_sender: object, **kw: Any) -> None:
            arrived.set()

        signals.changed.connect(block, sender=slow)
        signals.changed.connect(on_fast, sender=fast)
        try:
            with slow.watch() as ws, fast.watch() as wf:
                live([ws, wf])
                slow["x"] = "1"
                assert blocking.wait(5), "the slow receiver was not called"
                start = time.perf_counter()
                fast["y"] = "1"
                assert arrived.wait(5), "the other map's event never came"
                delay = time.perf_counter() - start
        finally:
            signals.changed.disconnect(block, sender=slow)
            signals.changed.disconnect(on_fast, sender=fast)
    res = Result("blocked receiver (2 s) on another map", "etcdmap", 1 / delay, "/s",
                 p50_ms=delay * 1e3, ratios=False)
    res.extra = {"delay_ms": delay * 1e3}
    res.note = f"the other map's event arrived {delay * 1e3:.1f} ms after its write"
    return res


def run_hub(url: str, root: str, *, quick: bool) -> list[Result]:
    """The single-member workloads (idle 100 / 1,000, burst, blocked receiver)."""
    results = [_idle(url, root, 100)]
    results.append(_idle(url, root, 300 if quick else 1000))
    results.append(_burst(url, root))
    results.append(_blocked(url, root))
    return results
