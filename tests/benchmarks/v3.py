"""The v3 workloads: GET, PUT and CAS (1 thread) per v3 contender, and a 2,000-put burst under
a prefix watch.

The key/value rows run every contender on the same server in the same run, interleaved round
by round (:func:`~._harness.round_robin`); each ``etcdmap.v3`` row's note gives its rate over
every other contender's. The burst comes from a separate process (:mod:`._burst3`, pipelined
``POST /v3/kv/put`` over 32 connections); a contender's watch starts at the revision before
the burst and must report every key: missed = N - distinct keys delivered, events/s =
delivered / (last delivery - start of the burst). That live rate is paced by the writer;
"replay" is a second, new watch of the same burst from history: the watcher's own pace.

- ``etcdmap.v3``: :class:`etcdmap.v3.Watcher` (``client.watch(prefix, prefix=True,
  start_revision=...)``), iterated in a thread.
- ``cslab-etcd3``: ``watch_prefix(prefix, start_revision=...)`` (a gRPC stream).
- ``etcd3gw``: ``watch_prefix(prefix, start_revision=...)`` (the gateway's stream).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ._harness import Result, round_robin
from .contenders import KV
from .contenders_v3 import CslabEtcd3KV, Etcd3gwKV, EtcdmapV3KV, GatewayFloorKV, HttpClientV3KV
from .kv import KEYS, VALUE
from .watch import Recorder

__all__ = ["run_v3_kv", "run_v3_watch"]

REPO = Path(__file__).resolve().parents[2]
ETCDMAP_V3 = "etcdmap.v3"


def _k(root: str, kv: KV, family: str, i: int) -> str:
    return f"{root}/v3/{kv.name}/{family}/k{i % KEYS}"


def _annotate(results: list[Result]) -> None:
    """Note on each etcdmap.v3 row its rate over every other contender's (same workload)."""
    by_wl: dict[str, dict[str, Result]] = {}
    for r in results:
        by_wl.setdefault(r.workload, {})[r.contender] = r
    for group in by_wl.values():
        em = group.get(ETCDMAP_V3)
        if em is None:
            continue
        em.note = ", ".join(
            f"{em.rate / other.rate:.2f}x {name}"
            for name, other in group.items() if other is not em and other.rate > 0
        )
        for name, other in group.items():
            if other is not em and other.rate > 0:
                em.extra[f"x_{name}"] = round(em.rate / other.rate, 3)


def run_v3_kv(contenders: Sequence[KV], root: str, *, rounds: int, ops: int) -> list[Result]:
    """GET, PUT and CAS from one thread; each contender's keys are prepared first (not timed)."""
    for kv in contenders:
        for i in range(KEYS):
            kv.put(_k(root, kv, "get", i), VALUE)
        kv.put(_k(root, kv, "cas", 0), "0")

    def getter(kv: KV) -> Callable[[int], object]:
        keys = [_k(root, kv, "get", i) for i in range(KEYS)]
        get = kv.get
        return lambda i: get(keys[i % KEYS])

    def putter(kv: KV) -> Callable[[int], object]:
        keys = [_k(root, kv, "put", i) for i in range(KEYS)]
        put = kv.put
        return lambda i: put(keys[i % KEYS], VALUE)

    def swapper(kv: KV) -> Callable[[int], object]:
        key = _k(root, kv, "cas", 0)
        cas = kv.cas
        return lambda i: cas(key, str(i + 1), str(i))  # contiguous i per contender

    results: list[Result] = []
    for label, make in (("v3 GET 1 thread", getter), ("v3 PUT 1 thread", putter),
                        ("v3 CAS 1 thread", swapper)):
        results += round_robin(label, [(kv.name, make(kv)) for kv in contenders],
                               rounds=rounds, ops=ops)
    _annotate(results)
    return results


# ---------------------------------------------------------------------- the burst


def _events(kv: KV, prefix: str, start: int) -> tuple[Iterator[str], Callable[[], None]]:
    """The keys of the changes under ``prefix`` from revision ``start`` on, and a stop function."""
    if isinstance(kv, EtcdmapV3KV):
        watcher = kv.client.watch(prefix, prefix=True, start_revision=start)
        return (ev.kv.key_text for ev in watcher), watcher.close
    if isinstance(kv, CslabEtcd3KV):
        events, cancel = kv.client.watch_prefix(prefix, start_revision=start)
        return (ev.key.decode() for ev in events), cancel
    assert isinstance(kv, Etcd3gwKV)
    gw_events, gw_cancel = kv.client.watch_prefix(prefix, start_revision=start)
    return (_text(ev["kv"]["key"]) for ev in gw_events), gw_cancel


def _text(key: Any) -> str:
    return key.decode() if isinstance(key, bytes) else str(key)


def _one(kv: KV, raw: HttpClientV3KV, url: str, prefix: str, burst: int) -> dict[str, float]:
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks._burst3", url, f"{prefix}/b", str(burst), "32"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert writer.stdout is not None and writer.stdin is not None
    rec = Recorder()
    start = int(raw.call("/v3/kv/range", {"key": "AA=="})["header"]["revision"]) + 1
    keys, stop = _events(kv, prefix, start)

    def consume() -> None:
        try:
            for key in keys:
                rec.hit(key)
        except Exception:  # stopped from outside: the iteration may end in an error
            return

    thread = threading.Thread(target=consume, daemon=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        thread.start()
        raw.put(f"{prefix}/ready", "1")
        rec.wait_for(lambda: f"{prefix}/ready" in rec.seen, idle=10, cap=10)
        if f"{prefix}/ready" not in rec.seen:
            raise RuntimeError(f"{kv.name}: the watch never saw the sentinel write")
        writer.stdin.write("go\n")
        writer.stdin.flush()
        done = json.loads(writer.stdout.readline())
        wanted = {f"{prefix}/b/k{i}" for i in range(burst)}
        rec.wait_for(lambda: wanted <= rec.seen.keys(), idle=1.5, cap=30)
    finally:
        stop()
        raw.put(f"{prefix}/stop", "1")  # wakes an iterator blocked on the next event
        thread.join(5)
        writer.wait(10)
    with rec.lock:
        times = [t for k, t in rec.seen.items() if k in wanted]
    span = (max(times) - done["start"]) if times else float("inf")
    return {
        "replay": _replay(kv, prefix, start, wanted),
        "missed": burst - len(times),
        "rate": len(times) / span,
        "writes_per_s": done["ok"] / (done["end"] - done["start"]),
        "lag_ms": max(0.0, (max(times) - done["end"]) * 1e3) if times else float("inf"),
    }


def _replay(kv: KV, prefix: str, start: int, wanted: set[str]) -> float:
    """Events/s of a new watch replaying the burst from history (the watcher's own pace:
    the live burst is paced by the writer)."""
    rec = Recorder()
    keys, stop = _events(kv, prefix, start)
    began = time.perf_counter()

    def consume() -> None:
        try:
            for key in keys:
                rec.hit(key)
        except Exception:  # stopped from outside
            return

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    rec.wait_for(lambda: wanted <= rec.seen.keys(), idle=1.5, cap=30)
    with rec.lock:
        times = [t for k, t in rec.seen.items() if k in wanted]
    stop()
    thread.join(5)
    return len(times) / (max(times) - began) if times else 0.0


def run_v3_watch(
    contenders: Sequence[KV], url: str, root: str, *, rounds: int, burst: int = 2000
) -> list[Result]:
    """The burst ``rounds`` times per watching contender, round-robin; medians, worst loss."""
    watchers = [kv for kv in contenders if not isinstance(kv, (HttpClientV3KV, GatewayFloorKV))]
    raw = HttpClientV3KV(url)
    runs: dict[str, list[dict[str, float]]] = {kv.name: [] for kv in watchers}
    try:
        for r in range(rounds):
            for kv in [*watchers[r % len(watchers):], *watchers[: r % len(watchers)]]:
                runs[kv.name].append(_one(kv, raw, url, f"{root}/v3watch/{kv.name}/r{r}", burst))
    finally:
        raw.close()
    results = []
    for kv in watchers:
        got = runs[kv.name]
        worst = max(x["missed"] for x in got)
        results.append(Result(
            f"v3 watch {burst:,}-put burst", kv.name,
            statistics.median(x["rate"] for x in got), "events/s",
            note=f"missed {worst:.0f}/{burst}, "
            f"replay {statistics.median(x['replay'] for x in got):,.0f} events/s, "
            f"writer {statistics.median(x['writes_per_s'] for x in got):,.0f} w/s, "
            f"lag {statistics.median(x['lag_ms'] for x in got):,.0f} ms",
            rounds=[round(x["rate"], 1) for x in got],
            extra={"missed_worst": worst, "lag_ms": statistics.median(x["lag_ms"] for x in got),
                   "replay_per_s": statistics.median(x["replay"] for x in got)},
        ))
    return results
