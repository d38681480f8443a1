"""``AsyncEtcdMap`` beyond the mapping contract: the read-through cache under concurrent
tasks, views, closing, refusals, and ``connect``'s checks."""

from __future__ import annotations

import asyncio

import pytest

import etcdmap
import etcdmap.aio
from etcdmap import MemoryBackend
from etcdmap.aio import AsyncEtcdMap
from etcdmap.errors import KeyNotFound, MapClosed
from etcdmap.testing import EtcdServer


async def test_the_cache_serves_reads_and_follows_writes(etcd_server: EtcdServer,
                                                         etcd_prefix: str) -> None:
    cache: dict[str, object] = {}
    async with etcdmap.aio.v3.Client(etcd_server.client_url) as c:
        m = AsyncEtcdMap(c, etcd_prefix, cache=cache)
        await m.set("k", "1")
        assert await m.get("k") == "1"
        assert f"{etcd_prefix}/k" in cache
        with etcdmap.v3.Client(etcd_server.client_url) as other:  # not seen: bounded staleness
            other.kv.put(f"{etcd_prefix}/k", "2")
        assert await m.get("k") == "1"
        assert (await m.node("k")).value == "2"  # node() is never cached
        # tasks writing and reading one key at once: every replayed run sees one cache state
        await asyncio.gather(*(m.set("k", str(i)) if i % 2 else m.get("k") for i in range(60)))
        assert await m.get("k") == (await m.node("k")).value
        await m.delete("k")
        assert await m.get("k") is None


async def test_views_closing_and_refusals() -> None:
    m = AsyncEtcdMap(MemoryBackend(), "/x", owns_client=True)
    db = m.child("db/replica")
    assert db.path == "/x/db/replica"
    await db.set("host", "h")
    assert await m.to_dict() == {"db": {"replica": {"host": "h"}}}
    assert isinstance(await m.get("db"), AsyncEtcdMap)
    assert repr(m).startswith("AsyncEtcdMap(path='/x'")
    with pytest.raises(ValueError):
        m.child("..")
    with pytest.raises(KeyNotFound):
        await m.delete("nope")
    await db.close()  # a view owns nothing
    assert await db.get("host") == "h"
    await m.close()
    with pytest.raises(MapClosed):
        await db.get("host")
    with pytest.raises(TypeError, match="etcdmap.aio"):
        AsyncEtcdMap(etcdmap.Client("http://127.0.0.1:1"), "/x")  # type: ignore[arg-type]


async def test_connect_checks_before_any_request() -> None:
    with pytest.raises(ValueError, match="api must be"):
        etcdmap.aio.connect("http://127.0.0.1:1", "/x", api="v4")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="did you mean 'timeout'"):
        etcdmap.aio.connect("http://127.0.0.1:1", "/x", timout=1)
    with pytest.raises(TypeError, match="selection"):
        await etcdmap.aio.connect("http://127.0.0.1:1", "/x", api="v3",
                                  selection=etcdmap.Selection.RANDOM)


async def test_connect_chooses_v3_and_proves_the_cluster(etcd_server: EtcdServer,
                                                        etcd_prefix: str) -> None:
    async with etcdmap.aio.connect(etcd_server.client_url, etcd_prefix) as m:
        assert m.backend.name == "v3"
    with pytest.raises((etcdmap.ClusterError, etcdmap.DeadlineExceeded)):
        await etcdmap.aio.connect("http://127.0.0.1:1", "/x", timeout=0.5)
