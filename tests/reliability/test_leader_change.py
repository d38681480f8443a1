"""Leader change under load: SIGKILL of the leader while 4 threads write and a watch and a
mirror follow.

What it proves: no acknowledged write is lost; the watch delivers an event for every stored
write, in index order, without duplicates; the mirror equals the store at the end.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from relhelp import report, restored

from etcdmap import signals
from etcdmap.errors import ClusterError, DeadlineExceeded
from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import EtcdCluster
from etcdmap.v2.client import Client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

THREADS = 4


def test_kill_leader_under_load(etcd_cluster: EtcdCluster, etcd_prefix: str) -> None:
    seen: list[tuple[str, Any, int]] = []
    lock = threading.Lock()

    def on_change(sender: object, **event: Any) -> None:
        with lock:
            seen.append((event["key"], event["value"], event["index"]))

    acked: dict[str, str] = {}
    failures: list[BaseException] = []
    stop = threading.Event()
    with restored(etcd_cluster), Client(
        etcd_cluster.client_urls, timeout=5.0, request_timeout=1.0
    ) as c, Client(etcd_cluster.client_urls, timeout=5.0, request_timeout=1.0) as wc:
        leader = etcd_cluster.wait_for_leader()
        wc.transport.pin(leader.client_url)  # the watch starts on the member about to die
        emap, wmap = EtcdMap(c, etcd_prefix), EtcdMap(wc, etcd_prefix)
        emap["start"] = "0"
        mirror = EtcdMap(wc, etcd_prefix).mirror()
        signals.changed.connect(on_change, sender=wmap)

        def writer(t: int) -> None:
            i = 0
            while not stop.is_set():
                key, value = f"t{t}-{i:05d}", f"{t}:{i}"
                try:
                    emap[key] = value  # an unconditional set: idempotent, retried elsewhere
                except (ClusterError, DeadlineExceeded) as exc:
                    failures.append(exc)
                else:
                    with lock:
                        acked[key] = value
                i += 1

        try:
            with wmap.watch() as watch:
                threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
                for thread in threads:
                    thread.start()
                time.sleep(0.7)  # let load build up before the kill
                leader.kill()
                killed = time.monotonic()
                new_leader = etcd_cluster.wait_for_leader(timeout=15.0)
                elected = time.monotonic() - killed
                time.sleep(1.0)  # load on the new leader
                stop.set()
                for thread in threads:
                    thread.join(15)
                stored = emap.to_dict()
                assert watch.wait_for(emap.index, timeout=20.0), "the watch fell behind"
                assert mirror.wait_for(emap.index, timeout=20.0), "the mirror fell behind"
                mirrored = mirror.to_dict()
        finally:
            signals.changed.disconnect(on_change, sender=wmap)
            mirror.close()
        assert new_leader is not leader
        for key, value in acked.items():
            assert stored.get(key) == value, f"acknowledged {key}={value} lost"
        with lock:
            events = list(seen)
        indexes = [index for _, _, index in events]
        assert indexes == sorted(set(indexes)), "events out of order or duplicated"
        watched = {key: value for key, value, _ in events}
        for key, value in stored.items():
            if key != "start":
                assert watched.get(key) == value, f"the watch missed {key}"
        assert mirrored == stored
        report(
            "kill leader under 4 writer threads", acked=len(acked), failures=len(failures),
            events=len(events), election_s=elected,
        )
