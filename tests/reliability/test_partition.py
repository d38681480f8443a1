"""A member cut off from its peers (a real partition on loopback, by nftables): mirrors whose
client pinned it move to a healthy member and catch up; the client's pin moves too.

The members listen on 127.0.0.1, .2 and .3 (the third runs as ``nobody``, so that its
outgoing connections can be matched); the rules drop the isolated member's peer traffic only:
clients still reach it, and its v2 reads keep answering 200 with stale data. What detects it
is the watch hub's shared liveness check: ``/health`` answers 503 on a member without a
leader. Needs root and ``nft``; skipped otherwise.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import pytest
from relhelp import report

from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import EtcdCluster, Partition, nft_unavailable
from etcdmap.v2.client import Client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
REQUEST_TIMEOUT = 1.0


@pytest.fixture
def cluster() -> Iterator[EtcdCluster]:
    """Three members, each on its own loopback address."""
    reason = nft_unavailable()
    if reason is not None:
        pytest.skip(f"no real partition possible: {reason}")
    with EtcdCluster(3, hosts=HOSTS, users=[None, None, "nobody"]) as cluster:
        yield cluster


@pytest.fixture
def partition(request: pytest.FixtureRequest, cluster: EtcdCluster) -> Iterator[Partition]:
    """The rules isolating the member on 127.0.0.3 (installed by the test: ``.cut()``),
    always removed afterwards."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:40]
    isolated = next(m for m in cluster.members if m.host == HOSTS[2])
    others = [m for m in cluster.members if m is not isolated]
    part = Partition(f"etcdmap_{name}_{os.getpid()}", isolated, others)
    try:
        yield part
    finally:
        part.heal()


def test_mirror_leaves_a_partitioned_member_and_catches_up(
    cluster: EtcdCluster, partition: Partition, etcd_prefix: str
) -> None:
    isolated = partition.isolated.client_url
    healthy = [m.client_url for m in partition.others]
    with Client(cluster.client_urls, timeout=5.0, request_timeout=REQUEST_TIMEOUT) as wc, \
            Client(healthy, timeout=5.0, request_timeout=REQUEST_TIMEOUT) as c:
        wc.transport.pin(isolated)
        writer = EtcdMap(c, etcd_prefix)
        writer["k"] = "before"
        with EtcdMap(wc, etcd_prefix).mirror() as mirror:
            assert mirror.watch is not None
            assert mirror.wait_for(writer.index, 10)
            deadline = time.monotonic() + 5
            while mirror.watch.endpoint != isolated and time.monotonic() < deadline:
                time.sleep(0.01)  # poll interval: a worker opens the stream
            assert mirror.watch.endpoint == isolated
            partition.cut()
            cut_at = time.monotonic()
            # The majority elects (if needed) and takes writes; the isolated member does not
            # see them, yet its reads still answer.
            deadline = time.monotonic() + 15
            while True:
                try:
                    writer["k"] = "after"
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
            for i in range(20):
                writer[f"n{i}"] = str(i)
            with Client(isolated, timeout=5.0) as ic:  # the partition is real: stale reads
                assert ic.keys.get(f"{etcd_prefix}/k").node.value == "before"  # type: ignore[union-attr]
            assert mirror.wait_for(writer.index, 15), "the mirror stayed on the isolated member"
            stale_for = time.monotonic() - cut_at
            assert mirror["k"] == "after"
            assert mirror.to_dict() == writer.to_dict()
            assert mirror.watch.endpoint in healthy
            assert wc.transport.pinned != isolated
            assert mirror.watch.running
    report("mirror on a partitioned member", stale_for_s=stale_for)
    assert stale_for < 2 * (REQUEST_TIMEOUT + 1.0) + 3.0  # a check, an election, a backfill
