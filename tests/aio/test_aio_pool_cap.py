"""The per-origin connection cap of the asyncio transport: at most ``max_connections`` open
to one member; more requests wait in line, in order, within their deadline, and a request
that leaves the line (cancelled, out of time) hands its turn on."""

from __future__ import annotations

import asyncio

import pytest

from etcdmap.aio.transport import AsyncTransport
from etcdmap.errors import ClusterError, DeadlineExceeded
from tests.aio.conftest import EchoServer


async def test_many_requests_share_few_connections(echo: EchoServer) -> None:
    async with AsyncTransport(echo.url, max_connections=4) as t:
        answers = await asyncio.gather(*(t.request("GET", f"/r{i}") for i in range(200)))
        assert [a.body for a in answers] == [f"/r{i}".encode() for i in range(200)]
        assert echo.connections <= 4
        assert t.open_connections() == t.idle_connections() <= 4


async def test_the_line_is_first_come_first_served(echo: EchoServer) -> None:
    echo.pause = 0.02
    async with AsyncTransport(echo.url, max_connections=1) as t:
        done: list[int] = []

        async def one(i: int) -> None:
            await t.request("GET", f"/r{i}")
            done.append(i)

        tasks = []
        for i in range(6):
            tasks.append(asyncio.ensure_future(one(i)))
            await asyncio.sleep(0.001)  # each asks after the one before
        await asyncio.gather(*tasks)
        assert done == list(range(6))


async def test_leaving_the_line_hands_the_turn_on(echo: EchoServer) -> None:
    echo.pause = 0.05
    async with AsyncTransport(echo.url, max_connections=2) as t:
        tasks = [asyncio.ensure_future(t.request("GET", f"/r{i}")) for i in range(10)]
        await asyncio.sleep(0.01)
        for task in tasks[2:6]:  # waiting in line: cancelled
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        bodies = [r.body for r in results if not isinstance(r, BaseException)]
        assert bodies == [f"/r{i}".encode() for i in (0, 1, 6, 7, 8, 9)]
        assert sum(isinstance(r, asyncio.CancelledError) for r in results) == 4
        assert t.open_connections() == t.idle_connections() == 2
        assert (await t.request("GET", "/after")).body == b"/after"


async def test_a_deadline_counts_the_wait_in_line(echo: EchoServer) -> None:
    echo.pause = 1.0
    async with AsyncTransport(echo.url, max_connections=1, timeout=0.3) as t:
        slow = asyncio.ensure_future(t.request("GET", "/slow", timeout=5))
        await asyncio.sleep(0.05)
        with pytest.raises((ClusterError, DeadlineExceeded)):
            await t.request("GET", "/queued")  # never got a connection: never sent
        assert (await slow).body == b"/slow"


def test_the_cap_is_checked() -> None:
    with pytest.raises(ValueError, match="max_connections"):
        AsyncTransport("http://127.0.0.1:1", max_connections=0)
