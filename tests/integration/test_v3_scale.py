"""Issue 23's bar on one v3 client: 1,000 watched maps cost at most 16 file descriptors and 8
threads and get every event; 200 kept-alive keys cost at most 8 threads."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from etcdmap import EtcdMap, signals
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _client_threads() -> int:
    return sum(t.name.startswith("etcdmap-") for t in threading.enumerate())


def test_a_thousand_watched_maps(etcd_server: EtcdServer, etcd_prefix: str) -> None:
    n = 1000
    got: dict[str, str] = {}
    cond = threading.Condition()

    def on_changed(sender: Any, **kw: Any) -> None:
        with cond:
            got[sender.path] = kw["value"]
            cond.notify_all()

    with Client(etcd_server.client_url, request_timeout=2.0) as c:
        c.kv.put(f"{etcd_prefix}/seed", "0")  # the client's pooled connection is open
        fds, threads = _fds(), _client_threads()
        maps = [EtcdMap(c, f"{etcd_prefix}/m{i}") for i in range(n)]
        for m in maps:
            signals.changed.connect(on_changed, sender=m)
        watches = [m.watch() for m in maps]
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(w.state == "live" for w in watches):
                time.sleep(0.05)  # poll interval: the hub's workers open the watches
            assert all(w.state == "live" and w.mode == "websocket" for w in watches)
            for i, m in enumerate(maps):
                m["k"] = str(i)
            with cond:
                assert cond.wait_for(lambda: len(got) == n, 60), n - len(got)
            assert got == {m.path: str(i) for i, m in enumerate(maps)}
            extra_fds, extra_threads = _fds() - fds, _client_threads() - threads
            assert extra_fds <= 16, extra_fds
            assert _client_threads() <= 8, extra_threads
        finally:
            for w in watches:
                w.stop()
            for m in maps:
                signals.changed.disconnect(on_changed, sender=m)


def test_two_hundred_kept_alive_keys(etcd_server: EtcdServer, etcd_prefix: str) -> None:
    with Client(etcd_server.client_url, request_timeout=2.0) as c:
        m = EtcdMap(c, etcd_prefix)
        before = threading.active_count()
        keeps = []
        for i in range(200):  # each kept alive at once: 200 sequential sets outlast a 2 s TTL
            m.set(f"k{i}", "v", ttl=2)
            keeps.append(m.keep_alive(f"k{i}", 2).start())
        try:
            time.sleep(3)  # past the TTL
            assert all(ka.alive for ka in keeps)
            assert len(m) == 200
            assert threading.active_count() - before <= 8
            assert _client_threads() <= 8
        finally:
            for ka in keeps:
                ka.stop()
