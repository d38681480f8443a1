"""The live mirror against real etcd, on the v2 and the v3 API (the ``api`` fixture):
coherence, read-your-writes, views, signals, a random workload, wait_for; v2's resync after
lost history (v3's, after a compaction, is in ``test_v3_mirror.py``)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from apis import AnyClient, client_for, only

from etcdmap import Client, EtcdMap, Mirror, MirrorDir, signals


@pytest.fixture
def client(api: str, etcd_url: str) -> Iterator[AnyClient]:
    with client_for(api, etcd_url, timeout=5.0) as c:
        yield c


def test_mirror_holds_the_subtree_and_follows_writes(client: AnyClient, etcd_prefix: str) -> None:
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


def test_random_workload_converges(client: AnyClient, etcd_prefix: str) -> None:
    """Leaves set and deleted, whole directories deleted, several keys updated at once, by
    maps other than the mirrored one."""
    rnd = random.Random(1234)
    m = EtcdMap(client, etcd_prefix)

    def at(path: str) -> EtcdMap:
        return EtcdMap(client, f"{etcd_prefix}/{path}" if path else etcd_prefix)

    paths = [f"{a}/{b}" for a in "abc" for b in ("x", "y", "z/q", "z/r")]
    with m.mirror() as live:
        for i in range(400):
            parent, _, leaf = rnd.choice(paths).rpartition("/")
            roll = rnd.random()
            try:
                if roll < 0.55:
                    at(parent)[leaf] = f"v{i}"
                elif roll < 0.75:
                    del at(parent)[leaf]
                elif roll < 0.9:  # drop a whole directory now and then
                    grandparent, _, name = parent.rpartition("/")
                    del at(grandparent)[name]
                else:
                    m.update({parent.partition("/")[0]: {"x": str(i)}, "other": str(i)})
            except KeyError:  # KeyNotFound: nothing there to delete
                continue
        assert live.wait_for(timeout=15)
        assert live.to_dict() == m.to_dict()


def test_wait_for_an_index_outside_the_subtree(client: AnyClient, etcd_prefix: str) -> None:
    m = EtcdMap(client, f"{etcd_prefix}/inside")
    m["k"] = "1"
    with m.mirror() as live:
        other = EtcdMap(client, etcd_prefix)
        other["outside"] = "1"
        start = time.monotonic()
        assert live.wait_for(other.index, 10)
        assert live.wait_for(timeout=10)
        assert time.monotonic() - start < 5
        assert not live.wait_for(other.index + 10_000, 0.2)  # a future index: times out
        assert live == {"k": "1"}


def test_mirror_of_a_missing_directory_fills_when_created(
    client: AnyClient, etcd_prefix: str
) -> None:
    m = EtcdMap(client, f"{etcd_prefix}/later")
    with m.mirror() as live:
        assert len(live) == 0 and list(live) == []
        m["k"] = "v"
        assert live.wait_for(m.index, 10)
        assert dict(live) == {"k": "v"}


def test_writable_mirror_and_codec(client: AnyClient, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix, codec="json")
    with m.mirror(writable=True) as live:
        live["n"] = {"deep": [1, 2]}
        assert live.wait_for(m.index, 10)
        assert live["n"]["deep"] == [1, 2]
        del live["n"]
        assert live.wait_for(m.index, 10)
        assert "n" not in live
    assert m.to_dict() == {}


def test_signals_are_sent_by_the_mirror(client: AnyClient, etcd_prefix: str) -> None:
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


@only("v2")
def test_mirror_resyncs_after_lost_history(client: Client, etcd_prefix: str) -> None:
    """v2 keeps the last 1,000 events: a watch that falls further behind re-reads."""
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


def test_reads_at_dict_speed(client: AnyClient, etcd_prefix: str) -> None:
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
