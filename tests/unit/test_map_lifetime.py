"""Who closes what: a map closes its client only when it made it (``owns_client``), a closed
map and its views refuse to be used, views close nothing (on :class:`MemoryBackend`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from etcdmap import EtcdMap, MapClosed, MemoryBackend


class CountingBackend(MemoryBackend):
    """A memory store that counts how often it was closed (a map's ``close`` closes its
    store only when it owns it)."""

    def __init__(self) -> None:
        super().__init__()
        self.closes = 0

    def close(self) -> None:
        self.closes += 1


def test_a_client_passed_in_stays_open() -> None:
    store = CountingBackend()
    with EtcdMap(store, "/a") as m:
        m["k"] = "v"
    assert store.closes == 0
    assert EtcdMap(store, "/a")["k"] == "v"  # other maps on it work on


def test_an_owned_client_is_closed_once() -> None:
    store = CountingBackend()
    m = EtcdMap(store, "/a", owns_client=True)
    with m:
        m["k"] = "v"
    m.close()  # twice is fine
    assert store.closes == 1


USES: list[tuple[str, Callable[[EtcdMap], Any]]] = [
    ("get", lambda m: m["k"]),
    ("set", lambda m: m.__setitem__("k", "2")),
    ("del", lambda m: m.__delitem__("k")),
    ("in", lambda m: "k" in m),
    ("len", len),
    ("iter", list),
    ("to_dict", lambda m: m.to_dict()),
    ("update", lambda m: m.update(a="1")),
    ("setdefault", lambda m: m.setdefault("n", "1")),
    ("pop", lambda m: m.pop("k")),
    ("append", lambda m: m.append("x")),
    ("mkdir", lambda m: m.mkdir("d")),
    ("ttl", lambda m: m.ttl("k")),
    ("cas", lambda m: m.compare_and_swap("k", "2", prev_value="1")),
    ("watch", lambda m: m.watch()),
    ("mirror", lambda m: m.mirror()),
]


@pytest.mark.parametrize(("name", "use"), USES, ids=[n for n, _ in USES])
@pytest.mark.parametrize("owns", [True, False])
def test_a_closed_map_refuses_every_use(name: str, use: Callable[[EtcdMap], Any],
                                        owns: bool) -> None:
    m = EtcdMap(MemoryBackend(), "/a", owns_client=owns)
    m["k"] = "1"
    m["db"] = {"host": "h"}
    db = m["db"]
    m.close()
    with pytest.raises(MapClosed, match=r"'/a' is closed.*make a new one"):
        use(m)
    with pytest.raises(MapClosed, match="'/a/db' is closed"):
        db["host"]  # its views too


def test_with_returns_the_map_and_an_error_in_the_block_closes_it_and_propagates() -> None:
    store = CountingBackend()
    m = EtcdMap(store, "/a", owns_client=True)
    with pytest.raises(RuntimeError, match="boom"), m as entered:
        assert entered is m
        m["k"] = "v"
        assert store.closes == 0
        raise RuntimeError("boom")
    assert store.closes == 1
    with pytest.raises(MapClosed):
        m["k"]


def test_closed_is_a_runtime_error_of_the_tree() -> None:
    assert issubclass(MapClosed, RuntimeError)
    m = EtcdMap(MemoryBackend(), "/a")
    m.close()
    with pytest.raises(RuntimeError):
        m["k"] = "v"
    assert "path='/a'" in repr(m)  # repr needs no request


def test_closing_a_view_closes_nothing() -> None:
    store = CountingBackend()
    m = EtcdMap(store, "/a", owns_client=True)
    m["db"] = {"host": "h"}
    with m["db"] as db:
        db["port"] = "1"
    db.close()
    assert db["port"] == "1" and m.to_dict() == {"db": {"host": "h", "port": "1"}}
    assert store.closes == 0
