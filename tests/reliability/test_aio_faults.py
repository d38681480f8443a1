"""``etcdmap.aio`` on a 3-member cluster while the pinned member is killed or SIGSTOPped,
during writes through an ``AsyncEtcdMap`` and an open ``changes()`` iterator, on v2 and v3:
0 acknowledged writes lost, 0 events lost or repeated.

The writes and the watch start on the same member (the asyncio client's pin and its blocking
twin's); a write that was sent and not answered raises ``AmbiguousResultError`` (it may have
applied) and is never re-sent.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from relhelp import by_url, report, restored

import etcdmap.aio
from etcdmap.aio import AsyncEtcdMap
from etcdmap.errors import AmbiguousResultError, ClusterError, DeadlineExceeded
from etcdmap.testing import EtcdCluster

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

WRITES = 300
FAILED = (AmbiguousResultError, ClusterError, DeadlineExceeded)


async def _scenario(cluster: EtcdCluster, path: str, api: str, fault: str) -> dict[str, object]:
    members = by_url(cluster)
    target = cluster.followers()[0].client_url
    client: etcdmap.aio.Client | etcdmap.aio.v3.Client = (
        etcdmap.aio.Client if api == "v2" else etcdmap.aio.v3.Client
    )(cluster.client_urls, timeout=5.0, request_timeout=0.5)
    async with AsyncEtcdMap(client, path, owns_client=True) as m:
        client.transport.pin(target)
        client.blocking.transport.pin(target)  # the watch starts there too
        await m.set("seed", "0")
        acked: dict[str, str] = {}
        maybe: set[str] = set()
        events: list[str] = []
        async with m.changes() as changes:

            async def read() -> None:
                async for event in changes:
                    events.append(event.key)

            reader = asyncio.ensure_future(read())
            started = time.monotonic()
            for i in range(WRITES):
                if i == WRITES // 3:
                    victim = members[client.transport.pinned]
                    victim.kill() if fault == "kill" else victim.stop()
                key = f"k{i:04d}"
                try:
                    await m.set(key, str(i))
                    acked[key] = str(i)
                except AmbiguousResultError:
                    maybe.add(key)
                except FAILED:
                    pass
            elapsed = time.monotonic() - started
            stored = await m.to_dict()
            deadline = time.monotonic() + 20
            while len(events) < len(stored) - 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            reader.cancel()
        for key, value in acked.items():
            assert stored.get(key) == value, f"acknowledged {key} is missing"
        assert set(stored) - {"seed"} <= set(acked) | maybe
        assert events == sorted(set(stored) - {"seed"}), "an event was lost or repeated"
        assert len(acked) >= WRITES - 20
        return {"seconds": elapsed, "acked": len(acked), "ambiguous": len(maybe),
                "events": len(events)}


@pytest.mark.parametrize("fault", ["kill", "stop"])
@pytest.mark.parametrize("api", ["v2", "v3"])
def test_pinned_member_fails_during_writes_and_changes(etcd_cluster: EtcdCluster,
                                                       etcd_prefix: str, api: str,
                                                       fault: str) -> None:
    with restored(etcd_cluster):
        numbers = asyncio.run(asyncio.wait_for(
            _scenario(etcd_cluster, etcd_prefix, api, fault), 120))
    report(f"aio {api}: {fault} the pinned member during {WRITES} writes + changes()",
           **numbers)  # type: ignore[arg-type]
