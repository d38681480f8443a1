"""Membership change under load: a member is added, then removed, while a client with
``auto_sync`` keeps writing and reading.

What it proves: the writer sees no error at all, its endpoint list follows the membership
(the new member appears, then disappears), and every acknowledged write is stored and
read back by a quorum read. (A plain read may be stale meanwhile: auto_sync can pin the new
member while it is still catching up, which this test first caught: it read "38" after
writing "238". That is etcd's v2 consistency model; use ``quorum=True`` for read-your-writes.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from relhelp import report, wait_until

from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import EtcdCluster
from etcdmap.v2.client import Client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster() -> Iterator[EtcdCluster]:
    # Strict reconfiguration checks off: an add right after the start is not refused (500).
    with EtcdCluster(3, extra_args=["--strict-reconfig-check=false"]) as c:
        yield c


def test_add_and_remove_member_under_load(cluster: EtcdCluster, etcd_prefix: str) -> None:
    errors: list[BaseException] = []
    acked: dict[str, str] = {}
    stop = threading.Event()
    with Client(cluster.client_urls, timeout=5.0, request_timeout=1.0) as admin, Client(
        cluster.client_urls, timeout=5.0, request_timeout=1.0
    ) as c:
        emap = EtcdMap(c, etcd_prefix)
        # Read-your-writes needs quorum reads: a plain read is served by whichever member is
        # pinned, and a member that just joined is still catching up (stale for a while).
        qmap = EtcdMap(c, etcd_prefix, quorum=True)

        def writer() -> None:
            i = 0
            while not stop.is_set():
                key, value = f"k{i % 200:03d}", str(i)
                try:
                    emap[key] = value
                    acked[key] = value
                    assert qmap[key] == value
                except Exception as exc:  # noqa: BLE001 - any error is a finding
                    errors.append(exc)
                i += 1

        started = time.monotonic()
        with c.auto_sync(0.2):
            thread = threading.Thread(target=writer)
            thread.start()
            try:
                new = cluster.new_member()
                member = admin.members.add(new.peer_url)
                new.start()
                assert wait_until(lambda: new.client_url in c.endpoints, timeout=15.0), (
                    "auto_sync never picked up the new member"
                )
                assert len(admin.members.list()) == 4
                admin.members.remove(member.id)
                cluster.remove_member(new)
                assert wait_until(lambda: new.client_url not in c.endpoints, timeout=15.0), (
                    "auto_sync never dropped the removed member"
                )
                time.sleep(0.5)  # keep writing on the shrunk cluster
            finally:
                stop.set()
                thread.join(15)
        elapsed = time.monotonic() - started
        assert not errors, errors[:3]
        stored = emap.to_dict()
        for key, value in acked.items():
            assert stored[key] == value
        assert len(admin.members.list()) == 3
    report("add + remove a member under load (auto_sync 0.2 s)", seconds=elapsed,
           errors=len(errors))
