"""The member that carries a v3 client's WebSockets (every watch, every lease keep-alive)
killed, SIGSTOPped or cut off from its peers (nftables): every watch resumes on another member
with 0 events lost or repeated, and every kept lease stays alive."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from relhelp import report, restored, wait_until

from etcdmap import EtcdMap, signals
from etcdmap.testing import EtcdCluster, EtcdServer, Partition
from etcdmap.v3 import Client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

MAPS = 20
LEASES = 10
TTL = 3


class Events:
    """The ``changed`` events of many maps, as ``path -> [values]``."""

    def __init__(self, maps: list[EtcdMap]) -> None:
        self.got: dict[str, list[str]] = {m.path: [] for m in maps}
        self.lock = threading.Lock()
        self.maps = maps
        for m in maps:
            signals.changed.connect(self.receive, sender=m)

    def receive(self, sender: Any, **kw: Any) -> None:
        with self.lock:
            self.got[sender.path].append(kw["value"])

    def close(self) -> None:
        for m in self.maps:
            signals.changed.disconnect(self.receive, sender=m)


def run_fault(cluster: EtcdCluster, victim: EtcdServer, prefix: str,
              fault: Callable[[], object], name: str) -> None:
    """Watches and leases on ``victim``'s sockets, writes through another member, the fault."""
    writer_url = next(m.client_url for m in cluster.members if m is not victim)
    with Client(cluster.client_urls, timeout=5.0, request_timeout=1.0) as c, \
            Client(cluster.client_urls, timeout=5.0, request_timeout=1.0) as w:
        c.transport.pin(victim.client_url)
        w.transport.pin(writer_url)
        maps = [EtcdMap(c, f"{prefix}/m{i}") for i in range(MAPS)]
        writers = [EtcdMap(w, f"{prefix}/m{i}") for i in range(MAPS)]
        events = Events(maps)
        leases = [w.lease.grant(TTL).id for _ in range(LEASES)]
        keepers = [c.backend.streams.leases().keep(lease, TTL) for lease in leases]
        watches = [m.watch() for m in maps]
        try:
            assert wait_until(lambda: all(x.endpoint == victim.client_url for x in watches), 10)
            assert all(x.mode == "websocket" for x in watches)
            started = time.monotonic()
            fault()
            for n in range(10):
                for wm in writers:
                    wm["k"] = str(n)
                time.sleep(0.1)  # writes spread over the failover
            behind = [(m.path, x.endpoint, x.index) for m, x in zip(maps, watches, strict=True)
                      if not x.wait_for(writers[-1].index, 20)]
            assert behind == [], f"not at {writers[-1].index}: {behind}"
            moved = time.monotonic() - started
            assert all(x.endpoint != victim.client_url for x in watches)
            time.sleep(TTL)  # a full TTL after the fault: the renewals went elsewhere
            assert all(k.alive for k in keepers), [k.error for k in keepers]
            assert all(w.lease.time_to_live(lease).ttl > 0 for lease in leases)
        finally:
            for x in watches:
                x.stop()
            for k in keepers:
                k.stop(revoke=False)
            events.close()
        expected = [str(n) for n in range(10)]
        assert all(got == expected for got in events.got.values()), events.got
        report(f"v3 sockets: {name}", maps=MAPS, leases=LEASES, caught_up_s=round(moved, 2))


def test_kill_the_member_carrying_the_sockets(etcd_cluster: EtcdCluster,
                                              etcd_prefix: str) -> None:
    with restored(etcd_cluster):
        victim = etcd_cluster.followers()[0]
        run_fault(etcd_cluster, victim, etcd_prefix, victim.kill, "member killed")


def test_sigstop_the_member_carrying_the_sockets(etcd_cluster: EtcdCluster,
                                                 etcd_prefix: str) -> None:
    with restored(etcd_cluster):
        victim = etcd_cluster.followers()[0]
        try:
            run_fault(etcd_cluster, victim, etcd_prefix, victim.stop, "member SIGSTOPped")
        finally:
            victim.cont()


def lead_elsewhere(cluster: EtcdCluster, isolated: EtcdServer) -> None:
    """Hand the leadership away from ``isolated`` before it is cut off: a cut leader leaves the
    writer's side without a leader for an election timeout, longer than the writes' 1 s budget
    (the writes are not what this test is about)."""
    if cluster.wait_for_leader() is not isolated:
        return
    with Client(cluster.client_urls, timeout=5.0) as c:
        target = next(m for m in c.members.list().members
                      if isolated.client_url not in m.client_urls)
        c.maintenance.move_leader(target.id)
    assert wait_until(lambda: cluster.leader() not in (None, isolated), 10)


def test_partition_the_member_carrying_the_sockets(
    spread_cluster: EtcdCluster, partition: Partition, etcd_prefix: str
) -> None:
    """The ``spread_cluster`` and ``partition`` fixtures are in conftest.py."""
    lead_elsewhere(spread_cluster, partition.isolated)
    run_fault(spread_cluster, partition.isolated, etcd_prefix, partition.cut,
              "member partitioned")
