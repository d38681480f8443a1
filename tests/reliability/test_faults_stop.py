"""SIGSTOP of the pinned member of a 3-member cluster: it accepts connections and never
answers. On both APIs (the ``api`` fixture: v2 and v3), and through v2's keys API.

What it proves: with ``request_timeout=0.5`` reads and writes go on through the other members,
the stopped member costing at most about one ``request_timeout`` once (a v2 PUT is re-sent; a
v3 txn in flight is not and raises ``AmbiguousResultError``); a watch connected to the stopped
member moves to a live one and delivers every event, once and in order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from apis import AnyClient, client_for, only
from relhelp import Seen, by_url, percentile, report, restored, wait_until

from etcdmap import EtcdMap
from etcdmap.errors import AmbiguousResultError
from etcdmap.testing import EtcdCluster, EtcdServer

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

REQUEST_TIMEOUT = 0.5
BOUND = 2 * REQUEST_TIMEOUT + 0.3


@contextmanager
def watcher_and_writer(
    api: str, cluster: EtcdCluster
) -> Iterator[tuple[EtcdServer, AnyClient, AnyClient]]:
    """A follower (the member the test stops), a client pinned to it and a client pinned to
    the other follower; the cluster is given back healthy afterwards."""
    watched, writer = cluster.followers()[:2]
    with restored(cluster), client_for(
        api, cluster.client_urls, timeout=5.0, request_timeout=REQUEST_TIMEOUT
    ) as wc, client_for(
        api, cluster.client_urls, timeout=5.0, request_timeout=REQUEST_TIMEOUT
    ) as c:
        wc.transport.pin(watched.client_url)
        c.transport.pin(writer.client_url)
        yield watched, wc, c


@pytest.mark.parametrize("first", ["read", "write"])
def test_stopped_pinned_member_is_skipped_within_request_timeout(
    api: str, etcd_cluster: EtcdCluster, etcd_prefix: str, first: str
) -> None:
    """300 reads and writes in turn, ``first`` being the request that meets the stopped member."""
    members = by_url(etcd_cluster)
    with restored(etcd_cluster), client_for(
        api, etcd_cluster.client_urls, timeout=5.0, request_timeout=REQUEST_TIMEOUT
    ) as c:
        emap = EtcdMap(c, etcd_prefix)
        emap["k"] = "0"
        victim = etcd_cluster.followers()[0].client_url  # a stopped leader would need an election
        c.transport.pin(victim)
        members[victim].stop()
        latencies: list[float] = []
        possible = {"0"}  # what a read may return: the last write, or an ambiguous one after it
        ambiguous = 0
        for i in range(300):
            started = time.monotonic()
            if (i % 2 == 0) == (first == "write"):
                try:
                    emap["k"] = str(i)
                    possible = {str(i)}
                except AmbiguousResultError:
                    ambiguous += 1
                    possible.add(str(i))
            else:
                value = emap["k"]
                assert value in possible, (value, possible)
                possible = {value}
            latencies.append(time.monotonic() - started)
        assert c.transport.pinned != victim
        p99, worst = percentile(latencies, 99), max(latencies)
        report(
            f"{api}: SIGSTOP pinned member, 300 reads/writes, {first} first",
            request_timeout=REQUEST_TIMEOUT, p50=percentile(latencies, 50), p99=p99, max=worst,
            ambiguous=ambiguous,
        )
        assert ambiguous <= (0 if api == "v2" else 2)  # v3: the write in flight at the stop
        assert p99 <= BOUND
        assert worst <= BOUND  # the stopped member costs one request_timeout, once


def test_watch_on_a_stopped_member_moves_on_without_losing_events(
    api: str, etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    """Two watches on the stopped member: one from now, one from a given index."""
    with watcher_and_writer(api, etcd_cluster) as (member, wc, c):
        watched = member.client_url
        from_now, from_index = EtcdMap(wc, etcd_prefix), EtcdMap(wc, etcd_prefix)
        emap = EtcdMap(c, etcd_prefix)
        emap["before"] = "0"
        seen_now, seen_index = Seen(from_now), Seen(from_index)
        try:
            with from_now.watch() as w1, from_index.watch(after_index=emap.index) as w2:
                assert wait_until(lambda: w1.endpoint == w2.endpoint == watched, 5)
                member.stop()
                stopped_at = time.monotonic()
                expected = [(f"k{i:03d}", str(i)) for i in range(100)]
                for key, value in expected:
                    emap[key] = value
                for watch in (w1, w2):
                    assert watch.wait_for(emap.index, timeout=15.0), "events were not delivered"
                    assert watch.endpoint != watched
                delay = time.monotonic() - stopped_at
        finally:
            seen_now.close()
            seen_index.close()
        # The watch from now may report "before" too: its initial read went to another member
        # than the write, and a plain read may lag by a few milliseconds.
        assert [item for item in seen_now.items if item[0] != "before"] == expected
        assert seen_index.items == expected  # every event, in order, once
        report(f"{api}: two watches on a SIGSTOPped member", events=len(expected),
               delivered_within_s=delay)


@only("v2")
def test_low_level_watcher_on_stopped_member_moves_on(
    api: str, etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    key = etcd_prefix + "/w"
    with watcher_and_writer(api, etcd_cluster) as (member, wc, c):
        start = c.keys.set(key, "0").index  # type: ignore[union-attr]
        watcher = wc.keys.watcher(key, after_index=start)  # type: ignore[union-attr]
        member.stop()
        for i in range(1, 21):
            c.keys.set(key, str(i))  # type: ignore[union-attr]
        started = time.monotonic()
        values = [watcher.next(timeout=10.0).node.value for _ in range(20)]  # type: ignore[union-attr]
        elapsed = time.monotonic() - started
        watcher.close()
        assert values == [str(i) for i in range(1, 21)]
        report(f"{api}: keys.watcher on a SIGSTOPped member", events=20, all_delivered_within_s=elapsed)
        assert elapsed < 10.0
