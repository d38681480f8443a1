"""The v3 backend on a 3-member cluster while the pinned member is killed or SIGSTOPped,
during writes through EtcdMap and a watch: 0 acknowledged writes lost, 0 events lost.

A write is a txn, which is not re-sent after an ambiguous failure: it raises
``AmbiguousResultError`` instead (it may have applied). The watch resumes on another member
at the last delivered revision + 1.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from relhelp import by_url, report, restored, wait_until

from etcdmap import EtcdMap, signals
from etcdmap.errors import AmbiguousResultError, ClusterError, DeadlineExceeded
from etcdmap.testing import EtcdCluster
from etcdmap.v3 import Client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

WRITES = 400
FAILED = (AmbiguousResultError, ClusterError, DeadlineExceeded)


class Seen:
    """The ``changed`` events of one sender, as ``(key, value)``."""

    def __init__(self, sender: object) -> None:
        self.items: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._sender = sender
        signals.changed.connect(self.receive, sender=sender)

    def receive(self, sender: object, **event: Any) -> None:
        with self._lock:
            self.items.append((event["key"], event["value"]))

    def close(self) -> None:
        signals.changed.disconnect(self.receive, sender=self._sender)


@pytest.mark.parametrize("victim", ["follower", "leader"])
def test_kill_pinned_member_during_writes_and_a_mirror(
    etcd_cluster: EtcdCluster, etcd_prefix: str, victim: str
) -> None:
    members = by_url(etcd_cluster)
    with restored(etcd_cluster), Client(
        etcd_cluster.client_urls, timeout=5.0, request_timeout=1.0
    ) as c:
        leader = etcd_cluster.wait_for_leader()
        target = leader if victim == "leader" else etcd_cluster.followers()[0]
        c.transport.pin(target.client_url)
        m = EtcdMap(c, etcd_prefix)
        m["seed"] = "0"
        acked: dict[str, str] = {}
        maybe: set[str] = set()
        live = m.mirror()
        seen = Seen(live)
        try:
            def kill_pinned() -> None:
                members[c.transport.pinned].kill()  # whatever is pinned now, mid-request

            killer = threading.Timer(0.4, kill_pinned)
            started = time.monotonic()
            killer.start()
            try:
                for i in range(WRITES):
                    key = f"k{i:04d}"
                    try:
                        m[key] = str(i)
                        acked[key] = str(i)
                    except AmbiguousResultError:
                        maybe.add(key)
                    except FAILED:
                        pass
            finally:
                killer.join()
            elapsed = time.monotonic() - started
            assert live.wait_for(timeout=15)
        finally:
            seen.close()
            live.close()
        stored = m.to_dict()
        for key, value in acked.items():
            assert stored.get(key) == value, f"acknowledged {key} is missing"
        assert set(stored) - {"seed"} <= set(acked) | maybe
        assert live.to_dict() == stored
        events = [k for k, _ in seen.items]
        assert events == sorted(set(stored) - {"seed"}), "an event was lost or repeated"
        assert len(acked) >= WRITES - 50
        report(f"v3: kill pinned {victim} during {WRITES} writes + mirror", seconds=elapsed,
               acked=len(acked), ambiguous=len(maybe), events=len(events))


def test_watch_on_a_stopped_member_moves_on_without_losing_events(
    etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    members = by_url(etcd_cluster)
    followers = etcd_cluster.followers()
    watched, writer_url = followers[0].client_url, followers[1].client_url
    with restored(etcd_cluster), Client(
        etcd_cluster.client_urls, timeout=5.0, request_timeout=0.5
    ) as wc, Client(etcd_cluster.client_urls, timeout=5.0, request_timeout=0.5) as c:
        wc.transport.pin(watched)
        c.transport.pin(writer_url)
        wmap, emap = EtcdMap(wc, etcd_prefix), EtcdMap(c, etcd_prefix)
        emap["before"] = "0"
        seen = Seen(wmap)
        try:
            with wmap.watch(after_index=emap.index) as watch:
                assert wait_until(lambda: watch.endpoint == watched, 5)
                members[watched].stop()
                stopped_at = time.monotonic()
                expected = [(f"k{i:03d}", str(i)) for i in range(100)]
                for key, value in expected:
                    emap[key] = value
                assert watch.wait_for(emap.index, timeout=15.0), "events were not delivered"
                delay = time.monotonic() - stopped_at
                assert watch.endpoint != watched
        finally:
            seen.close()
        assert seen.items == expected  # every event, in order, once
        report("v3: watch on a SIGSTOPped member", events=len(seen.items),
               delivered_within_s=delay)


def test_writes_skip_a_stopped_pinned_member(etcd_cluster: EtcdCluster, etcd_prefix: str) -> None:
    members = by_url(etcd_cluster)
    with restored(etcd_cluster), Client(
        etcd_cluster.client_urls, timeout=5.0, request_timeout=0.5
    ) as c:
        c.transport.pin(etcd_cluster.followers()[0].client_url)
        m = EtcdMap(c, etcd_prefix)
        m["a"] = "0"
        members[c.transport.pinned].stop()
        acked = 0
        for i in range(50):
            try:
                m["a"] = str(i)
                acked += 1
            except AmbiguousResultError:
                pass
        assert acked >= 48 and m["a"] == "49"
