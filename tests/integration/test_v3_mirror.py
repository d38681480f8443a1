"""Watches, signals and the live mirror on the v3 backend against a real etcd 3.5: the same
signals as v2, one event per deleted directory, one revision per tree write, lease expiry as
``deleted``, and compaction -> ``resynced``. (What the mirror does alike on both APIs is in
``test_mirror.py``.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from relay import Relay

from etcdmap import EtcdMap, signals
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=5.0) as c:
        yield c


class Recorder:
    """Every specific signal sent by ``sender``, as ``(signal, key, value, prev_value)``."""

    def __init__(self, sender: object) -> None:
        self.events: list[tuple[str, str, Any, Any]] = []
        self.resynced: list[dict[str, Any]] = []
        self.done = threading.Event()
        self._sender = sender
        for name in ("created", "updated", "deleted", "expired"):
            getattr(signals, name).connect(self._make(name), sender=sender, weak=False)
        signals.resynced.connect(self._resync, sender=sender, weak=False)

    def _make(self, name: str) -> Any:
        def receive(sender: object, **e: Any) -> None:
            self.events.append((name, e["key"], e["value"], e["prev_value"]))
        return receive

    def _resync(self, sender: object, **e: Any) -> None:
        self.resynced.append(e)
        self.done.set()

    def disconnect(self) -> None:
        for name in ("created", "updated", "deleted", "expired", "resynced"):
            sig = getattr(signals, name)
            for receiver in list(sig.receivers_for(self._sender)):
                sig.disconnect(receiver, sender=self._sender)


def test_signals_match_v2s(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m["seed"] = "0"
    rec = Recorder(m)
    try:
        with m.watch() as w:
            m["a"] = "1"
            m["a"] = "2"
            m["d"] = {"x": "1", "y": {"z": "2"}}
            m.mkdir("empty")
            del m["d"]
            del m["a"]
            assert w.wait_for(m.index, 10)
    finally:
        rec.disconnect()
    assert rec.events == [
        ("created", "a", "1", None),
        ("updated", "a", "2", "1"),
        ("created", "d/x", "1", None),
        ("created", "d/y/z", "2", None),
        ("created", "empty", None, None),
        ("deleted", "d", None, None),  # once, for the directory
        ("deleted", "a", None, "2"),
    ]


def test_a_tree_write_is_one_revision(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m["cfg"] = {"a": "1", "b": "2"}
    first = m.index
    m["cfg"] = {"a": "1", "c": {"d": "3"}}
    assert m.index == first + 1  # one txn
    m.update(x="1", y={"z": "2"})
    before = m.index
    m.clear()
    assert m.index == before + 1 and m == {}


def test_lease_expiry_is_a_delete(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m["keep"] = "1"
    rec = Recorder(m)
    try:
        with m.watch() as w:
            m.set("tmp", "x", ttl=2)
            deadline = time.monotonic() + 10
            while "tmp" in m and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "tmp" not in m
            assert w.wait_for(timeout=10)
    finally:
        rec.disconnect()
    assert rec.events == [("created", "tmp", "x", None), ("deleted", "tmp", None, "x")]


@pytest.fixture(scope="module")
def v3_only() -> Iterator[EtcdServer]:
    with EtcdServer(enable_v2=False) as server:
        yield server


def test_compaction_resyncs(v3_only: EtcdServer, etcd_prefix: str) -> None:
    with Client(v3_only.client_url, timeout=5.0) as c:
        m = EtcdMap(c, etcd_prefix)
        m["a"] = "1"
        m["b"] = "1"
        start = m.index
        m["a"] = "2"
        del m["b"]
        m["c"] = "3"
        c.kv.compact(m.index, physical=True)
        rec = Recorder(m)
        try:
            with m.watch(after_index=start) as w:
                assert rec.done.wait(10)
                assert w.resyncs == 1
                m["d"] = "4"
                assert w.wait_for(m.index, 10)
        finally:
            rec.disconnect()
        assert rec.resynced[0]["reason"].startswith("history cleared")
        # the watch read the subtree when it started, so the re-read finds no difference
        assert (rec.resynced[0]["created"], rec.resynced[0]["deleted"]) == (0, 0)
        assert rec.events == [("created", "d", "4", None)]


def test_compaction_while_the_stream_is_down_resyncs_the_differences(
    v3_only: EtcdServer, etcd_prefix: str
) -> None:
    """The mirror loads the subtree, then its stream opens only after writes and a compaction
    (a relay holds the watch request back): the re-read's differences are sent as signals,
    then ``resynced``, and the mirror equals etcd."""
    relay = Relay(v3_only.client_url, hold=(b"GET /v3/watch", b"POST /v3/watch"))
    with Client(relay.url, timeout=5.0) as c:
        m = EtcdMap(c, etcd_prefix)
        m.update(a="1", b="1", d={"x": "1"})
        live = m.mirror()
        rec = Recorder(live)
        try:
            assert relay.held.wait(5), "the mirror's watch request never came"
            m["a"] = "2"
            del m["b"]
            m["c"] = "3"
            del m["d"]
            c.kv.compact(m.index, physical=True)
            relay.gate.set()
            assert rec.done.wait(10)
            assert live.wait_for(m.index, 10)
        finally:
            rec.disconnect()
            live.close()
            relay.close()
        assert sorted(rec.events) == [("created", "c", "3", None), ("deleted", "b", None, "1"),
                                      ("deleted", "d", None, None), ("updated", "a", "2", "1")]
        assert (rec.resynced[0]["created"], rec.resynced[0]["updated"],
                rec.resynced[0]["deleted"]) == (1, 1, 2)
        assert live == m.to_dict() == {"a": "2", "c": "3"}


def test_non_recursive_watch_and_hidden_keys(v3: Client, etcd_prefix: str) -> None:
    parent = EtcdMap(v3, etcd_prefix)
    m = EtcdMap(v3, etcd_prefix + "/d")
    m["seed"] = "0"
    flat, deep = Recorder(m), Recorder(parent)
    try:
        with m.watch(recursive=False) as w, parent.watch() as pw:
            m["a"] = "1"
            m["_hidden"] = "x"
            del parent["d"]
            assert w.wait_for(parent.index, 10) and pw.wait_for(parent.index, 10)
    finally:
        flat.disconnect()
        deep.disconnect()
    assert flat.events == [("deleted", "", None, None)]
    assert deep.events == [("created", "d/a", "1", None), ("deleted", "d", None, None)]
