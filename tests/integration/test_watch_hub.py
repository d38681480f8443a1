"""The per-client watch hub against real etcd: many watches on few threads, nothing sent while
idle but the shared member check, receivers that block, and sessions that cannot be
multiplexed (a thread per stream)."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from etcdmap import signals
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client


def _client_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("etcdmap-")}


def _all_live(watches: list[Any], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(w.endpoint is not None and w.state == "live" for w in watches):
            return True
        time.sleep(0.01)  # poll interval: workers open the streams
    return False


def test_fifty_watches_share_one_io_thread(etcd_url: str, etcd_prefix: str) -> None:
    got: set[str] = set()
    cond = threading.Condition()

    def on_changed(_sender: object, **kw: Any) -> None:
        with cond:
            got.add(kw["path"])
            cond.notify_all()

    with Client(etcd_url) as c:
        maps = [EtcdMap(c, f"{etcd_prefix}/d{i}") for i in range(50)]
        for m in maps:
            signals.changed.connect(on_changed, sender=m)
        watches = [m.watch() for m in maps]
        try:
            assert _all_live(watches)
            names = _client_threads()
            assert len(names) <= 8, names
            assert sum(n.endswith("-io") for n in names) == 1
            for i in range(50):
                c.keys.set(f"{etcd_prefix}/d{i}/k", "v")
            with cond:
                assert cond.wait_for(lambda: len(got) == 50, 10)
        finally:
            for w in watches:
                w.stop()
            for m in maps:
                signals.changed.disconnect(on_changed, sender=m)
    for thread in [t for t in threading.enumerate() if t.name.startswith("etcdmap-")]:
        thread.join(10)  # a closed client's hub leaves no thread behind
    assert not _client_threads()


def test_an_idle_watch_keeps_its_stream(etcd_url: str, etcd_prefix: str) -> None:
    with Client(etcd_url, request_timeout=1.0) as c:
        m = EtcdMap(c, etcd_prefix)
        with m.watch() as w:
            assert _all_live([w])
            endpoint, dropped = w.endpoint, w.dropped
            _, liveness = c.backend.hub()
            checks = liveness.checks
            time.sleep(2.5)  # idle: what happens while nothing changes
            assert (w.endpoint, w.dropped) == (endpoint, dropped), "the idle stream was reconnected"
            assert w.state == "live" and w.mode == "http"
            assert 1 <= liveness.checks - checks <= 4  # ~one shared check per 0.8 s
            m["k"] = "v"
            assert w.wait_for(m.index, 5)


def test_a_blocked_receiver_delays_only_its_own_map(client: Client, etcd_prefix: str) -> None:
    slow, fast = EtcdMap(client, f"{etcd_prefix}/slow"), EtcdMap(client, f"{etcd_prefix}/fast")
    release, blocking, arrived = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def block(_sender: object, **kw: Any) -> None:
        order.append(kw["key"])
        blocking.set()
        release.wait(10)

    def on_fast(_sender: object, **kw: Any) -> None:
        arrived.set()

    signals.changed.connect(block, sender=slow)
    signals.changed.connect(on_fast, sender=fast)
    try:
        with slow.watch() as ws, fast.watch() as wf:
            assert _all_live([ws, wf])
            slow["a"] = "1"
            slow["b"] = "2"
            assert blocking.wait(5)
            fast["x"] = "1"
            assert arrived.wait(1), "a receiver of another map held this map's delivery"
            release.set()
            assert ws.wait_for(slow.index, 5)
    finally:
        release.set()
        signals.changed.disconnect(block, sender=slow)
        signals.changed.disconnect(on_fast, sender=fast)
    assert order == ["a", "b"]  # the blocked map's own order is kept


def test_a_stock_session_gets_a_thread_per_stream(etcd_url: str, etcd_prefix: str) -> None:
    with Client(etcd_url, session=requests.Session()) as c:
        m = EtcdMap(c, etcd_prefix)
        seen: list[str] = []

        def on_changed(_sender: object, **kw: Any) -> None:
            seen.append(kw["key"])

        signals.changed.connect(on_changed, sender=m)
        try:
            with m.watch() as w:
                assert _all_live([w])
                assert any(t.name.endswith("-stream") for t in threading.enumerate())
                m["a"] = "1"
                m["b"] = "2"
                assert w.wait_for(m.index, 10)
        finally:
            signals.changed.disconnect(on_changed, sender=m)
    assert seen == ["a", "b"]


def test_closing_the_client_ends_its_watches(etcd_url: str, etcd_prefix: str) -> None:
    for session in (None, requests.Session()):  # multiplexed, then a thread per stream
        c = Client(etcd_url, session=session)
        w = EtcdMap(c, etcd_prefix).watch()
        assert _all_live([w])
        assert w.running
        c.close()
        assert not w.running
        for thread in [t for t in threading.enumerate() if t.name.startswith("etcdmap-")]:
            thread.join(10)
        assert not _client_threads()


def test_a_burst_on_many_maps_loses_nothing(etcd_url: str, etcd_prefix: str) -> None:
    # Under a burst etcd drops v2 streams (100-event buffers) and the hub's I/O thread reads
    # late: a backfill poll whose answer was on its way must not count as silent.
    maps_n, writes = 100, 20
    got: dict[str, int] = {}
    lock = threading.Lock()

    def on_changed(_sender: object, **kw: Any) -> None:
        with lock:
            got[kw["path"]] = got.get(kw["path"], 0) + 1

    with Client(etcd_url) as c, Client(etcd_url) as writer:
        maps = [EtcdMap(c, f"{etcd_prefix}/d{i}") for i in range(maps_n)]
        for m in maps:
            signals.changed.connect(on_changed, sender=m)
        watches = [m.watch() for m in maps]
        try:
            assert _all_live(watches)
            keys = [f"{etcd_prefix}/d{i}/k{j}" for j in range(writes) for i in range(maps_n)]

            def write(part: list[str]) -> None:
                for key in part:
                    writer.keys.set(key, "v")

            threads = [threading.Thread(target=write, args=(keys[i::8],)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            index = writer.keys.get(etcd_prefix).index
            assert all(w.wait_for(index, 20) for w in watches)
        finally:
            for w in watches:
                w.stop()
            for m in maps:
                signals.changed.disconnect(on_changed, sender=m)
    assert sorted(got) == sorted(keys) and set(got.values()) == {1}
