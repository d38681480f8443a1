"""``AsyncEtcdMap.changes()``, ``watch()`` (signals on the loop), ``mirror()`` and ``bind()`` on
v2, v3 (real etcd) and the memory backend: what the blocking watch delivers, on the loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

import etcdmap.aio
import etcdmap.aio.feed
from etcdmap import MemoryBackend, signals
from etcdmap.aio import AsyncEtcdMap
from etcdmap.signals import Event
from etcdmap.testing import EtcdServer

APIS = ["v2", "v3", "memory"]


@pytest.fixture(params=APIS)
def make_map(request: pytest.FixtureRequest, etcd_server: EtcdServer,
             etcd_prefix: str) -> Iterator[Any]:
    """``make_map()`` (a coroutine function): an empty map on each API, closed after."""
    made: list[AsyncEtcdMap] = []

    async def make(path: str = etcd_prefix) -> AsyncEtcdMap:
        if request.param == "memory":
            m = AsyncEtcdMap(MemoryBackend(), path, owns_client=True)
        else:
            m = await etcdmap.aio.connect(etcd_server.client_url, path, api=request.param)
        made.append(m)
        return m

    yield make
    for m in made:
        assert m.closed, "close the map in the test (its loop is gone now)"


async def _events(changes: AsyncIterator[Event], n: int) -> list[tuple[str, str, Any]]:
    got = []
    for _ in range(n):
        event = await asyncio.wait_for(changes.__anext__(), 10)
        got.append((event.signal.name, event.key, event.value))
    return got


async def test_changes_in_order(make_map: Any) -> None:
    m = await make_map()
    async with m, m.changes() as changes:
        await m.set("a", "1")
        await m.set("a", "2")
        await m.set("d", {"x": "3"})
        await m.delete("a")
        got = await _events(changes, 4 if m.backend.name == "v3" else 5)
    expected = [("created", "a", "1"), ("updated", "a", "2")]
    if m.backend.name != "v3":  # v2 (and the memory backend) report the new directory too
        expected.append(("created", "d", None))
    expected += [("created", "d/x", "3"), ("deleted", "a", None)]
    assert got == expected
    assert not changes.watch.running


async def test_a_plain_async_for_ends_its_watch_when_finalized(make_map: Any) -> None:
    m = await make_map()
    async with m:
        changes = m.changes()

        async def first() -> Event:
            async for event in changes:
                return event
            raise AssertionError("no event")

        reading = asyncio.ensure_future(first())
        while changes.watch is None:  # the watch starts with the iteration
            await asyncio.sleep(0.01)
        await m.set("k2", "v2")
        assert (await asyncio.wait_for(reading, 10)).key == "k2"
        await asyncio.sleep(0.2)  # the loop finalizes the abandoned iterator
        assert not changes.watch.running


async def test_signals_on_the_loop(make_map: Any) -> None:
    m = await make_map()
    loop_thread = threading.get_ident()
    seen: list[tuple[str, str, bool]] = []

    async def on_async(sender: object, **event: Any) -> None:
        await asyncio.sleep(0)  # awaited: a coroutine receiver may await
        seen.append(("async", event["key"], threading.get_ident() == loop_thread))

    def on_plain(sender: object, **event: Any) -> None:
        seen.append(("plain", event["key"], threading.get_ident() == loop_thread))

    def broken(sender: object, **event: Any) -> None:
        raise RuntimeError("a receiver's bug")

    errors: list[BaseException] = []

    async def on_error(sender: object, **payload: Any) -> None:
        errors.append(payload["error"])

    async with m:
        signals.changed.connect(on_async, sender=m)
        signals.created.connect(broken, sender=m)
        signals.created.connect(on_plain, sender=m)
        signals.watch_error.connect(on_error, sender=m)
        try:
            async with m.watch() as w:
                await m.set("k", "v")
                assert await w.wait_for(m.index)
        finally:
            for sig, receiver in [(signals.changed, on_async), (signals.created, broken),
                                  (signals.created, on_plain), (signals.watch_error, on_error)]:
                sig.disconnect(receiver, sender=m)
    assert seen == [("async", "k", True), ("plain", "k", True)]
    assert [str(e) for e in errors] == ["a receiver's bug"]


async def test_mirror_reads_are_dict_reads(make_map: Any) -> None:
    m = await make_map()
    async with m:
        await m.set("db", {"host": "h"})
        async with m.mirror() as live:
            assert live["db"]["host"] == "h"
            db = m.child("db")
            await db.set("port", "5432")
            assert await live.wait_for(db.index)
            assert live.to_dict() == {"db": {"host": "h", "port": "5432"}}
            assert live.index >= 1
        await m.set("later", "x")
        assert "later" not in live  # stopped: readable, no longer changing


class Db(BaseModel):
    host: str = "localhost"
    port: int = 5432


class AppConfig(BaseModel):
    debug: bool = False
    db: Db = Db()


async def test_bind_follows_on_the_loop(make_map: Any) -> None:
    m = await make_map()
    changed: list[tuple[str, ...]] = []

    async def on_changed(sender: object, **payload: Any) -> None:
        changed.append(payload["changed"])

    async with m, m.bind(AppConfig, seed=True) as cfg:
        assert cfg.current.db.port == 5432
        assert await m.child("db").get("port") == "5432"  # seeded
        signals.config_changed.connect(on_changed, sender=cfg)
        try:
            db = m.child("db")
            await db.set("port", "6432")
            assert await cfg.wait_for(db.index)
            assert cfg.current.db.port == 6432
            await db.set("port", "not a port")
            assert await cfg.wait_for(db.index)
            assert cfg.error is not None and cfg.current.db.port == 6432
        finally:
            signals.config_changed.disconnect(on_changed, sender=cfg)
    assert changed == [("db.port",)]


async def test_a_lost_history_is_resynced_as_events(monkeypatch: pytest.MonkeyPatch) -> None:
    # A consumer that does not read holds the watch back (2 items queued) while 30 writes
    # outrun the store's 5-change history: the watch re-reads and sends the differences.
    monkeypatch.setattr(etcdmap.aio.feed, "QUEUED", 2)
    async with AsyncEtcdMap(MemoryBackend(history_size=5), "/r") as m, m.changes() as changes:
        for i in range(30):
            await m.set(f"k{i:02}", str(i))
        await asyncio.sleep(0.2)
        seen: dict[str, str] = {}
        actions = set()
        while len(seen) < 30:
            event = await asyncio.wait_for(changes.__anext__(), 10)
            seen[event.key] = event.value
            actions.add(event.action)
    assert seen == {f"k{i:02}": str(i) for i in range(30)}
    assert "resync" in actions


async def test_a_slow_consumer_holds_the_watch_back_and_loses_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(etcdmap.aio.feed, "QUEUED", 4)
    async with AsyncEtcdMap(MemoryBackend(), "/slow") as m, m.changes() as changes:
        for i in range(40):
            await m.set(f"k{i:02}", str(i))
        got = []
        for _ in range(40):
            await asyncio.sleep(0.002)
            got.append((await asyncio.wait_for(changes.__anext__(), 10)).key)
    assert got == [f"k{i:02}" for i in range(40)]
