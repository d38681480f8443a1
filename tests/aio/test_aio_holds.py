"""Locks, elections and keep-alives of ``etcdmap.aio`` on a real etcd: an async lock excludes
between two maps (two clients), a cancelled acquire or campaign leaves no waiter in etcd
whatever await it was cancelled at, a kept-alive key outlives its TTL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

import etcdmap.aio
from etcdmap.aio import AsyncEtcdMap
from etcdmap.errors import LockTimeout
from etcdmap.testing import EtcdServer


async def _two_maps(url: str, path: str, api: str) -> tuple[AsyncEtcdMap, AsyncEtcdMap]:
    return (await etcdmap.aio.connect(url, path, api=api),  # type: ignore[arg-type]
            await etcdmap.aio.connect(url, path, api=api))  # type: ignore[arg-type]


@pytest.mark.parametrize("api", ["v2", "v3"])
async def test_a_lock_excludes_between_two_maps(etcd_server: EtcdServer, etcd_prefix: str,
                                                api: str) -> None:
    a, b = await _two_maps(etcd_server.client_url, etcd_prefix, api)
    inside: list[str] = []
    overlaps = 0

    async def worker(m: AsyncEtcdMap, name: str) -> None:
        nonlocal overlaps
        for _ in range(4):
            async with m.lock("counter", ttl=5):
                overlaps += bool(inside)
                inside.append(name)
                count = int(await m.get("count", "0"))
                await asyncio.sleep(0.005)  # others run meanwhile: only the lock keeps them out
                await m.set("count", str(count + 1))
                inside.remove(name)

    try:
        await asyncio.gather(*(worker(m, f"{i}") for i, m in enumerate([a, b, a, b])))
        assert overlaps == 0
        assert await a.get("count") == "16"
        assert await b.child("_locks").child("counter").keys() == []  # nothing left
    finally:
        await a.close()
        await b.close()


def _turns() -> list[float]:
    """Delays before a cancellation: every loop turn early on, then longer waits."""
    return [0.0] * 12 + [0.002 * k for k in range(1, 10)] + [0.05, 0.1, 0.3]


async def _cancel_each(start: Callable[[], Awaitable[object]],
                       left_in_etcd: Callable[[], Awaitable[int]]) -> int:
    """Start an acquisition and cancel it after each delay of :func:`_turns`; after each,
    count what it left in etcd (must be 0). :returns: how many were cancelled."""
    cancelled = 0
    for i, delay in enumerate(_turns()):
        task = asyncio.ensure_future(start())
        for _ in range(i if delay == 0 else 0):
            await asyncio.sleep(0)
        await asyncio.sleep(delay)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            cancelled += 1
        assert await left_in_etcd() == 0, f"a waiter was left after a cancel at turn {i}"
    return cancelled


async def test_a_cancelled_lock_acquire_leaves_no_waiter(etcd_server: EtcdServer,
                                                         etcd_prefix: str) -> None:
    name = etcd_prefix + "/lk"
    async with etcdmap.aio.v3.Client(etcd_server.client_url) as c:
        async with c.lock(name, ttl=5) as holder:

            async def waiters() -> int:
                kvs = (await c.kv.range(name + "/", prefix=True)).kvs
                return len([kv for kv in kvs if kv.key_text != holder.key])

            before = set(await c.lease.leases())
            cancelled = await _cancel_each(lambda: c.lock(name, ttl=5).acquire(), waiters)
            assert cancelled == len(_turns())  # the holder never let one through
            for lease in set(await c.lease.leases()) - before:  # granted, answer cut off:
                assert not (await c.lease.time_to_live(lease, keys=True)).keys  # holds nothing
        async with c.lock(name, ttl=5, timeout=2):  # free again
            pass


async def test_a_cancelled_map_lock_acquire_on_v2_leaves_no_waiter(
        etcd_server: EtcdServer, etcd_prefix: str) -> None:
    a, b = await _two_maps(etcd_server.client_url, etcd_prefix, "v2")
    try:
        async with a.lock("job", ttl=5) as holder:

            async def waiters() -> int:
                await asyncio.sleep(0.05)  # the worker thread deletes its key
                keys = await a.child("_locks").child("job").keys()
                return len([k for k in keys if not (holder.key or "").endswith(k)])

            await _cancel_each(lambda: b.lock("job", ttl=5).acquire(), waiters)
        async with b.lock("job", ttl=5, timeout=2):
            pass
    finally:
        await a.close()
        await b.close()


async def test_a_lock_times_out_and_the_fencing_token_grows(etcd_server: EtcdServer,
                                                            etcd_prefix: str) -> None:
    async with await etcdmap.aio.connect(etcd_server.client_url, etcd_prefix) as m:
        async with m.lock("x", ttl=5) as first:
            token = first.revision
            with pytest.raises(LockTimeout):
                await m.lock("x", ttl=5).acquire(timeout=0.3)
        async with m.lock("x", ttl=5) as second:
            assert second.revision > token


async def test_an_election(etcd_server: EtcdServer, etcd_prefix: str) -> None:
    name = etcd_prefix + "/el"
    async with etcdmap.aio.v3.Client(etcd_server.client_url) as c:
        async with c.election(name, ttl=5) as leader:
            await leader.campaign("one")
            assert leader.is_leader
            follower = c.election(name, ttl=5)
            assert await follower.leader() == b"one"
            await leader.proclaim("two")
            observed = follower.observe()
            assert await asyncio.wait_for(observed.__anext__(), 5) == b"two"
            await observed.aclose()
            campaign = asyncio.ensure_future(follower.campaign("three"))
            await asyncio.sleep(0.3)
            campaign.cancel()  # withdrawn: its candidate key goes
            with pytest.raises(asyncio.CancelledError):
                await campaign
            kvs = (await c.kv.range(name + "/", prefix=True)).kvs
            assert len(kvs) == 1
        assert await follower.leader() is None


@pytest.mark.parametrize("api", ["v2", "v3"])
async def test_keep_alive_outlives_the_ttl(etcd_server: EtcdServer, etcd_prefix: str,
                                           api: str) -> None:
    async with await etcdmap.aio.connect(etcd_server.client_url, etcd_prefix,
                                         api=api) as m:  # type: ignore[arg-type]
        await m.set("leader", "me", ttl=2)
        async with m.keep_alive("leader", 2) as ka:
            await asyncio.sleep(3)
            assert ka.alive
            assert await m.get("leader") == "me"
        await m.delete("leader")
        if api == "v3":
            return  # a v3 key's lease lives on without its key: nothing fails there
        await m.set("gone", "x", ttl=2)
        with pytest.raises(KeyError):  # a failed keep-alive raises when the block ends
            async with m.keep_alive("gone", 2, interval=0.3):
                await m.delete("gone")
                await asyncio.sleep(1.0)
