"""Failover of the asyncio clients on a real 3-member cluster: a killed pinned member, a
SIGSTOPped one skipped within ``request_timeout``, writes never applied twice."""

from __future__ import annotations

import asyncio
import time

import pytest

import etcdmap.aio
from etcdmap.errors import AmbiguousResultError
from etcdmap.testing import EtcdCluster, EtcdServer

pytestmark = pytest.mark.cluster
Members = dict[str, EtcdServer]


@pytest.fixture
def members(etcd_cluster: EtcdCluster) -> Members:
    """The members by client URL (the etcdmap plugin heals the cluster before each test)."""
    return {m.client_url: m for m in etcd_cluster.members}


async def test_a_killed_pinned_member_fails_over(
    etcd_cluster: EtcdCluster, members: Members, etcd_prefix: str
) -> None:
    async with etcdmap.aio.v3.Client(etcd_cluster.client_urls, timeout=10.0) as c:
        await c.kv.put(etcd_prefix + "/k", "v")
        pinned = c.transport.pinned
        members[pinned].kill()
        assert await c.kv.get(etcd_prefix + "/k") == b"v"
        assert c.transport.pinned != pinned
        assert (await c.kv.put(etcd_prefix + "/after", "v")).header.revision > 0


async def test_a_stopped_member_is_skipped_within_request_timeout(
    etcd_cluster: EtcdCluster, members: Members, etcd_prefix: str
) -> None:
    async with etcdmap.aio.Client(etcd_cluster.client_urls, timeout=10.0,
                                  request_timeout=0.5) as c:
        await c.keys.set(etcd_prefix + "/k", "v")
        pinned = etcd_cluster.followers()[0].client_url  # a stopped leader needs an election
        c.transport.pin(pinned)
        members[pinned].stop()
        started = time.monotonic()
        reads = [c.keys.get(etcd_prefix + "/k") for _ in range(20)]
        assert {r.node.value for r in await asyncio.gather(*reads)} == {"v"}  # type: ignore[union-attr]
        assert time.monotonic() - started < 2.0
        assert c.transport.pinned != pinned


async def test_create_in_order_on_a_stopped_member_is_never_applied_twice(
    etcd_cluster: EtcdCluster, members: Members, etcd_prefix: str
) -> None:
    queue = etcd_prefix + "/queue"
    async with etcdmap.aio.Client(etcd_cluster.client_urls, timeout=10.0,
                                  request_timeout=0.5) as c:
        await c.keys.mkdir(queue)
        pinned = etcd_cluster.followers()[0].client_url
        c.transport.pin(pinned)
        members[pinned].stop()
        with pytest.raises(AmbiguousResultError):
            await c.keys.create_in_order(queue, "job")
        assert c.transport.pinned != pinned
        members[pinned].cont()
        etcd_cluster.wait_healthy()
        await asyncio.sleep(0.5)  # let the resumed member finish what it had buffered
        listing = (await c.keys.get(queue, quorum=True)).node
        assert listing is not None
        assert len(listing.nodes) <= 1
