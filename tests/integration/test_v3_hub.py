"""v3 watches on the client's watch hub: no thread per watch, every event delivered."""

from __future__ import annotations

import threading
from typing import Any

from etcdmap import EtcdMap, signals
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client


def test_many_v3_watches_share_the_hub_threads(etcd_server: EtcdServer, etcd_prefix: str) -> None:
    seen: dict[str, list[str]] = {}
    lock = threading.Lock()
    done = threading.Event()
    maps: list[EtcdMap] = []

    def on_change(sender: Any, **kw: Any) -> None:
        with lock:
            seen.setdefault(sender.path, []).append(kw["value"])
            if sum(len(v) for v in seen.values()) == 20 * 3:
                done.set()

    with Client(etcd_server.client_url, request_timeout=1.0) as c:
        before = threading.active_count()
        watches = []
        for i in range(20):
            m = EtcdMap(c, f"{etcd_prefix}/m{i}")
            maps.append(m)
            signals.changed.connect(on_change, sender=m, weak=False)
            watches.append(m.watch())
        try:
            assert {w.mode for w in watches} == {"websocket"}  # one socket, not a thread each
            # one I/O thread, a few workers and dispatchers: not one thread per watch
            assert threading.active_count() - before <= 8
            for n in range(3):
                for m in maps:
                    m["k"] = str(n)
            assert done.wait(15), seen
            for m in maps:
                assert seen[m.path] == ["0", "1", "2"]  # in order, none lost or repeated
        finally:
            for m, w in zip(maps, watches, strict=True):
                w.stop()
                signals.changed.disconnect(on_change, sender=m)


def test_a_quiet_proof_sees_a_key_created_and_deleted_in_between(
    etcd_server: EtcdServer, etcd_prefix: str
) -> None:
    # The old proof compared the keys at both revisions and missed this key: the nudge then
    # moved the subscription past its events, which were dropped when they arrived.
    from etcdmap.v3.changes import proven_quiet
    from etcdmap.v3.cursor import scope

    wants = scope(f"{etcd_prefix}/dir", True)
    with Client(etcd_server.client_url) as c:
        last = c.kv.put(f"{etcd_prefix}/dir/a", "1").header.revision
        c.kv.put(f"{etcd_prefix}/dir/tmp", "x")
        c.kv.delete(f"{etcd_prefix}/dir/tmp")
        c.kv.put(f"{etcd_prefix}/elsewhere", "y")
        assert proven_quiet(c, wants, last) is None
        quiet_from = c.kv.put(f"{etcd_prefix}/elsewhere", "z").header.revision
        now = c.kv.put(f"{etcd_prefix}/elsewhere", "w").header.revision
        assert proven_quiet(c, wants, quiet_from) == now


def test_a_nudge_never_skips_events(etcd_server: EtcdServer, etcd_prefix: str) -> None:
    seen: list[tuple[str, str]] = []
    with Client(etcd_server.client_url, request_timeout=1.0) as c:
        m = EtcdMap(c, f"{etcd_prefix}/dir")

        def on_change(_sender: Any, **kw: Any) -> None:
            seen.append((kw["action"], kw["key"]))

        signals.changed.connect(on_change, sender=m, weak=False)
        try:
            with m.watch() as w:
                m["tmp"] = "x"
                del m["tmp"]
                other = EtcdMap(c, f"{etcd_prefix}/other")
                other["k"] = "v"
                assert w.wait_for(other.index, 10)
                assert seen == [("create", "tmp"), ("delete", "tmp")]
        finally:
            signals.changed.disconnect(on_change, sender=m)
