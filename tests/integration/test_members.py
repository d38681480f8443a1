"""The members API on a real 3-member cluster: list, leader, add/start/update/remove, errors."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from etcdmap.errors import MemberExists, MemberNotFound, MemberRemoved
from etcdmap.testing import EtcdCluster
from etcdmap.v2.client import Client
from etcdmap.v2.models import Member

pytestmark = pytest.mark.cluster

T = TypeVar("T")


@pytest.fixture(scope="module")
def etcd_cluster() -> Iterator[EtcdCluster]:
    """This module's cluster: strict reconfiguration checks off, so a member can be added
    right after the start (etcd otherwise answers 500 "unhealthy cluster" for 5 s)."""
    with EtcdCluster(3, extra_args=["--strict-reconfig-check=false"]) as cluster:
        yield cluster


@pytest.fixture
def client(etcd_cluster: EtcdCluster) -> Iterator[Client]:
    with Client(etcd_cluster.client_urls, timeout=10) as c:
        yield c


def _eventually(probe: Callable[[], T | None], timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.05)  # polling a real cluster, not a unit test


def _free_peer_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_list_matches_the_cluster(etcd_cluster: EtcdCluster, client: Client) -> None:
    members = client.members.list()
    assert sorted(m.name for m in members) == sorted(m.name for m in etcd_cluster.members)
    assert sorted(u for m in members for u in m.client_urls) == sorted(etcd_cluster.client_urls)
    assert sorted(u for m in members for u in m.peer_urls) == sorted(etcd_cluster.peer_urls)
    assert all(int(m.id, 16) > 0 for m in members)


def test_leader(etcd_cluster: EtcdCluster, client: Client) -> None:
    leader = client.members.leader()
    expected = etcd_cluster.wait_for_leader()
    assert leader.name == expected.name
    assert leader.client_urls == (expected.client_url,)
    assert leader in client.members.list()
    stats = client.stats.self(endpoint=expected.client_url)
    assert stats.state == "StateLeader" and stats.id == leader.id


def test_add_start_update_remove_with_sync(etcd_cluster: EtcdCluster, client: Client) -> None:
    new = etcd_cluster.new_member()
    try:
        added = client.members.add(new.peer_url)
        assert added.peer_urls == (new.peer_url,)
        assert added.name == "" and added.client_urls == ()  # not started yet
        assert added.id in {m.id for m in client.members.list()}
        with pytest.raises(MemberExists, match="exists"):
            client.members.add(new.peer_url)

        new.start()  # joins with --initial-cluster-state existing

        def joined() -> Member | None:
            for m in client.members.list():
                if m.id == added.id and m.name == new.name and m.client_urls:
                    return m
            return None

        member = _eventually(joined)
        assert member.client_urls == (new.client_url,)
        client.sync()
        assert sorted(client.endpoints) == sorted(etcd_cluster.client_urls)
        assert new.client_url in client.endpoints

        moved = _free_peer_url()
        client.members.update(added.id, [moved])
        assert next(m for m in client.members.list() if m.id == added.id).peer_urls == (moved,)

        # Talking to the member being removed: the removal goes to another member (the
        # removed one stops before answering, which would look ambiguous).
        client.transport.pin(new.client_url)
        assert client.transport.pinned == new.client_url
        client.members.remove(added)
        assert client.transport.pinned != new.client_url
        assert added.id not in {m.id for m in client.members.list()}
        with pytest.raises((MemberRemoved, MemberNotFound)):
            client.members.remove(added.id)
    finally:
        etcd_cluster.remove_member(new)
    client.sync()
    assert new.client_url not in client.endpoints
    assert sorted(client.endpoints) == sorted(etcd_cluster.client_urls)


def test_unknown_members(client: Client) -> None:
    with pytest.raises(MemberNotFound, match="No such member") as info:
        client.members.remove("1234abcd")
    assert info.value.status == 404
    assert "unexpected status" not in str(info.value)
    with pytest.raises(MemberNotFound):
        client.members.update("1234abcd", [_free_peer_url()])


def test_existing_peer_url_is_refused(etcd_cluster: EtcdCluster, client: Client) -> None:
    with pytest.raises(MemberExists, match="exists") as info:
        client.members.add(etcd_cluster.peer_urls[0])
    assert info.value.status == 409
    first = client.members.list()[0]
    other = next(u for u in etcd_cluster.peer_urls if u not in first.peer_urls)
    with pytest.raises(MemberExists):
        client.members.update(first.id, [other])


@pytest.mark.parametrize(
    "bad", ["127.0.0.1:2380", "ftp://127.0.0.1:2380", "http://h:2380/x", "http://h"]
)
def test_bad_peer_urls_fail_before_any_request(bad: str) -> None:
    # Nothing listens on this endpoint: a request would fail with ClusterError.
    with Client(_free_peer_url(), timeout=1) as offline:
        with pytest.raises(ValueError):
            offline.members.add(bad)
        with pytest.raises(ValueError):
            offline.members.update("abc", [bad])
