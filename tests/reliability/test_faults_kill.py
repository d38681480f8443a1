"""SIGKILL of the pinned member of a 3-member cluster during a stream of writes through EtcdMap,
on both APIs (the ``api`` fixture: v2 and v3).

What it proves: every write the client acknowledged is stored; no write is stored twice;
nothing is stored that was neither acknowledged nor reported as possibly applied
(``AmbiguousResultError``: a v2 POST or a v3 txn is not re-sent once it may have reached the
member); calls that could not complete raised ``AmbiguousResultError``, ``ClusterError`` or
``DeadlineExceeded`` (any other exception fails the test); a mirror open during the fault
(its watch resuming on another member) ends equal to the store, having seen every event once
and in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from apis import client_for
from relhelp import Seen, by_url, report, restored

from etcdmap import EtcdMap
from etcdmap.errors import AmbiguousResultError, ClusterError, DeadlineExceeded
from etcdmap.testing import EtcdCluster, EtcdServer

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

WRITES = 400
SWAPS = 300
KILL_AT = 60  # the kill is started after this many writes, so that it lands mid-stream
FAILED = (AmbiguousResultError, ClusterError, DeadlineExceeded)


class Killer:
    """Kills, from another thread, whatever member ``pinned()`` names at :meth:`start`,
    while the test thread goes on sending requests (so that one is in flight)."""

    def __init__(self, members: dict[str, EtcdServer], pinned: Callable[[], str | None]) -> None:
        self.killed = threading.Event()
        self._members = members
        self._pinned = pinned
        self._thread = threading.Thread(target=self._kill, daemon=True, name="killer")

    def _kill(self) -> None:
        self._members[str(self._pinned())].kill()
        self.killed.set()

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        if self._thread.ident is not None:
            self._thread.join(10)


@pytest.mark.parametrize("victim", ["follower", "leader"])
def test_kill_pinned_member_during_writes_and_a_mirror(
    api: str, etcd_cluster: EtcdCluster, etcd_prefix: str, victim: str
) -> None:
    """Writes alternate between ``append`` (in-order keys: the server names them) and
    ``m[key] = value`` (the client names them); value ``w<i>`` is the i-th write, so sorting the
    stored keys by value gives their creation order."""
    members = by_url(etcd_cluster)
    with restored(etcd_cluster), client_for(
        api, etcd_cluster.client_urls, timeout=5.0, request_timeout=1.0
    ) as c:
        leader = etcd_cluster.wait_for_leader()
        target = leader if victim == "leader" else etcd_cluster.followers()[0]
        c.transport.pin(target.client_url)
        m = EtcdMap(c, etcd_prefix)
        m["seed"] = "0"
        acked: dict[str, str] = {}  # value -> key
        maybe: set[str] = set()  # values whose write raised AmbiguousResultError
        failed: list[BaseException] = []
        after_kill = 0
        killer = Killer(members, lambda: c.transport.pinned)
        live = m.mirror()
        seen = Seen(live)
        started = time.monotonic()
        try:
            for i in range(WRITES):
                if i == KILL_AT:
                    killer.start()
                after_kill += killer.killed.is_set()
                value = f"w{i:04d}"
                try:
                    if i % 2:
                        m[f"k{i:04d}"] = value
                        acked[value] = f"k{i:04d}"
                    else:
                        acked[value] = m.append(value)
                except AmbiguousResultError as exc:
                    maybe.add(value)
                    failed.append(exc)
                except FAILED as exc:
                    failed.append(exc)
            elapsed = time.monotonic() - started
            killer.join()
            assert live.wait_for(timeout=15), "the mirror did not catch up"
        finally:
            killer.join()
            seen.close()
            live.close()
        assert after_kill >= WRITES - KILL_AT - 50, "the kill did not land during the writes"

        stored = m.to_dict()  # from a live member
        del stored["seed"]
        values = list(stored.values())
        assert len(values) == len(set(values)), "a write was applied twice"
        for value, key in acked.items():
            assert stored.get(key) == value, f"acknowledged {value} at {key} is missing"
        phantom = set(values) - set(acked) - maybe
        assert not phantom, f"stored but neither acknowledged nor ambiguous: {sorted(phantom)[:5]}"
        created = sorted(stored, key=stored.__getitem__)  # keys in creation order
        appended = [k for k in created if not k.startswith("k")]
        assert appended == sorted(appended), "in-order keys do not sort in creation order"
        assert live.to_dict() == {"seed": "0", **stored}
        assert [k for k, _ in seen.items] == created, "an event was lost, repeated or reordered"
        assert len(acked) >= WRITES - 50, f"too many failed writes: {len(failed)}"
        report(
            f"{api}: kill pinned {victim} during {WRITES} writes + mirror",
            seconds=elapsed, writes_per_s=WRITES / elapsed, acked=len(acked),
            ambiguous=len(maybe), other_failures=len(failed) - len(maybe),
            ambiguous_applied=len(set(values) & maybe),
        )


def test_kill_pinned_member_during_cas_increments(
    api: str, etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    """300 compare-and-swap increments of one counter while the pinned member is killed:
    the final count lies between the acknowledged swaps and those plus the ambiguous ones, so
    no swap reported ``True`` falsely and none was applied twice."""
    members = by_url(etcd_cluster)
    with restored(etcd_cluster), client_for(
        api, etcd_cluster.client_urls, timeout=5.0, request_timeout=1.0
    ) as c:
        emap = EtcdMap(c, etcd_prefix, quorum=True)
        emap["n"] = "0"
        swapped = ambiguous = refused = after_kill = 0
        killer = Killer(members, lambda: c.transport.pinned)
        try:
            for i in range(SWAPS):
                if i == KILL_AT:
                    killer.start()
                after_kill += killer.killed.is_set()
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
        assert after_kill >= SWAPS - KILL_AT - 50, "the kill did not land during the swaps"
        final = int(emap["n"])
        assert swapped <= final <= swapped + ambiguous, (swapped, ambiguous, final)
        assert refused <= ambiguous + 5
        report(f"{api}: kill pinned member during {SWAPS} CAS increments", swapped=swapped,
               ambiguous=ambiguous, final=final)
