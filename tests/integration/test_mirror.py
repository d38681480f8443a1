"""The live mirror against real etcd: coherence, read-your-writes, views, signals, resync."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from etcdmap import signals
from etcdmap.errors import KeyNotFound
from etcdmap.mapping.emap import EtcdMap
from etcdmap.mapping.mirror import Mirror, MirrorDir
from etcdmap.v2.client import Client


def test_mirror_holds_the_subtree_and_follows_writes(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    m["a"] = "1"
    m["d"] = {"x": "x", "e": {"y": "y"}}
    with m.mirror() as live:
        assert isinstance(live, Mirror)
        assert live == {"a": "1", "d": {"x": "x", "e": {"y": "y"}}}
        assert live.index >= m.index
        assert isinstance(live["d"], MirrorDir) and live["d"]["e"]["y"] == "y"
        m["a"] = "2"
        assert live.wait_for(m.index, 10)  # read-your-writes
        assert live["a"] == "2"
        del m["d"]["x"]  # through a nested view: its own index, so wait for "now"
        assert live.wait_for(timeout=10)
        assert live["a"] == "2" and live.to_dict() == {"a": "2", "d": {"e": {"y": "y"}}}
        assert live == m  # an EtcdMap compares by a fresh snapshot
        with pytest.raises(TypeError):
            live["a"] = "3"  # read-only by default
        with pytest.raises(KeyError):
            live["nope"]
    assert not live.watch.running  # type: ignore[union-attr]


def test_random_workload_converges(client: Client, etcd_prefix: str) -> None:
    rnd = random.Random(1234)
    m = EtcdMap(client, etcd_prefix)
    paths = [f"{etcd_prefix}/{a}/{b}" for a in "abc" for b in ("x", "y", "z/q", "z/r")]
    with m.mirror() as live:
        last = 0
        for i in range(500):
            key = rnd.choice(paths)
            roll = rnd.random()
            try:
                if roll < 0.6:
                    last = client.keys.set(key, f"v{i}").index
                elif roll < 0.85:
                    last = client.keys.delete(key).index
                else:  # drop a whole directory now and then
                    last = client.keys.delete(key.rsplit("/", 1)[0], recursive=True).index
            except KeyNotFound:
                continue
        assert live.wait_for(last, 15)
        assert live.to_dict() == m.to_dict()


def test_wait_for_an_index_outside_the_subtree(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, f"{etcd_prefix}/inside")
    with m.mirror() as live:
        other = client.keys.set(f"{etcd_prefix}/outside", "1").index
        start = time.monotonic()
        assert live.wait_for(other, 10)
        assert time.monotonic() - start < 5
        assert not live.wait_for(other + 10_000, 0.2)  # a future index: times out


def test_mirror_of_a_missing_directory_fills_when_created(
    client: Client, etcd_prefix: str
) -> None:
    m = EtcdMap(client, f"{etcd_prefix}/later")
    with m.mirror() as live:
        assert len(live) == 0 and list(live) == []
        m["k"] = "v"
        assert live.wait_for(m.index, 10)
        assert dict(live) == {"k": "v"}


def test_writable_mirror_and_codec(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix, codec="json")
    with m.mirror(writable=True) as live:
        live["n"] = {"deep": [1, 2]}
        assert live.wait_for(m.index, 10)
        assert live["n"]["deep"] == [1, 2]
        del live["n"]
        assert live.wait_for(m.index, 10)
        assert "n" not in live
    assert m.to_dict() == {}


def test_signals_are_sent_by_the_mirror(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    got: list[tuple[str, Any, str]] = []

    def rx(sender: object, **kw: Any) -> None:
        got.append(("created", sender, kw["key"]))

    with m.mirror() as live:
        signals.created.connect(rx, sender=live, weak=False)
        try:
            m["k"] = "v"
            assert live.wait_for(m.index, 10)
        finally:
            signals.created.disconnect(rx, sender=live)
    assert got == [("created", live, "k")]


def test_mirror_resyncs_after_lost_history(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    m["gone"] = "x"
    release = threading.Event()
    resynced: list[dict[str, Any]] = []

    def block(_sender: object, **kw: Any) -> None:
        release.wait(30)

    def on_resynced(_sender: object, **kw: Any) -> None:
        resynced.append(kw)

    with m.mirror() as live:
        signals.changed.connect(block, sender=live, weak=False)
        signals.resynced.connect(on_resynced, sender=live, weak=False)
        try:
            m["first"] = "blocks the watch"
            big = "v" * 8192
            last = 0
            for i in range(2500):
                last = client.keys.set(f"{etcd_prefix}/n{i % 300}", f"{i}{big}").index
            del m["gone"]
            release.set()
            assert live.wait_for(max(last, m.index), 25)
            assert live.to_dict() == m.to_dict()
            assert resynced and resynced[0]["index"] <= live.index
        finally:
            release.set()
            signals.changed.disconnect(block, sender=live)
            signals.resynced.disconnect(on_resynced, sender=live)


def test_reads_at_dict_speed(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    m.update({f"k{i}": str(i) for i in range(100)})
    with m.mirror() as live:
        keys = [f"k{i}" for i in range(100)] * 2000
        start = time.perf_counter()
        for k in keys:
            live[k]
        rate = len(keys) / (time.perf_counter() - start)
    print(f"mirror reads: {rate:,.0f}/s")
    assert live["k7"] == "7"
