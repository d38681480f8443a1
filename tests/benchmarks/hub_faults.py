"""Watches at scale under member faults (issue 15), on a 3-member cluster.

- ``SIGSTOP``: 100 watches of one client read from one member, which is frozen; measured: the
  time until every watch reads from another member (target: ``request_timeout +
  idle_timeout``), and that one write per map after the freeze reaches every watch.
- ``partition``: a mirror whose client pinned a member that is then cut off from its peers
  (nftables, root only; see :class:`etcdmap.testing.Partition`); measured: how long the
  mirror stays stale while the majority takes writes.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ._harness import Result

__all__ = ["run_hub_faults"]

WATCHES = 100
IDLE = 1.0


def _sigstop(request_timeout: float) -> Result:
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415
    from etcdmap.testing import EtcdCluster  # noqa: PLC0415
    from etcdmap.v2.client import Client  # noqa: PLC0415

    with EtcdCluster(3) as cluster:
        victim = cluster.followers()[0]
        others = [m.client_url for m in cluster.members if m is not victim]
        with Client(cluster.client_urls, request_timeout=request_timeout) as wc, \
                Client(others, request_timeout=request_timeout) as c:
            wc.transport.pin(victim.client_url)
            maps = [EtcdMap(wc, f"/hubstop/d{i}") for i in range(WATCHES)]
            watches = [m.watch() for m in maps]
            try:
                _wait(lambda: all(w.endpoint == victim.client_url for w in watches), 30)
                victim.stop()
                stopped = time.monotonic()
                try:
                    _wait(lambda: all(w.endpoint not in (None, victim.client_url)
                                      for w in watches), 30)
                    moved = time.monotonic() - stopped
                    index = 0
                    for i in range(WATCHES):
                        index = c.keys.set(f"/hubstop/d{i}/k", "after").index
                    delivered = sum(w.wait_for(index, 10) for w in watches)
                finally:
                    victim.cont()
            finally:
                for w in watches:
                    w.stop()
    budget = request_timeout + IDLE
    res = Result(f"{WATCHES} watches on a SIGSTOPped member", "etcdmap", 1 / moved, "/s",
                 p50_ms=moved * 1e3, ratios=False)
    res.extra = {"moved_s": moved, "budget_s": budget, "delivered": delivered}
    res.note = (f"every watch moved {moved:.2f} s after SIGSTOP (request_timeout "
                f"{request_timeout:g} + idle_timeout {IDLE:g} = {budget:g} s); "
                f"{delivered}/{WATCHES} got the write made after")
    return res


def _partition() -> Result | None:
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415
    from etcdmap.testing import EtcdCluster, Partition, nft_unavailable  # noqa: PLC0415
    from etcdmap.v2.client import Client  # noqa: PLC0415

    reason = nft_unavailable()
    if reason is not None:
        print(f"partition workload skipped: {reason}")
        return None
    hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    with EtcdCluster(3, hosts=hosts, users=[None, None, "nobody"]) as cluster:
        iso = cluster.members[2]
        others = cluster.members[:2]
        with Partition(f"etcdmap_bench_{os.getpid()}", iso, others) as part, \
                Client(cluster.client_urls, request_timeout=1.0) as wc, \
                Client([m.client_url for m in others], request_timeout=1.0) as c:
            wc.transport.pin(iso.client_url)
            writer = EtcdMap(c, "/hubpart")
            writer["k"] = "before"
            with EtcdMap(wc, "/hubpart").mirror() as mirror:
                assert mirror.watch is not None
                watch = mirror.watch
                _wait(lambda: watch.endpoint == iso.client_url, 10)
                part.cut()
                cut = time.monotonic()
                _retry(lambda: writer.__setitem__("k", "after"), 15)
                ok = mirror.wait_for(writer.index, 30)
                stale = time.monotonic() - cut
    res = Result("partitioned member: mirror stale", "etcdmap", 1 / stale, "/s",
                 p50_ms=stale * 1e3, ratios=False)
    res.extra = {"stale_s": stale, "caught_up": float(ok)}
    res.note = (f"the mirror caught up {stale:.2f} s after the cut (check 1 s + election + "
                "backfill); before issue 15 it stayed stale for as long as we waited (15 s)")
    return res


def _wait(pred: Any, cap: float) -> None:
    deadline = time.monotonic() + cap
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.01)  # poll interval


def _retry(fn: Any, cap: float) -> None:
    deadline = time.monotonic() + cap
    while True:
        try:
            fn()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise


def run_hub_faults(request_timeout: float) -> list[Result]:
    """The cluster workloads (SIGSTOP with 100 watches, partitioned mirror)."""
    results = [_sigstop(request_timeout)]
    part = _partition()
    if part is not None:
        results.append(part)
    return results
