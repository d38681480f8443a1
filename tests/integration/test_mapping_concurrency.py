"""EtcdMap's atomic helpers under real contention: many threads, one shared map, real etcd."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from etcdmap.mapping.emap import EtcdMap

THREADS = 8
T = TypeVar("T")


def race(fn: Callable[[int], T], n: int = THREADS) -> list[T]:
    """Run ``fn(i)`` in ``n`` threads released together; return the results in order."""
    barrier = threading.Barrier(n)

    def run(i: int) -> T:
        barrier.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_setdefault_has_exactly_one_winner(m: EtcdMap) -> None:
    results = race(lambda i: m.setdefault("leader", f"thread-{i}"))
    assert len(set(results)) == 1
    assert m["leader"] == results[0]
    assert m.node("leader").created_index == m.node("leader").modified_index


def test_setdefault_of_a_directory_has_exactly_one_winner(m: EtcdMap) -> None:
    results = race(lambda i: m.setdefault("cfg", {"owner": f"thread-{i}"}).to_dict())
    owners = {r.get("owner") for r in results if r}
    assert len(owners) == 1
    assert m["cfg"] == {"owner": owners.pop()}


def test_compare_and_swap_increments_lose_no_update(m: EtcdMap) -> None:
    per_thread = 15
    m["counter"] = "0"

    def increment(_: int) -> int:
        retries = 0
        for _step in range(per_thread):
            while True:
                current = m["counter"]
                if m.compare_and_swap("counter", str(int(current) + 1), prev_value=current):
                    break
                retries += 1
        return retries

    retries = race(increment)
    assert m["counter"] == str(THREADS * per_thread)
    assert sum(retries) > 0  # there was contention, so the loop was really exercised


def test_concurrent_pop_returns_a_value_once(m: EtcdMap) -> None:
    m["k"] = "only"
    results = race(lambda i: m.pop("k", None))
    assert results.count("only") == 1
    assert results.count(None) == THREADS - 1


def test_concurrent_popitem_takes_every_item_exactly_once(m: EtcdMap) -> None:
    queue = m.mkdir("queue")
    appended = {queue.append(f"job-{i}"): f"job-{i}" for i in range(24)}

    def drain(_: int) -> list[tuple[str, Any]]:
        taken = []
        while True:
            try:
                taken.append(queue.popitem())
            except KeyError:
                return taken

    taken = [item for items in race(drain) for item in items]
    assert sorted(taken) == sorted(appended.items())
    assert len(queue) == 0


def test_create_has_exactly_one_winner(m: EtcdMap) -> None:
    def attempt(i: int) -> bool:
        try:
            m.create("lock", f"thread-{i}")
        except Exception:  # NodeExists for the losers
            return False
        return True

    assert sum(race(attempt)) == 1
