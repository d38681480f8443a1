"""A member cut off from its peers (a real partition on loopback, by nftables), on both APIs
(the ``api`` fixture): mirrors whose client pinned it move to a healthy member and catch up;
the client's pin moves too.

The members listen on 127.0.0.1, .2 and .3 (the ``spread_cluster`` and ``partition`` fixtures
of conftest.py); the rules drop the isolated member's peer traffic only: clients still reach
it, and its v2 reads and v3 serializable reads keep answering with stale data. What detects it
is the watch hub's shared liveness check: ``/health`` answers 503 on a member without a
leader. Needs root and ``nft``; skipped otherwise.
"""

from __future__ import annotations

import time

import pytest
from apis import client_for
from relhelp import report

from etcdmap import EtcdMap
from etcdmap.testing import EtcdCluster, Partition
from etcdmap.v3 import Client as V3Client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

REQUEST_TIMEOUT = 1.0


def test_mirror_leaves_a_partitioned_member_and_catches_up(
    api: str, spread_cluster: EtcdCluster, partition: Partition, etcd_prefix: str
) -> None:
    isolated = partition.isolated.client_url
    healthy = [m.client_url for m in partition.others]
    with client_for(api, spread_cluster.client_urls, timeout=5.0,
                    request_timeout=REQUEST_TIMEOUT) as wc, \
            client_for(api, healthy, timeout=5.0, request_timeout=REQUEST_TIMEOUT) as c:
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
            with client_for(api, isolated, timeout=5.0) as ic:  # the partition is real:
                if isinstance(ic, V3Client):  # a serializable read answers from the member
                    stale = ic.kv.range(f"{etcd_prefix}/k", serializable=True).kvs[0].value_text
                else:  # a v2 read does
                    stale = ic.keys.get(f"{etcd_prefix}/k").node.value  # type: ignore[union-attr]
                assert stale == "before"
            assert mirror.wait_for(writer.index, 15), "the mirror stayed on the isolated member"
            stale_for = time.monotonic() - cut_at
            assert mirror["k"] == "after"
            assert mirror.to_dict() == writer.to_dict()
            assert mirror.watch.endpoint in healthy
            assert wc.transport.pinned != isolated
            assert mirror.watch.running
    report(f"{api}: mirror on a partitioned member", stale_for_s=stale_for)
    assert stale_for < 2 * (REQUEST_TIMEOUT + 1.0) + 3.0  # a check, an election, a backfill
