"""SIGKILL of the pinned member during a stream of 2,000 in-order appends through EtcdMap.

What it proves: every write the client acknowledged is stored; no write is stored twice;
nothing is stored that was neither acknowledged nor reported as possibly applied
(``AmbiguousResultError``); calls that could not complete raised ``AmbiguousResultError``,
``ClusterError`` or ``DeadlineExceeded`` (any other exception fails the test).
"""

from __future__ import annotations

import threading
import time

import pytest
from relhelp import by_url, report, restored

from etcdmap.errors import AmbiguousResultError, ClusterError, DeadlineExceeded
from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import EtcdCluster
from etcdmap.v2.client import Client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

WRITES = 2_000
FAILED = (AmbiguousResultError, ClusterError, DeadlineExceeded)


@pytest.mark.parametrize("victim", ["follower", "leader"])
def test_kill_pinned_member_during_appends(
    etcd_cluster: EtcdCluster, etcd_prefix: str, victim: str
) -> None:
    members = by_url(etcd_cluster)
    with restored(etcd_cluster), Client(
        etcd_cluster.client_urls, timeout=5.0, request_timeout=1.0
    ) as c:
        leader = etcd_cluster.wait_for_leader()
        target = leader if victim == "leader" else etcd_cluster.followers()[0]
        c.transport.pin(target.client_url)
        emap = EtcdMap(c, etcd_prefix)
        acked: dict[str, str] = {}  # value -> key
        maybe: list[str] = []  # values whose append raised AmbiguousResultError
        failed: list[BaseException] = []
        killed = threading.Event()

        def kill_pinned() -> None:
            members[c.transport.pinned].kill()  # whatever is pinned right now, mid-request
            killed.set()

        killer = threading.Timer(0.4, kill_pinned)
        started = time.monotonic()
        killer.start()
        try:
            for i in range(WRITES):
                value = f"w{i:05d}"
                try:
                    acked[value] = emap.append(value)
                except AmbiguousResultError as exc:
                    maybe.append(value)
                    failed.append(exc)
                except FAILED as exc:
                    failed.append(exc)
        finally:
            killer.join()
        elapsed = time.monotonic() - started
        assert killed.is_set()

        stored = dict(emap.to_dict().items())  # from a live member
        values = list(stored.values())
        assert len(values) == len(set(values)), "a write was applied twice"
        for value, key in acked.items():
            assert stored.get(key) == value, f"acknowledged {value} at {key} is missing"
        phantom = set(values) - set(acked) - set(maybe)
        assert not phantom, f"stored but neither acknowledged nor ambiguous: {sorted(phantom)[:5]}"
        assert list(stored) == sorted(stored)  # in-order keys sort in creation order
        assert len(acked) >= WRITES - 50, f"too many failed writes: {len(failed)}"
        report(
            f"kill pinned {victim} during {WRITES} appends",
            seconds=elapsed, writes_per_s=WRITES / elapsed, acked=len(acked),
            ambiguous=len(maybe), other_failures=len(failed) - len(maybe),
            ambiguous_applied=len(set(values) & set(maybe)),
        )


def test_kill_pinned_member_during_cas_increments(
    etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    """1,000 compare-and-swap increments of one counter while the pinned member is killed:
    the final count lies between the acknowledged swaps and those plus the ambiguous ones, so
    no swap reported ``True`` falsely and none was applied twice."""
    members = by_url(etcd_cluster)
    with restored(etcd_cluster), Client(
        etcd_cluster.client_urls, timeout=5.0, request_timeout=1.0
    ) as c:
        emap = EtcdMap(c, etcd_prefix, quorum=True)
        emap["n"] = "0"
        swapped = ambiguous = refused = 0

        def kill_pinned() -> None:
            members[c.transport.pinned].kill()

        killer = threading.Timer(0.3, kill_pinned)
        killer.start()
        try:
            for _ in range(1_000):
                try:
                    current = emap["n"]
                    if emap.compare_and_swap("n", str(int(current) + 1), prev_value=current):
                        swapped += 1
                    else:
                        refused += 1  # only after an ambiguous swap that did apply
                except AmbiguousResultError:
                    ambiguous += 1
                except (ClusterError, DeadlineExceeded):
                    refused += 1
        finally:
            killer.join()
        final = int(emap["n"])
        assert swapped <= final <= swapped + ambiguous, (swapped, ambiguous, final)
        assert refused <= ambiguous + 5
        report("kill pinned member during 1,000 CAS increments", swapped=swapped,
               ambiguous=ambiguous, final=final)
