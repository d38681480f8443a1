"""Cancelling an ``AsyncEtcdMap`` call at every await point (after 0, 1, 2... turns of the
loop, until the call completes) on a real etcd: the connection pool holds no connection of
the cancelled call, an atomic write is all or nothing, and the map goes on working."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

import etcdmap.aio
from etcdmap.aio import AsyncEtcdMap
from etcdmap.testing import EtcdServer
from tests.aio.test_aio_cancel import _sweep

TREE = {"a": "1", "b": {"c": "2"}}


async def _check(m: AsyncEtcdMap, key: str, states: list[object]) -> None:
    transport = m.client.transport  # type: ignore[union-attr]
    assert transport.open_connections() == transport.idle_connections()  # none in use
    value = await m.get(key)
    got = await value.to_dict() if isinstance(value, AsyncEtcdMap) else value
    assert got in states, got  # all or nothing
    # A cancelled write that was already sent may still be applied by etcd after this read
    # (the gateway forwards it even though the client closed the connection): clean up
    # without assuming the key is still there.
    await m.pop(key, None)


@pytest.mark.parametrize("call", ["set_tree_ttl", "setdefault", "pop", "compare_and_swap"])
async def test_v3_calls_cancelled_at_every_turn(etcd_server: EtcdServer, etcd_prefix: str,
                                                call: str) -> None:
    async with await etcdmap.aio.connect(etcd_server.client_url, etcd_prefix, api="v3") as m:
        calls: dict[str, Callable[[int], Awaitable[object]]] = {
            "set_tree_ttl": lambda n: m.set(f"k{n}", TREE, ttl=30),
            "setdefault": lambda n: m.setdefault(f"k{n}", TREE),
            "pop": lambda n: m.pop(f"k{n}", None),
            "compare_and_swap": lambda n: m.compare_and_swap(f"k{n}", "x", prev_value="y"),
        }
        turn = [0]

        async def counted(n: int) -> object:
            turn[0] = n
            if call in ("pop", "compare_and_swap"):
                await m.set(f"k{n}", "y")
            return await calls[call](n)

        states: dict[str, list[object]] = {
            "set_tree_ttl": [None, TREE], "setdefault": [None, TREE],
            "pop": [None, "y"], "compare_and_swap": [None, "y", "x"]}

        async def check() -> None:
            await _check(m, f"k{turn[0]}", states[call])

        assert await _sweep(counted, check) >= 3


async def test_a_v2_tree_write_cancelled_at_every_turn(etcd_server: EtcdServer,
                                                       etcd_prefix: str) -> None:
    # v2 has no transactions: a cancelled tree write may be left half done, as a blocking
    # one interrupted; the pool and the map stay sound.
    async with await etcdmap.aio.connect(etcd_server.client_url, etcd_prefix, api="v2") as m:
        transport = m.client.transport  # type: ignore[union-attr]

        async def check() -> None:
            assert transport.open_connections() == transport.idle_connections()
            await m.set("probe", "ok")
            assert await m.get("probe") == "ok"

        assert await _sweep(lambda n: m.set(f"k{n}", TREE), check) >= 3
