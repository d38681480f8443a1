"""stats, version, health and machines against real etcd (3.4 and 3.5 bodies differ)."""

from __future__ import annotations

import socket
import time

import pytest

from etcdmap.errors import NoLeaderError
from etcdmap.testing import EtcdCluster, EtcdServer, etcd_version
from etcdmap.v2.client import Client


def test_version(client: Client) -> None:
    major, minor, patch = etcd_version()
    versions = client.version()
    assert versions.server == f"{major}.{minor}.{patch}"
    assert versions.cluster == f"{major}.{minor}.0"


def test_health_of_a_healthy_member(client: Client, etcd_server: EtcdServer) -> None:
    health = client.health()
    assert health.healthy and bool(health)
    assert health.reason == ""  # 3.5 sends "reason": "", 3.4 sends no reason at all
    assert health.endpoint == etcd_server.client_url
    assert client.health(serializable=True).healthy


def test_machines(client: Client, etcd_server: EtcdServer) -> None:
    assert client.machines() == [etcd_server.client_url]


def test_self_and_store_stats(client: Client, etcd_server: EtcdServer, etcd_prefix: str) -> None:
    me = client.stats.self()
    assert me.name == etcd_server.name
    assert me.state == "StateLeader" and me.leader == me.id
    assert me.start_time and me.leader_uptime
    before = client.stats.store()
    client.keys.set(f"{etcd_prefix}/k", "v")
    client.keys.get(f"{etcd_prefix}/k")
    after = client.stats.store()
    assert after.sets_success >= before.sets_success + 1
    assert after.gets_success >= before.gets_success + 1


def test_leader_stats_of_a_single_member(client: Client) -> None:
    stats = client.stats.leader()
    assert stats.leader == client.stats.self().id
    assert stats.followers == {}


@pytest.mark.cluster
def test_leader_stats_asked_through_a_follower(etcd_cluster: EtcdCluster) -> None:
    leader = etcd_cluster.wait_for_leader()
    follower = next(m for m in etcd_cluster.members if m is not leader)
    with Client(follower.client_url) as c:
        mine = c.stats.self()
        assert mine.state == "StateFollower" and mine.name == follower.name
        stats = c.stats.leader()  # the follower answers 403 "not current leader"
        assert stats.leader == mine.leader
        assert len(stats.followers) == 2
        assert all(f.success > 0 for f in stats.followers.values())


@pytest.mark.cluster
def test_health_when_quorum_is_lost(etcd_cluster: EtcdCluster) -> None:
    leader = etcd_cluster.wait_for_leader()
    others = [m for m in etcd_cluster.members if m is not leader]
    with Client(etcd_cluster.client_urls, timeout=10, request_timeout=3) as c:
        assert c.health().healthy
        try:
            for member in others:
                member.stop()  # SIGSTOP: two of three members gone
            health = c.health(endpoint=leader.client_url)
            assert not health.healthy
            if etcd_version() >= (3, 5, 0):
                assert health.reason == "RAFT NO LEADER" or health.reason.startswith("QGET ERROR")
            else:  # 3.4 sends no reason: etcdmap describes the 503
                assert health.reason == "member reported unhealthy (HTTP 503)"
            assert health.endpoint == leader.client_url
            # Without an endpoint: the stopped members time out, the live one answers 503.
            assert not c.health().healthy
            with pytest.raises(NoLeaderError):
                c.members.leader()
        finally:
            for member in others:
                member.cont()
        etcd_cluster.wait_for_leader(timeout=20)
        deadline = time.monotonic() + 20
        while not c.health().healthy:  # members learn about the new leader one by one
            assert time.monotonic() < deadline, "the cluster did not become healthy again"
            time.sleep(0.05)


def test_health_when_no_endpoint_answers() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with Client(dead, timeout=1) as c:
        health = c.health()  # never raises for an unreachable cluster
    assert not health.healthy
    assert health.reason.startswith("no endpoint answered") and dead in health.reason
    assert health.endpoint == ""
