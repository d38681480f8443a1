"""EtcdMap's atomic helpers under real contention, on the v2 and the v3 API (the ``api``
fixture): many threads, one shared map, real etcd. One setdefault / create winner, no lost CAS
increment, pops never return one value twice; on v3 (whose tree writes are one txn) readers
never see half a tree and tree writes beyond ``max_txn_ops`` split; bad input writes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from apis import AnyClient, client_for, only

from etcdmap import EtcdMap
from etcdmap.errors import NodeExists, NotADirectory
from etcdmap.v3 import Client as V3Client

THREADS = 8
T = TypeVar("T")


@pytest.fixture
def client(api: str, etcd_url: str) -> Iterator[AnyClient]:
    """The client of the test's API; the ``m`` fixture of conftest.py maps through it."""
    with client_for(api, etcd_url, timeout=10.0) as c:
        yield c


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
    """Half the threads compare the value, half the modified index: both kinds of condition
    race for the same key."""
    per_thread = 15
    m["counter"] = "0"

    def increment(n: int) -> int:
        retries = 0
        for _step in range(per_thread):
            while True:
                node = m.node("counter")
                current = str(node.value)
                if n % 2:
                    swapped = m.compare_and_swap("counter", str(int(current) + 1),
                                                 prev_index=node.modified_index)
                else:
                    swapped = m.compare_and_swap("counter", str(int(current) + 1),
                                                 prev_value=current)
                if swapped:
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


@only("v3")
def test_readers_never_see_half_a_tree(m: EtcdMap) -> None:
    """A tree write is one txn on v3 (v2 writes a tree key by key)."""
    m["cfg"] = {"a": "0", "b": "0", "sub": {"c": "0"}}
    stop = threading.Event()
    seen: list[dict[str, object]] = []

    def write() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            if i % 3:
                m["cfg"] = {"a": str(i), "b": str(i), "sub": {"c": str(i)}}
            else:
                m.update(cfg={"a": str(i), "b": str(i), "sub": {"c": str(i)}})

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(150):
            seen.append(m["cfg"].to_dict())
    finally:
        stop.set()
        writer.join()
    for snap in seen:
        assert set(snap) == {"a", "b", "sub"}, snap
        assert snap["a"] == snap["b"] == snap["sub"]["c"], snap  # type: ignore[index]
    assert len({s["a"] for s in seen}) > 1  # the reader raced real writes


@only("v3")
def test_tree_writes_beyond_max_txn_ops_are_split(client: V3Client, m: EtcdMap) -> None:
    client.backend.max_txn_ops = 4
    try:
        m["big"] = {f"k{i}": str(i) for i in range(10)}
        before = m.index
        m.update({f"u{i}": str(i) for i in range(6)})
        assert m.index > before + 1  # several txns
        assert m["big"].to_dict() == {f"k{i}": str(i) for i in range(10)}
        m.clear()
        assert m == {}
    finally:
        client.backend.max_txn_ops = 128


def test_create_and_bad_input(client: AnyClient, m: EtcdMap) -> None:
    m.create("t", {"x": "1"})
    with pytest.raises(NodeExists):
        m.create("t", {"y": "1"})
    with pytest.raises(NodeExists):
        m.create("t", "leaf")
    m["leaf"] = "1"
    with pytest.raises(NotADirectory):
        EtcdMap(client, f"{m.path}/leaf")["x"] = "1"
    with pytest.raises(NotADirectory):
        EtcdMap(client, f"{m.path}/leaf").update(x="1", y={"z": "2"})
    with pytest.raises(ValueError):
        m.update({"ok": "1", "a/b": "2"})
    with pytest.raises(TypeError):
        m["bad"] = {"x": 1}  # the str codec refuses an int: nothing is written
    with pytest.raises(ValueError):
        m.set("k", "v", ttl=0)
    assert m.to_dict() == {"t": {"x": "1"}, "leaf": "1"}
