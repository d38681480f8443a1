"""Cancelling an asyncio call at any await leaves the pool clean: the connection it was using
is closed (never pooled with the rest of an answer in it), the next call gets its own answer,
and nothing stays locked (the v3 token lock).

Two kinds of tests: each await point of an exchange held open by a scripted peer (connect,
TLS handshake, send, head, body, cmux priming, a stream's read), and sweeps that cancel a
call after 0, 1, 2, ... turns of the event loop until it completes, on an echo peer whose
answers name their request, and on a real etcd with token authentication.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator

import pytest
from scripted import ScriptedServer, ok

import etcdmap.aio
from etcdmap.aio.transport import AsyncTransport
from etcdmap.http.connection import SNIFF_LINE
from etcdmap.testing import EtcdServer
from tests.aio.conftest import EchoServer, Serve
from tests.conftest import TLSFiles

ROOT_PW = "root-pw"


class Hold:
    """A scripted answer that signals it was reached and then holds the connection."""

    def __init__(self, first: bytes = b"") -> None:
        self.first = first
        self.reached = threading.Event()
        self.released = threading.Event()

    def __call__(self, conn: socket.socket) -> None:
        if self.first:
            conn.sendall(self.first)
        self.reached.set()
        self.released.wait(10)


async def _cancel_when(reached: threading.Event, call: Awaitable[object]) -> None:
    task = asyncio.ensure_future(call)
    assert await asyncio.to_thread(reached.wait, 5), "the call never reached the held point"
    await asyncio.sleep(0.02)  # the bytes reach the loop: the task waits on the next ones
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def _clean_after(t: AsyncTransport, srv: ScriptedServer, answer: bytes) -> None:
    """The transport's pool holds nothing of the cancelled call; the next one works."""
    assert t.idle_connections() == 0
    assert (await t.request("GET", "/after")).body == answer
    assert srv.connections == 2  # the held connection was not reused


@pytest.mark.parametrize("first", [
    b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf",
], ids=["awaiting-the-head", "awaiting-the-body"])
async def test_cancel_while_awaiting_the_answer(serve: Serve, first: bytes) -> None:
    hold = Hold(first)
    srv = serve(hold, ok(b"fresh"))
    async with AsyncTransport(srv.url) as t:
        await _cancel_when(hold.reached, t.request("GET", "/held"))
        await _clean_after(t, srv, b"fresh")
    hold.released.set()


async def test_cancel_while_reading_a_stream(serve: Serve) -> None:
    hold = Hold(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{}\n\r\n")
    srv = serve(hold, ok(b"fresh"))
    async with AsyncTransport(srv.url) as t:
        stream = await t.stream("/w", read_timeout=5.0)
        lines = stream.iter_lines()
        assert await lines.__anext__() == b"{}"
        task = asyncio.ensure_future(lines.__anext__())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert stream.closed  # the stream's connection was closed with the cancelled read
        await _clean_after(t, srv, b"fresh")
    hold.released.set()


async def test_cancel_while_priming(serve: Serve) -> None:
    hold = Hold()
    srv = serve(hold, ok(b"fresh"))
    async with AsyncTransport(srv.url) as t:
        await _cancel_when(hold.reached, t.request("GET", "/" + "k" * SNIFF_LINE))
        await _clean_after(t, srv, b"fresh")
    assert srv.targets[0] == "GET /version HTTP/1.1"
    hold.released.set()


async def test_cancel_while_sending_a_large_body() -> None:
    srv = ScriptedServer([])  # reads the head, then waits for a body it never finishes
    try:
        async with AsyncTransport(srv.url) as t:
            task = asyncio.ensure_future(t.request("PUT", "/big", body=b"x" * 64_000_000))
            await asyncio.sleep(0.3)
            assert not task.done()  # the kernel's buffers are full: the send waits
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert t.idle_connections() == 0
    finally:
        srv.close()


@pytest.fixture
def handshake_hole() -> Iterator[str]:
    """Accepts TCP connections and never speaks TLS."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"https://127.0.0.1:{sock.getsockname()[1]}"


async def test_cancel_during_the_tls_handshake(handshake_hole: str, tls_files: TLSFiles) -> None:
    async with AsyncTransport(handshake_hole, verify=tls_files.ca) as t:
        task = asyncio.ensure_future(t.request("GET", "/x"))
        await asyncio.sleep(0.2)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert t.idle_connections() == 0


# ---------------------------------------------------------------------- sweeps


def _turns(limit: int) -> Iterator[int]:
    """0, 1, ..., 15, then 30 % more each time: every await point of a call is passed on one
    of the early turns, and a call waiting on I/O sits at one point for many turns."""
    turns = 0
    while turns < limit:
        yield turns
        turns = turns + 1 if turns < 15 else int(turns * 1.3)


async def _sweep(call: Callable[[int], Awaitable[object]], check: Callable[[], Awaitable[None]],
                 limit: int = 100_000) -> int:
    """Cancel ``call(n)`` after ``n`` turns of the loop (see :func:`_turns`) until it ends
    before the cancellation three times in a row; ``check()`` after each.

    :returns: how many calls were cancelled.
    """
    cancelled = completed = 0
    for turns in _turns(limit):
        task = asyncio.ensure_future(call(turns))
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            cancelled += 1
            completed = 0
        else:
            completed += 1
            if completed == 3:
                break
        await check()
    else:  # pragma: no cover
        pytest.fail(f"the call never completed within {limit} turns")
    return cancelled


async def test_cancel_at_every_turn_leaves_only_clean_connections(echo: EchoServer) -> None:
    async with AsyncTransport(echo.url) as t:

        async def check() -> None:
            # every pooled connection gives the next request its own answer
            idle = t.idle_connections()
            answers = await asyncio.gather(*(t.request("GET", f"/check{i}")
                                             for i in range(idle + 1)))
            assert [a.body for a in answers] == [f"/check{i}".encode() for i in range(idle + 1)]

        cancelled = await _sweep(lambda n: t.request("GET", f"/call{n}"), check)
        assert cancelled >= 3
    await asyncio.sleep(0.1)
    assert echo.closed == echo.connections  # nothing left open


@pytest.fixture(scope="module")
def secured() -> Iterator[EtcdServer]:
    """A v3-only server with auth enabled and a root user."""
    import etcdmap.v3  # noqa: PLC0415

    with EtcdServer(enable_v2=False) as server:
        with etcdmap.v3.Client(server.client_url) as admin:
            admin.auth.user_add("root", ROOT_PW)
            admin.auth.user_grant_role("root", "root")
            admin.auth.enable()
        yield server


async def test_cancel_a_v3_call_with_authentication_at_every_turn(secured: EtcdServer) -> None:
    url = secured.client_url
    check_client = etcdmap.aio.v3.Client(url, username="root", password=ROOT_PW)
    try:
        for n in range(3):  # a fresh client each time: the first call authenticates
            async with etcdmap.aio.v3.Client(url, username="root", password=ROOT_PW) as c:

                async def check(c: etcdmap.aio.v3.Client = c) -> None:
                    await asyncio.wait_for(c.kv.put("cancel/check", "ok"), 5)  # lock free

                cancelled = await _sweep(lambda turn: c.kv.put(f"cancel/{turn}", "v"), check)
                assert cancelled >= 3
            assert n >= 0
        assert await check_client.kv.get("cancel/check") == b"ok"
    finally:
        await check_client.aclose()
