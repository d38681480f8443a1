"""Watch throughput and loss: a 2,000-write burst under a recursive watch.

Per contender and round: start the watch on a fresh prefix, prove it is live (a sentinel
write must arrive), then a separate process (:mod:`._burst`) pipelines N writes into etcd at
~10,000/s. Delivered = distinct burst keys the watcher reported; missed = N - delivered;
events/s = delivered / (time of the last delivery - start of the burst).

- etcdmap: ``EtcdMap.watch(recursive=True)`` and the ``etcdmap.signals`` it sends.
- python-etcd: the documented loop, ``client.watch(prefix, index=i, recursive=True)`` and
  ``i = modifiedIndex + 1``; on ``EtcdEventIndexCleared`` (etcd kept only the last 1,000
  events) it re-reads the index and goes on, which loses the events in between.
- http.client: the same long-poll loop on a raw kept-alive connection.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ._harness import Result
from .contenders import KV, EtcdmapKV, HttpClientKV, PythonEtcdKV

__all__ = ["run_watch"]

REPO = Path(__file__).resolve().parents[2]


class Recorder:
    """Thread-safe record of first-delivery times per key."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.resyncs = 0

    def hit(self, key: str) -> None:
        now = time.perf_counter()
        with self.lock:
            self.seen.setdefault(key, now)
            self.changed.notify_all()

    def wait_for(self, pred: Callable[[], bool], *, idle: float, cap: float) -> None:
        """Wait until ``pred()`` holds, no event came for ``idle`` s, or ``cap`` s passed."""
        deadline = time.monotonic() + cap
        with self.lock:
            count = -1
            while not pred() and time.monotonic() < deadline:
                if len(self.seen) == count:
                    return
                count = len(self.seen)
                self.changed.wait(idle)


class Consumer:
    """One contender's watcher, run until :meth:`stop`."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, prefix: str, index: int) -> None:
        self.thread = threading.Thread(target=self.loop, args=(prefix, index), daemon=True)
        self.thread.start()

    def loop(self, prefix: str, index: int) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(5)


class HttpClientConsumer(Consumer):
    def __init__(self, rec: Recorder, kv: HttpClientKV) -> None:
        super().__init__(rec)
        self.kv = HttpClientKV(f"http://{kv._host}:{kv._port}")

    def loop(self, prefix: str, index: int) -> None:
        base = f"/v2/keys{quote(prefix)}?wait=true&recursive=true&waitIndex="
        try:
            while not self.stopping.is_set():
                try:
                    status, body = self.kv.request("GET", base + str(index))
                except TimeoutError:
                    self.kv.close()
                    continue
                if not body:
                    continue  # empty 200: the server ended the poll, poll again
                doc = json.loads(body)
                if status == 400 and doc.get("errorCode") == 401:
                    self.rec.resyncs += 1
                    index = int(doc["index"]) + 1
                    continue
                node = doc["node"]
                self.rec.hit(node["key"])
                index = node["modifiedIndex"] + 1
        finally:
            self.kv.close()


class PythonEtcdConsumer(Consumer):
    def __init__(self, rec: Recorder, kv: PythonEtcdKV) -> None:
        super().__init__(rec)
        self.kv = kv

    def loop(self, prefix: str, index: int) -> None:
        etcd, client = self.kv.etcd, self.kv.client
        while not self.stopping.is_set():
            try:
                r = client.watch(prefix, index=index, recursive=True, timeout=1)
            except etcd.EtcdWatchTimedOut:
                continue
            except etcd.EtcdEventIndexCleared:
                self.rec.resyncs += 1
                index = client.read(prefix).etcd_index + 1
                continue
            self.rec.hit(r.key)
            index = r.modifiedIndex + 1


class EtcdmapConsumer(Consumer):
    """``EtcdMap.watch()`` feeding ``etcdmap.signals.changed`` (and counting ``resynced``)."""

    def __init__(self, rec: Recorder, kv: EtcdmapKV) -> None:
        super().__init__(rec)
        self.kv = kv
        self.ctx: Any = None

    def start(self, prefix: str, index: int) -> None:
        from etcdmap import signals  # noqa: PLC0415
        from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415

        m = EtcdMap(self.kv.client, prefix)
        self.signals = signals
        self.map = m

        def on_changed(sender: object, **kw: Any) -> None:
            self.rec.hit(kw["path"])

        def on_resynced(sender: object, **kw: Any) -> None:
            self.rec.resyncs += 1

        self.receivers = (on_changed, on_resynced)
        signals.changed.connect(on_changed, sender=m)
        signals.resynced.connect(on_resynced, sender=m)
        self.ctx = m.watch(recursive=True)
        self.ctx.__enter__()

    def stop(self) -> None:
        if self.ctx is not None:
            self.ctx.__exit__(None, None, None)
        self.signals.changed.disconnect(self.receivers[0], sender=self.map)
        self.signals.resynced.disconnect(self.receivers[1], sender=self.map)


def _consumer(kv: KV, rec: Recorder) -> Consumer:
    if isinstance(kv, EtcdmapKV):
        return EtcdmapConsumer(rec, kv)
    if isinstance(kv, PythonEtcdKV):
        return PythonEtcdConsumer(rec, kv)
    assert isinstance(kv, HttpClientKV)
    return HttpClientConsumer(rec, kv)


def _one(kv: KV, url: str, prefix: str, burst: int, conns: int) -> dict[str, float]:
    raw = HttpClientKV(url)
    index = _index(raw)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.benchmarks._burst",
            url,
            f"{prefix}/b",
            str(burst),
            str(conns),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdin is not None
    rec = Recorder()
    consumer = _consumer(kv, rec)
    try:
        assert writer.stdout.readline().strip() == "ready"
        consumer.start(prefix, index + 1)
        raw.put(f"{prefix}/ready", "1")
        rec.wait_for(lambda: f"{prefix}/ready" in rec.seen, idle=10, cap=10)
        if f"{prefix}/ready" not in rec.seen:
            raise RuntimeError(f"{kv.name}: the watch never saw the sentinel write")
        writer.stdin.write("go\n")
        writer.stdin.flush()
        done = json.loads(writer.stdout.readline())
        keys = {f"{prefix}/b/k{i}" for i in range(burst)}
        rec.wait_for(lambda: keys <= rec.seen.keys(), idle=1.5, cap=30)
    finally:
        consumer.stopping.set()
        raw.put(f"{prefix}/stop", "1")  # wakes a long poll waiting for the next event
        consumer.stop()
        writer.wait(10)
        raw.close()
    with rec.lock:
        times = [t for k, t in rec.seen.items() if k in keys]
    delivered = len(times)
    span = (max(times) - done["start"]) if times else float("inf")
    lag = (max(times) - done["end"]) if times else float("inf")
    return {
        "lag_ms": max(0.0, lag * 1e3),
        "delivered": delivered,
        "missed": burst - delivered,
        "rate": delivered / span,
        "writes_per_s": done["ok"] / (done["end"] - done["start"]),
        "resyncs": rec.resyncs,
    }


def _index(raw: HttpClientKV) -> int:
    conn = raw._conn()
    conn.request("GET", "/v2/keys/")
    resp = conn.getresponse()
    resp.read()
    return int(resp.getheader("X-Etcd-Index", "0"))


def run_watch(
    contenders: list[KV],
    url: str,
    root: str,
    *,
    rounds: int,
    burst: int = 2000,
    conns: int = 32,
) -> list[Result]:
    """Run the burst ``rounds`` times per contender, round-robin; report medians, worst loss."""
    runs: dict[str, list[dict[str, float]]] = {kv.name: [] for kv in contenders}
    for r in range(rounds):
        order = [*contenders[r % len(contenders) :], *contenders[: r % len(contenders)]]
        for kv in order:
            runs[kv.name].append(_one(kv, url, f"{root}/watch/{kv.name}/r{r}", burst, conns))
    results = []
    for kv in contenders:
        got = runs[kv.name]
        worst = max(x["missed"] for x in got)
        res = Result(
            f"watch {burst:,}-write burst",
            kv.name,
            statistics.median(x["rate"] for x in got),
            "events/s",
            note=f"missed {worst:.0f}/{burst}, "
            f"resyncs {max(x['resyncs'] for x in got):.0f}, "
            f"writer {statistics.median(x['writes_per_s'] for x in got):,.0f} w/s, "
            f"lag {statistics.median(x['lag_ms'] for x in got):,.0f} ms",
            rounds=[round(x["rate"], 1) for x in got],
            extra={
                "missed_worst": worst,
                "missed_total": sum(x["missed"] for x in got),
                "writer_per_s": statistics.median(x["writes_per_s"] for x in got),
                "lag_ms": statistics.median(x["lag_ms"] for x in got),
            },
        )
        results.append(res)
    return results
