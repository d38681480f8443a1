"""v3 watches on the client's watch hub: no thread per watch, every event delivered."""

from __future__ import annotations

import threading
from typing import Any

from etcdmap import EtcdMap, signals
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client
from etcdmap.v3.subscription import V3Subscription


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
            assert all(isinstance(w._sub, V3Subscription) for w in watches)  # noqa: SLF001
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
