"""Atomicity on the v3 backend under concurrent writers (real etcd 3.5): one setdefault
winner, no lost CAS increment, pops never return one value twice, readers never see half a
tree; tree writes beyond ``max_txn_ops`` split; bad input writes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from etcdmap import EtcdMap
from etcdmap.errors import NodeExists, NotADirectory
from etcdmap.v3 import Client

Threads = Callable[..., list[BaseException]]


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=10.0) as c:
        yield c


def test_setdefault_has_one_winner(v3: Client, etcd_prefix: str, run_threads: Threads) -> None:
    m = EtcdMap(v3, etcd_prefix)
    got: list[str] = []
    assert run_threads(lambda n: got.append(m.setdefault("k", f"t{n}")), 8) == []
    assert len(set(got)) == 1 and got[0] == m["k"]


def test_cas_increments_are_not_lost(v3: Client, etcd_prefix: str, run_threads: Threads) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m["n"] = "0"

    def bump(_: int) -> None:
        for _ in range(15):
            while True:
                node = m.node("n")
                if m.compare_and_swap("n", str(int(node.value or 0) + 1),
                                      prev_index=node.modified_index):
                    break

    assert run_threads(bump, 4) == []
    assert m["n"] == "60"


def test_concurrent_pops_take_each_value_once(
    v3: Client, etcd_prefix: str, run_threads: Threads
) -> None:
    q = EtcdMap(v3, etcd_prefix)
    for i in range(30):
        q.append(str(i))
    taken: list[str] = []

    def worker(_: int) -> None:
        while True:
            try:
                taken.append(q.popitem()[1])
            except KeyError:
                return

    assert run_threads(worker, 4) == []
    assert sorted(taken, key=int) == [str(i) for i in range(30)]


def test_readers_never_see_half_a_tree(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
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


def test_tree_writes_beyond_max_txn_ops_are_split(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    v3.backend.max_txn_ops = 4
    try:
        m["big"] = {f"k{i}": str(i) for i in range(10)}
        before = m.index
        m.update({f"u{i}": str(i) for i in range(6)})
        assert m.index > before + 1  # several txns
        assert m["big"].to_dict() == {f"k{i}": str(i) for i in range(10)}
        m.clear()
        assert m == {}
    finally:
        v3.backend.max_txn_ops = 128


def test_create_and_bad_input(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m.create("t", {"x": "1"})
    with pytest.raises(NodeExists):
        m.create("t", {"y": "1"})
    with pytest.raises(NodeExists):
        m.create("t", "leaf")
    m["leaf"] = "1"
    with pytest.raises(NotADirectory):
        EtcdMap(v3, f"{etcd_prefix}/leaf")["x"] = "1"
    with pytest.raises(NotADirectory):
        EtcdMap(v3, f"{etcd_prefix}/leaf").update(x="1", y={"z": "2"})
    with pytest.raises(ValueError):
        m.update({"ok": "1", "a/b": "2"})
    with pytest.raises(TypeError):
        m["bad"] = {"x": 1}  # the str codec refuses an int: nothing is written
    with pytest.raises(ValueError):
        m.set("k", "v", ttl=0)
    assert m.to_dict() == {"t": {"x": "1"}, "leaf": "1"}
