"""Watch, mirror and signals of ``EtcdMap`` on a ``MemoryBackend``: no server, no sleeps (every
wait is on a condition, with a timeout that only a failure reaches)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from etcdmap import EtcdMap, MemoryBackend, signals


class FakeClock:
    """A TTL clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def m(clock: FakeClock) -> EtcdMap:
    return EtcdMap(MemoryBackend(timer=clock), "/app")


class Recorder:
    """Collects the payloads of some signals sent by one sender."""

    def __init__(self, sender: object, *names: str) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._connected = []
        for name in names:
            signal = getattr(signals, name)

            def receive(_sender: object, _name: str = name, **payload: Any) -> None:
                with self._lock:
                    self.events.append((_name, payload))

            signal.connect(receive, sender=sender, weak=False)
            self._connected.append((signal, receive))

    def disconnect(self) -> None:
        for signal, receive in self._connected:
            signal.disconnect(receive)

    def of(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for n, p in self.events if n == name]


@pytest.fixture
def record() -> Iterator[Any]:
    made: list[Recorder] = []

    def make(sender: object, *names: str) -> Recorder:
        recorder = Recorder(sender, *names)
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.disconnect()


def test_mirror_follows_writes(m: EtcdMap) -> None:
    m["db"] = {"host": "h"}
    with m.mirror() as live:
        assert live == {"db": {"host": "h"}}
        m["db"]["port"] = "5432"
        m["flag"] = "on"
        assert live.wait_for(m.index, timeout=5)  # the last write through m: "flag"
        assert live == {"db": {"host": "h", "port": "5432"}, "flag": "on"}
        del m["db"]
        m["_hidden"] = "x"
        assert live.wait_for(timeout=5)
        assert live == {"flag": "on"}


def test_wait_for_an_index_outside_the_directory(m: EtcdMap) -> None:
    other = EtcdMap(m.backend, "/elsewhere")
    with m.mirror() as live:
        other["x"] = "1"
        assert live.wait_for(other.index, timeout=5)
        assert live.index >= other.index
        assert live == {}


def test_signals_payload(m: EtcdMap, record: Any) -> None:
    rec = record(m, "created", "updated", "deleted", "changed")
    with m.watch() as watch:
        m["k"] = "1"
        m["k"] = "2"
        del m["k"]
        assert watch.wait_for(m.index, timeout=5)
    assert [p["action"] for p in rec.of("changed")] == ["set", "set", "delete"]
    created, = rec.of("created")
    assert (created["key"], created["path"], created["value"]) == ("k", "/app/k", "1")
    updated, = rec.of("updated")
    assert (updated["value"], updated["prev_value"]) == ("2", "1")
    deleted, = rec.of("deleted")
    assert deleted["prev_value"] == "2" and deleted["dir"] is False


def test_refresh_sends_nothing_but_advances_the_watch(m: EtcdMap, record: Any) -> None:
    m.set("lease", "me", ttl=10)
    rec = record(m, "changed")
    with m.watch() as watch:
        m.refresh("lease", 10)
        assert watch.wait_for(m.index, timeout=5)
        m["after"] = "1"
        assert watch.wait_for(m.index, timeout=5)
    assert [p["key"] for p in rec.of("changed")] == ["after"]


def test_ttl_expiry_with_a_fake_clock(m: EtcdMap, clock: FakeClock, record: Any) -> None:
    m.set("session", "s1", ttl=10)
    m.mkdir("tmp", ttl=5)
    m["tmp"]["x"] = "1"
    assert m.ttl("session") == 10
    clock.now += 4.5
    assert m.ttl("session") == 6  # rounded up, as etcd
    rec = record(m, "expired")
    with m.mirror() as live, m.watch() as watch:
        clock.now += 1  # tmp is due; nothing happens until the store is touched
        assert m.backend.expire() == 1  # type: ignore[attr-defined]
        assert watch.wait_for(timeout=5) and live.wait_for(timeout=5)
        assert [(p["key"], p["dir"]) for p in rec.of("expired")] == [("tmp", True)]
        assert live == {"session": "s1"}
        clock.now += 10
        assert "session" not in m  # any operation expires what is due (lazily)
        assert live.wait_for(m.index, timeout=5) and watch.wait_for(m.index, timeout=5)
        assert live == {}
    assert [p["key"] for p in rec.of("expired")] == ["tmp", "session"]


def test_refresh_keeps_a_key_alive_on_a_fake_clock(m: EtcdMap, clock: FakeClock) -> None:
    m.set("leader", "me", ttl=3)
    clock.now += 2
    m.refresh("leader", 3)
    clock.now += 2
    assert m["leader"] == "me" and m.node("leader").created_index == 1


def test_lost_history_resyncs(m: EtcdMap, record: Any) -> None:
    """A receiver holds the watch thread while more than 1,000 changes pass: the history no
    longer has them, so the watch re-reads and sends the differences, then ``resynced``."""
    m["keep"] = "1"
    m["gone"] = "1"
    holding = threading.Event()
    release = threading.Event()

    def hold(_sender: object, **payload: Any) -> None:
        if payload["key"] == "first":
            holding.set()
            release.wait(5)

    signals.changed.connect(hold, sender=m, weak=False)
    rec = record(m, "resynced", "created", "updated", "deleted")
    try:
        with m.watch() as watch:
            m["first"] = "x"
            assert holding.wait(5)
            for i in range(1001):
                m["counter"] = str(i)
            del m["gone"]
            release.set()
            assert watch.wait_for(m.index, timeout=5)
            assert watch.resyncs == 1
    finally:
        signals.changed.disconnect(hold)
    resynced, = rec.of("resynced")
    assert (resynced["created"], resynced["deleted"]) == (1, 1)
    assert resynced["index"] == m.index and "history" in resynced["reason"]
    assert [p["key"] for p in rec.of("deleted")] == ["gone"]
    assert [(p["key"], p["value"]) for p in rec.of("created")][-1] == ("counter", "1000")


def test_small_history_resyncs_a_mirror(clock: FakeClock) -> None:
    m = EtcdMap(MemoryBackend(history_size=5, timer=clock), "/small")
    with m.mirror() as live:
        watch = live.watch
        assert watch is not None
        holding, release = threading.Event(), threading.Event()

        def hold(_sender: object, **payload: Any) -> None:
            if payload["key"] == "a":
                holding.set()
                release.wait(5)

        signals.changed.connect(hold, sender=live, weak=False)
        try:
            m["a"] = "0"
            assert holding.wait(5)
            m.update({str(i): str(i) for i in range(10)})
            release.set()
            assert live.wait_for(m.index, timeout=5)
        finally:
            signals.changed.disconnect(hold)
        assert watch.resyncs == 1
        assert live == {"a": "0", **{str(i): str(i) for i in range(10)}}
