"""Many watches of one client on a member that freezes (SIGSTOP): ONE shared liveness check
notices it, every stream moves to another member within ``request_timeout + idle_timeout``
and backfills, nothing is lost, and the client's pin moves too.

What it proves: the per-member check replaces the per-watch reconnect without weakening the
failover guarantee, and it scales (one check for all the watches, not one each).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from relhelp import report

from etcdmap import signals
from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import EtcdCluster
from etcdmap.v2.client import Client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

WATCHES = 40
REQUEST_TIMEOUT, IDLE = 0.5, 1.0


def test_every_watch_leaves_a_frozen_member_in_time(
    etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    victim = etcd_cluster.followers()[0]
    others = [m.client_url for m in etcd_cluster.members if m is not victim]
    got: dict[str, list[str]] = {}
    lock = threading.Lock()

    def on_changed(sender: object, **kw: Any) -> None:
        with lock:
            got.setdefault(kw["path"].rsplit("/", 2)[-2], []).append(kw["value"])

    with Client(etcd_cluster.client_urls, timeout=5.0, request_timeout=REQUEST_TIMEOUT) as wc, \
            Client(others, timeout=5.0, request_timeout=REQUEST_TIMEOUT) as c:
        wc.transport.pin(victim.client_url)
        maps = [EtcdMap(wc, f"{etcd_prefix}/d{i}") for i in range(WATCHES)]
        for m in maps:
            signals.changed.connect(on_changed, sender=m)
        watches = [m.watch() for m in maps]
        try:
            _until(lambda: all(w.endpoint == victim.client_url for w in watches), 10)
            _, liveness = wc.backend.hub()
            checks = liveness.checks
            victim.stop()
            stopped = time.monotonic()
            try:
                for i in range(WATCHES):  # written while the streams still sit on the victim
                    c.keys.set(f"{etcd_prefix}/d{i}/k", "during")
                _until(lambda: all(w.endpoint not in (None, victim.client_url)
                                   for w in watches), 10)
                moved = time.monotonic() - stopped
                spent = liveness.checks - checks  # the failed check, then the new member's
                indexes = [c.keys.set(f"{etcd_prefix}/d{i}/k", "after").index
                           for i in range(WATCHES)]
                assert all(w.wait_for(ix, 10) for w, ix in zip(watches, indexes, strict=True))
            finally:
                victim.cont()
            assert wc.transport.pinned != victim.client_url
        finally:
            for w in watches:
                w.stop()
            for m in maps:
                signals.changed.disconnect(on_changed, sender=m)
    assert all(got.get(f"d{i}") == ["during", "after"] for i in range(WATCHES)), got
    report(f"{WATCHES} watches on a SIGSTOPped member", moved_within_s=moved, checks=spent)
    assert moved <= REQUEST_TIMEOUT + IDLE + 0.5  # slack for a loaded 2-core machine
    assert spent < WATCHES  # shared: a few checks per member, not one per watch


def _until(pred: Any, cap: float) -> None:
    deadline = time.monotonic() + cap
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)  # poll interval
