"""Failover on a real 3-member cluster: killed, SIGSTOPped and all-down members."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from etcdmap.errors import AmbiguousResultError, ClusterError
from etcdmap.testing import EtcdCluster, EtcdServer
from etcdmap.v2.client import Client

pytestmark = pytest.mark.cluster
Members = dict[str, EtcdServer]


@pytest.fixture
def members(etcd_cluster: EtcdCluster) -> Iterator[Members]:
    by_url = {m.client_url: m for m in etcd_cluster.members}
    yield by_url
    for member in by_url.values():  # restore for the next test of the module
        if member.is_stopped:
            member.cont()
    etcd_cluster.ensure_healthy()


def test_killed_pinned_member_fails_over(
    etcd_cluster: EtcdCluster, members: Members, etcd_prefix: str
) -> None:
    with Client(etcd_cluster.client_urls, timeout=10.0) as c:
        c.keys.set(etcd_prefix + "/k", "v")
        pinned = c.transport.pinned
        members[pinned].kill()
        assert c.keys.get(etcd_prefix + "/k", quorum=True).node.value == "v"  # type: ignore[union-attr]
        assert c.transport.pinned != pinned
        assert c.keys.create(etcd_prefix + "/after", "v").action == "create"


def test_all_members_down(
    etcd_cluster: EtcdCluster, members: Members
) -> None:
    with Client(etcd_cluster.client_urls, timeout=10.0) as c:
        for member in members.values():
            member.kill()
        started = time.monotonic()
        with pytest.raises(ClusterError) as info:
            c.keys.get("/foo")
        assert time.monotonic() - started < 2.0  # refused connections fail fast
    assert sorted(ep for ep, _ in info.value.errors) == sorted(members)
    assert all(isinstance(err, ConnectionRefusedError) for _, err in info.value.errors)


def test_stopped_member_is_skipped_within_request_timeout(
    etcd_cluster: EtcdCluster, members: Members, etcd_prefix: str
) -> None:
    with Client(etcd_cluster.client_urls, timeout=10.0, request_timeout=0.5) as c:
        c.keys.set(etcd_prefix + "/k", "v")
        pinned = etcd_cluster.followers()[0].client_url  # a stopped leader would need an election
        c.transport.pin(pinned)
        members[pinned].stop()
        started = time.monotonic()
        assert c.keys.get(etcd_prefix + "/k").node.value == "v"  # type: ignore[union-attr]
        assert time.monotonic() - started < 2.0
        assert c.transport.pinned != pinned
        assert c.keys.set(etcd_prefix + "/k", "w").action == "set"


def test_create_in_order_is_never_applied_twice(
    etcd_cluster: EtcdCluster, members: Members, etcd_prefix: str
) -> None:
    queue = etcd_prefix + "/queue"
    with Client(etcd_cluster.client_urls, timeout=10.0, request_timeout=0.5) as c:
        c.keys.mkdir(queue)
        pinned = etcd_cluster.followers()[0].client_url
        c.transport.pin(pinned)
        members[pinned].stop()
        with pytest.raises(AmbiguousResultError):
            c.keys.create_in_order(queue, "job")
        assert c.transport.pinned != pinned
        members[pinned].cont()
        etcd_cluster.wait_healthy()
        time.sleep(0.5)  # let the resumed member finish whatever it had buffered
        listing = c.keys.get(queue, quorum=True).node
        assert listing is not None
        assert len(listing.nodes) <= 1


def test_watcher_leaves_a_stopped_member_without_losing_events(
    etcd_cluster: EtcdCluster, members: Members, etcd_prefix: str
) -> None:
    key = etcd_prefix + "/w"
    with Client(etcd_cluster.client_urls, timeout=10.0, request_timeout=0.5) as c:
        start = c.keys.set(key, "0").index
        w = c.keys.watcher(key, after_index=start, poll_timeout=0.5)
        # stop a follower: writes keep working (a stopped leader would need an election)
        watched = etcd_cluster.followers()[0].client_url
        w.endpoint = watched
        c.transport.pin(next(u for u in members if u != watched))
        members[watched].stop()
        for i in range(1, 4):
            c.keys.set(key, str(i))
        started = time.monotonic()
        values = [w.next(timeout=10).node.value for _ in range(3)]  # type: ignore[union-attr]
        assert values == ["1", "2", "3"]
        assert w.endpoint != watched
        assert time.monotonic() - started < 5.0


def test_watcher_survives_its_member_shutting_down(
    etcd_cluster: EtcdCluster, members: Members, etcd_prefix: str
) -> None:
    key = etcd_prefix + "/w"
    with Client(etcd_cluster.client_urls, timeout=10.0) as c:
        start = c.keys.set(key, "0").index
        watched = etcd_cluster.followers()[0].client_url
        c.transport.pin(next(u for u in members if u != watched))
        w = c.keys.watcher(key, after_index=start, poll_timeout=5.0)
        w.endpoint = watched
        results: list[object] = []

        def watch() -> None:
            try:
                results.extend(w.next(timeout=15).node.value for _ in range(2))  # type: ignore[union-attr]
            except Exception as exc:  # noqa: BLE001 - asserted below
                results.append(exc)

        thread = threading.Thread(target=watch)
        thread.start()
        time.sleep(0.3)  # the watcher is now polling the member
        members[watched].terminate()  # graceful: etcd ends the open long poll
        c.keys.set(key, "1")
        c.keys.set(key, "2")
        thread.join(20)
        assert results == ["1", "2"]
        assert w.endpoint != watched
