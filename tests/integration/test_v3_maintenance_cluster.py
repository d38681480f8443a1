"""etcdmap.v3 maintenance on a real 3-member etcd 3.5 cluster: defragmenting each member,
moving the leadership, finding the leader."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from etcdmap.errors import NoLeaderError
from etcdmap.testing import EtcdCluster
from etcdmap.v3 import Client
from etcdmap.v3 import errors as e

pytestmark = pytest.mark.cluster


@pytest.fixture
def v3(etcd_cluster: EtcdCluster) -> Iterator[Client]:
    with Client(etcd_cluster.client_urls, timeout=10.0, request_timeout=3.0) as c:
        yield c


def test_defragment_each_member_gives_the_space_back(v3: Client, etcd_cluster: EtcdCluster,
                                                     etcd_prefix: str) -> None:
    blob = "x" * 100_000
    for _ in range(30):  # 3 MB of history on one key, on every member
        v3.kv.put(etcd_prefix, blob)
    v3.kv.compact(v3.status().header.revision, physical=True)
    urls = etcd_cluster.client_urls
    before = {url: v3.status(endpoint=url).db_size for url in urls}
    assert v3.maintenance.defragment(urls) == urls  # one member at a time, in order
    for url in urls:
        after = v3.status(endpoint=url)
        assert after.db_size < before[url] - 1_000_000, (url, before[url], after.db_size)
        assert after.db_size_in_use <= after.db_size
    assert v3.kv.get(etcd_prefix) == blob.encode()


def test_move_leader_to_a_follower(v3: Client) -> None:
    leader = v3.members.leader()
    follower = next(m for m in v3.members.list().members if m.id != leader.id)
    v3.maintenance.move_leader(follower.id)
    pause = threading.Event()
    for _ in range(100):  # etcd answers once the transfer is done; a member may lag
        if v3.members.leader().id == follower.id:
            break
        pause.wait(0.05)
    assert v3.members.leader().id == follower.id
    assert v3.maintenance.move_leader(follower.id).revision == 0  # already leader: nothing to do
    with pytest.raises(e.BadLeaderTransferee):
        v3.maintenance.move_leader(12345)


def test_no_leader_is_a_no_leader_error(v3: Client, etcd_cluster: EtcdCluster) -> None:
    survivor = etcd_cluster.members[0]
    for member in etcd_cluster.members[1:]:
        member.kill()
    with Client(survivor.client_url, timeout=5) as lone:
        pause = threading.Event()
        for _ in range(100):  # the survivor notices the lost quorum after an election timeout
            if not lone.status().leader:
                break
            pause.wait(0.05)
        with pytest.raises(NoLeaderError, match="no leader"):
            lone.members.leader()
