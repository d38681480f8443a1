"""``MemoryBackend``: the mapping contract without a server, and etcd v2's store semantics
(errors, indexes, hidden keys, in-order keys, refresh, conditions, bounded history).

The expected errors, causes and indexes are those etcd 3.4 answers to the same requests.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from mapping_contract import MappingContract

import etcdmap
from etcdmap import EtcdMap, MemoryBackend
from etcdmap.backend import Cond, Progress
from etcdmap.errors import (
    CompareFailed,
    HistoryLost,
    KeyNotFound,
    NodeExists,
    NotADirectory,
    NotAFile,
    PrevValueRequired,
    RootReadOnly,
)
from etcdmap.models import Change


class TestMemoryContract(MappingContract):
    @pytest.fixture
    def mapping(self) -> EtcdMap:
        return EtcdMap(MemoryBackend(), "/contract")


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


def test_is_a_backend_and_exported() -> None:
    b = etcdmap.MemoryBackend()
    assert isinstance(b, etcdmap.backend.Backend)
    assert b.client is b
    assert b.describe() == "memory"
    assert b.name == "memory"
    m = EtcdMap(b, "/config")
    assert m.backend is b
    assert "memory" in repr(m)


def test_history_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="history_size"):
        MemoryBackend(history_size=0)


# ---------------------------------------------------------------------- indexes and nodes


def test_one_global_index_gives_created_and_modified(backend: MemoryBackend) -> None:
    node, index = backend.put("/a/b", "1")
    assert (node.created_index, node.modified_index, index) == (1, 1, 1)
    parent, _ = backend.read("/a")
    assert parent.dir and parent.created_index == 1  # made on the way, same index
    node, index = backend.put("/a/b", "2", cond=Cond(exists=True))
    assert (node.created_index, node.modified_index, index) == (1, 2, 2)
    node, index = backend.put("/a/b", "3")  # a plain set makes a new node
    assert (node.created_index, node.modified_index) == (3, 3)
    assert backend.current_index("/") == 3


def test_read_lists_sorted_children_without_hidden_keys(backend: MemoryBackend) -> None:
    for key in ("/d/b", "/d/a", "/d/_hidden", "/d/c/x", "/d/c/_y"):
        backend.put(key, "v")
    node, _ = backend.read("/d")
    assert [n.name for n in node.nodes] == ["a", "b", "c"]
    assert node.nodes[2].dir and node.nodes[2].nodes == ()  # not recursive
    deep, _ = backend.read("/d", recursive=True)
    assert [n.name for n in deep.nodes[2].nodes] == ["x"]
    hidden, _ = backend.read("/d/_hidden")
    assert hidden.value == "v"  # readable by name
    root, _ = backend.read("/")
    assert root.key == "" and [n.key for n in root.nodes] == ["/d"]


def test_read_tree(backend: MemoryBackend) -> None:
    backend.put("/t/a", "1")
    backend.put("/t/d/b", "2")
    backend.put("/t/_h", "3")
    tree, index = backend.read_tree("/t", None)
    assert tree == {"a": "1", "d": {"b": "2"}} and index == 3
    decoded, _ = backend.read_tree("/t", lambda key, text: (key, int(text)))
    assert decoded == {"a": ("/t/a", 1), "d": {"b": ("/t/d/b", 2)}}
    assert backend.read_tree("/nope", None) == (None, 3)
    with pytest.raises(NotADirectory):
        backend.read_tree("/t/a", None)


def test_in_order_keys_are_twenty_digits_of_the_index(backend: MemoryBackend) -> None:
    backend.put("/other", "x")
    first, _ = backend.append("/q", "a")
    second, index = backend.append("/q", "b")
    assert first.key == "/q/00000000000000000002"
    assert second.name == f"{index:020d}" and second.name > first.name
    m = EtcdMap(backend, "/q")
    assert m.popitem() == (first.name, "a")  # a FIFO queue


# ---------------------------------------------------------------------- errors, as etcd v2


def test_missing_keys(backend: MemoryBackend) -> None:
    backend.put("/p/a", "1")
    with pytest.raises(KeyNotFound) as info:
        backend.read("/p/x/y")
    assert (info.value.cause, info.value.index) == ("/p/x", 1)
    with pytest.raises(KeyNotFound):
        backend.put("/p/zz", "v", cond=Cond(value="x"))
    with pytest.raises(KeyNotFound):
        backend.put("/p/zz", "v", cond=Cond(exists=True))
    with pytest.raises(KeyNotFound):
        backend.delete("/p/nope")
    with pytest.raises(KeyNotFound):
        backend.refresh("/p/nope", 5)


def test_below_a_file(backend: MemoryBackend) -> None:
    backend.put("/p/a", "1")
    for call in (
        lambda: backend.read("/p/a/b"),
        lambda: backend.put("/p/a/b", "1"),
        lambda: backend.put("/p/a/b", "1", cond=Cond(exists=False)),
        lambda: backend.append("/p/a", "1"),
    ):
        with pytest.raises(NotADirectory) as info:
            call()
        assert (info.value.cause, info.value.index) == ("/p/a", 1)


def test_directories_are_not_files(backend: MemoryBackend) -> None:
    backend.make_dir("/p/d")
    for call in (
        lambda: backend.make_dir("/p/d"),
        lambda: backend.put("/p/d", "x"),
        lambda: backend.put("/p/d", "v", cond=Cond(exists=True)),
        lambda: backend.put("/p/d", "v", cond=Cond(value="x")),
        lambda: backend.delete("/p/d"),
        lambda: backend.delete("/p/d", recursive=True, cond=Cond(revision=1)),
    ):
        with pytest.raises(NotAFile) as info:
            call()
        assert info.value.cause == "/p/d"
    node, _ = backend.make_dir("/p/d", ttl=10, cond=Cond(exists=True))  # a TTL update
    assert node.dir and node.created_index == 1 and node.ttl == 10


def test_create_and_conditions(backend: MemoryBackend) -> None:
    backend.put("/p/a", "1")
    with pytest.raises(NodeExists) as exists:
        backend.put("/p/a", "v", cond=Cond(exists=False))
    assert exists.value.cause == "/p/a"
    with pytest.raises(CompareFailed) as value:
        backend.put("/p/a", "v", cond=Cond(value="x"))
    assert value.value.cause == "[x != 1]"
    with pytest.raises(CompareFailed) as index:
        backend.put("/p/a", "v", cond=Cond(revision=7))
    assert index.value.cause == "[7 != 1]"
    with pytest.raises(CompareFailed) as both:
        backend.delete("/p/a", cond=Cond(value="x", revision=7))
    assert both.value.cause == "[x != 1] [7 != 1]"
    with pytest.raises(PrevValueRequired):
        backend.put("/p/a", "v", cond=Cond(value=""))
    assert backend.put("/p/a", "2", cond=Cond(value="1", revision=1))[0].value == "2"
    assert backend.delete("/p/a", cond=Cond(revision=2)) == 3


def test_root_is_read_only(backend: MemoryBackend) -> None:
    for call in (
        lambda: backend.put("/", "x"),
        lambda: backend.delete("/", recursive=True),
        lambda: backend.refresh("/", 5),
    ):
        with pytest.raises(RootReadOnly):
            call()


def test_bad_ttl_raises_before_writing(backend: MemoryBackend) -> None:
    with pytest.raises(ValueError, match="positive"):
        backend.put("/k", "v", ttl=0)
    with pytest.raises(TypeError):
        backend.put("/k", "v", ttl="5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole"):
        backend.append("/q", "v", ttl=1.5)  # type: ignore[arg-type]
    assert backend.index == 0


# ---------------------------------------------------------------------- the mapping on it


def test_emap_errors_and_hidden_keys() -> None:
    m = EtcdMap(MemoryBackend(), "/c")
    m["leaf"] = "x"
    m["_lock"] = "me"
    assert m == {"leaf": "x"} and m["_lock"] == "me" and "_lock" in m
    with pytest.raises(NotADirectory):
        len(EtcdMap(m.backend, "/c/leaf"))
    with pytest.raises(NodeExists):
        m.create("leaf", "y")
    with pytest.raises(NotAFile):
        m.mkdir("d").backend.put("/c/d", "v", cond=Cond(exists=True))
    m.clear()
    assert m["_lock"] == "me"


def test_compare_and_swap_and_delete() -> None:
    m = EtcdMap(MemoryBackend(), "/c")
    m["k"] = "1"
    index = m.node("k").modified_index
    assert not m.compare_and_swap("k", "2", prev_value="0")
    assert m.compare_and_swap("k", "2", prev_value="1", prev_index=index)
    assert not m.compare_and_swap("k", "3", prev_index=index)
    m["e"] = ""
    assert m.compare_and_swap("e", "now", prev_value="")  # compared on the index instead
    with pytest.raises(KeyNotFound):
        m.compare_and_swap("missing", "x", prev_value="y")
    assert not m.compare_and_delete("k", prev_value="1")
    assert m.compare_and_delete("k", prev_value="2")
    assert "k" not in m


def test_setdefault_race_has_one_winner() -> None:
    m = EtcdMap(MemoryBackend(), "/race")
    threads = 8
    barrier = threading.Barrier(threads)
    results: list[Any] = []

    def contend(i: int) -> None:
        barrier.wait(5)
        results.append(m.setdefault("k", str(i)))

    workers = [threading.Thread(target=contend, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(5)
    assert len(results) == threads
    assert len(set(results)) == 1 and results[0] == m["k"]
    creates = [c for c in _history(m.backend) if c.action == "create"]
    assert len(creates) == 1


def test_concurrent_pops_never_return_one_value_twice() -> None:
    m = EtcdMap(MemoryBackend(), "/q")
    for i in range(50):
        m.append(str(i))
    popped: list[str] = []
    lock = threading.Lock()

    def drain() -> None:
        while True:
            try:
                _, value = m.popitem()
            except KeyError:
                return
            with lock:
                popped.append(value)

    workers = [threading.Thread(target=drain) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert sorted(popped, key=int) == [str(i) for i in range(50)]


# ---------------------------------------------------------------------- change streams


def _history(backend: MemoryBackend) -> list[Change]:
    stream = backend.changes("/", after=0)
    items: list[Change] = []
    for item in stream:
        if isinstance(item, Progress):
            break
        items.append(item)
    stream.close()
    return items


def test_stream_delivers_changes_then_progress(backend: MemoryBackend) -> None:
    backend.put("/w/a", "1")
    backend.put("/w/_hidden", "h")
    backend.put("/elsewhere", "x")
    backend.refresh("/w/a", 5)  # raises the index, no change
    stream = backend.changes("/w", after=0)
    items = iter(stream)
    first = next(items)
    assert isinstance(first, Change) and (first.action, first.node.key) == ("set", "/w/a")
    assert next(items) == Progress(4)
    stream.close()
    assert list(items) == []


def test_stream_blocks_until_a_write_or_close(backend: MemoryBackend) -> None:
    stream = backend.changes("/w", after=0)
    got: list[Change | Progress] = []

    def read() -> None:
        for item in stream:
            got.append(item)
            if item == Progress(2):
                return

    reader = threading.Thread(target=read)
    reader.start()
    backend.put("/w/a", "1")
    backend.delete("/w", recursive=True)
    reader.join(5)
    assert not reader.is_alive()
    changes = [c for c in got if isinstance(c, Change)]
    assert [(c.action, c.node.key, c.index) for c in changes] == [
        ("set", "/w/a", 1), ("delete", "/w", 2)]
    assert changes[1].node.dir and changes[1].prev_node is not None


def test_non_recursive_stream_sees_its_key_and_removals_above(backend: MemoryBackend) -> None:
    backend.put("/a/b/c", "1")
    backend.put("/a/b/c", "2")
    backend.delete("/a", recursive=True)
    stream = backend.changes("/a/b/c", after=1, recursive=False)
    got = []
    for item in stream:
        if isinstance(item, Progress):
            break
        got.append((item.action, item.node.key))
    stream.close()
    assert got == [("set", "/a/b/c"), ("delete", "/a")]


def test_close_ends_a_waiting_stream(backend: MemoryBackend) -> None:
    stream = backend.changes("/w", after=0)
    started = threading.Event()

    def read() -> None:
        started.set()
        for _ in stream:
            pass

    reader = threading.Thread(target=read)
    reader.start()
    started.wait(5)
    stream.close()
    reader.join(5)
    assert not reader.is_alive()


def test_history_is_bounded_to_a_thousand_changes(backend: MemoryBackend) -> None:
    for i in range(1001):
        backend.put("/h/k", str(i))
    with pytest.raises(HistoryLost, match="1,000|1000"):
        next(iter(backend.changes("/h", after=0)))
    first = next(iter(backend.changes("/h", after=1)))
    assert isinstance(first, Change) and first.index == 2
