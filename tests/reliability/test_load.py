"""Load: 16 threads sharing one Client, and a mirror over 10,000 keys under steady writes.

What it proves: no error, no deadlock, no leaked threads or sockets, flat memory; the mirror
equals the store at the end. The soak lasts ``$ETCDMAP_SOAK_SECONDS`` (default 10 s, the
campaign's budget; the issue asked for 20 s: set it to 20 for the long run).
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from relhelp import open_fds, open_sockets, report, rss_bytes, settle_threads

from etcdmap.errors import KeyNotFound
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client

pytestmark = pytest.mark.slow

SOAK = float(os.environ.get("ETCDMAP_SOAK_SECONDS", "10"))
THREADS = 16
MiB = 1024 * 1024


def _worker(c: Client, prefix: str, t: int, until: float, counts: list[int]) -> None:
    emap = EtcdMap(c, f"{prefix}/t{t}")
    shared = EtcdMap(c, f"{prefix}/shared")
    rng = random.Random(t)
    emap["cas"] = "0"
    n = 0
    while time.monotonic() < until:
        op = rng.randrange(6)
        key = f"k{rng.randrange(20)}"
        if op == 0:
            emap[key] = str(n)
        elif op == 1:
            with contextlib.suppress(KeyNotFound):
                emap[key]
        elif op == 2:
            current = emap["cas"]
            assert emap.compare_and_swap("cas", str(int(current) + 1), prev_value=current)
        elif op == 3:
            shared.setdefault(key, str(t))  # contended atomic create
        elif op == 4:
            c.keys.get(f"{prefix}/t{t}", quorum=True, recursive=True)
        else:
            if emap.pop(key, None) is not None:
                emap[key] = "again"
        n += 1
    counts[t] = n


def test_sixteen_threads_share_one_client(etcd_url: str, etcd_prefix: str) -> None:
    threads_before = threading.active_count()
    sockets_before, fds_before = open_sockets(), open_fds()
    counts = [0] * THREADS
    with Client(etcd_url, timeout=10.0) as c:
        # Warm up (pools, caches, code paths) before the memory baseline.
        warm = time.monotonic() + min(2.0, SOAK / 5)
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda t: _worker(c, etcd_prefix + "/warm", t, warm, counts),
                          range(THREADS)))
        rss_before = rss_bytes()
        started = time.monotonic()
        until = started + SOAK
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [
                pool.submit(_worker, c, etcd_prefix, t, until, counts) for t in range(THREADS)
            ]
            for future in futures:
                future.result(timeout=SOAK + 30)  # a deadlock fails here; errors re-raise
        elapsed = time.monotonic() - started
        sockets_during = open_sockets() - sockets_before
        rss_growth = rss_bytes() - rss_before
        for t in range(THREADS):
            assert EtcdMap(c, f"{etcd_prefix}/t{t}")["cas"].isdigit()
    threads_after = settle_threads(threads_before)
    total = sum(counts)
    report(
        f"{THREADS} threads x {SOAK:g} s on one Client", ops=total, ops_per_s=total / elapsed,
        idle_sockets_kept=sockets_during, rss_growth_mib=rss_growth / MiB,
    )
    assert total > THREADS * 10
    assert threads_after <= threads_before, "threads leaked"
    assert open_sockets() <= sockets_before, "sockets leaked after close()"
    assert open_fds() <= fds_before, "file descriptors leaked"
    assert sockets_during <= THREADS + 2, "more sockets than concurrent callers"
    assert rss_growth < 30 * MiB, f"memory grew by {rss_growth / MiB:.1f} MiB"


@pytest.fixture
def client(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=10.0) as c:
        yield c


def test_mirror_of_10000_keys_under_steady_writes(client: Client, etcd_prefix: str) -> None:
    emap = EtcdMap(client, etcd_prefix)
    keys = [f"d{i // 100:02d}/k{i % 100:02d}" for i in range(10_000)]

    def put(chunk: list[str]) -> None:
        for key in chunk:
            client.keys.set(f"{etcd_prefix}/{key}", "0")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, [keys[i::8] for i in range(8)]))
    loaded = time.monotonic()
    with emap.mirror() as mirror:
        load_s = time.monotonic() - loaded
        rss_before = rss_bytes()
        rng = random.Random(7)
        started = time.monotonic()
        writes = 0
        while time.monotonic() - started < SOAK:
            target = started + writes / 50.0  # 50 writes/s
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing of the load, not a wait for a result
            key = rng.choice(keys)
            if writes % 10 == 9:
                client.keys.delete(f"{etcd_prefix}/{key}")
                client.keys.set(f"{etcd_prefix}/{key}", "back")
            else:
                client.keys.set(f"{etcd_prefix}/{key}", str(writes))
            writes += 1
        assert mirror.wait_for(timeout=10.0)
        rss_growth = rss_bytes() - rss_before
        assert mirror.to_dict() == emap.to_dict()
        assert len(mirror) == 100 and sum(len(d) for d in mirror.values()) == 10_000
    report(
        "mirror of 10,000 keys, 50 writes/s", seconds=SOAK, writes=writes,
        initial_load_s=load_s, rss_growth_mib=rss_growth / MiB,
    )
    assert rss_growth < 30 * MiB, f"memory grew by {rss_growth / MiB:.1f} MiB"
