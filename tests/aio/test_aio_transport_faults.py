"""The asyncio transport against scripted loopback peers: framing faults, the pool's hygiene,
cmux priming and the attempt's budget (answers etcd never sends)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from scripted import CLOSE, ok

from etcdmap.aio.transport import AsyncTransport
from etcdmap.errors import AmbiguousResultError, ClusterError, DeadlineExceeded, NodeExists
from etcdmap.http.connection import SNIFF_LINE
from etcdmap.v2 import wire as _wire
from tests.aio.conftest import Serve

_EXISTS = b'{"errorCode":105,"message":"Key already exists","cause":"/k","index":5}'
_POISON = ok(_EXISTS, b"Content-Type: application/json\r\n")
_CREATED = ok(b'{"action":"create","node":{"key":"/k","value":"v","modifiedIndex":5,'
              b'"createdIndex":5}}', b"Content-Type: application/json\r\nX-Etcd-Index: 5\r\n")


def _silent(conn: socket.socket) -> None:
    threading.Event().wait(3)  # answers nothing for longer than the tests wait


async def test_keep_alive_reuses_one_connection(serve: Serve) -> None:
    srv = serve(ok(b"one"), ok(b"two"), ok(b""))
    async with AsyncTransport(srv.url) as t:
        assert (await t.request("GET", "/a")).body == b"one"
        put = await t.request("PUT", "/b", form={"value": "x y"})
        assert put.body == b"two"
        empty = await t.request("PUT", "/c")
        assert (empty.status, empty.body) == (200, b"")
        assert t.idle_connections() == 1
    assert srv.connections == 1
    _, head, body = srv.requests[1]
    assert head.startswith(b"PUT /b HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nContent-Type: application/x-www-form-urlencoded" in head
    assert body == b"value=x+y"
    assert b"\r\nContent-Length: 0" in srv.requests[2][1]


async def test_chunked_stream_read_line_by_line(serve: Serve) -> None:
    gate = threading.Event()

    def chunks(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Etcd-Index: 9\r\n\r\n"
                     b"4\r\n{\"a\"\r\n")
        gate.wait(5)
        conn.sendall(b"7\r\n:1}\n{\"b\r\n5\r\n\":2}\n\r\n0\r\n\r\n")

    srv = serve(chunks, ok(b"after"))
    async with AsyncTransport(srv.url) as t:
        async with await t.stream("/w", [("wait", "true")], read_timeout=2.0) as s:
            assert (s.status, s.headers["x-etcd-index"]) == (200, "9")
            lines = s.iter_lines()
            gate.set()
            assert [line async for line in lines] == [b'{"a":1}', b'{"b":2}']
        assert (await t.request("GET", "/next")).body == b"after"
    assert srv.connections == 1  # the stream ended cleanly: its connection was reused
    assert srv.targets[0] == "GET /w?wait=true HTTP/1.1"


def _until_close(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nuntil close")
    conn.shutdown(socket.SHUT_WR)


async def test_a_body_until_close_and_an_informational_head(serve: Serve) -> None:
    srv = serve(_until_close,
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    async with AsyncTransport(srv.url) as t:
        assert (await t.request("GET", "/a")).body == b"until close"
        assert (await t.request("GET", "/b")).status == 204
    assert srv.connections == 2


@pytest.mark.parametrize("first", [
    b"HTTP/1.1 204 No Content\r\n\r\n" + _POISON,  # stray bytes after a 204
    ok(b"ok") + b"EXTRA",  # a body longer than its Content-Length
    ok(b"ok") + _POISON,  # a pipelined extra answer
], ids=["after-204", "long-body", "pipelined"])
async def test_unread_bytes_never_answer_the_next_request(serve: Serve, first: bytes) -> None:
    srv = serve(first, _CREATED)
    async with AsyncTransport(srv.url, server_error=_wire.server_error) as t:
        await t.request("GET", "/a")
        created = await t.request("PUT", "/v2/keys/k", params=[("prevExist", "false")],
                                  form={"value": "v"}, idempotent=False)
        assert b'"action":"create"' in created.body
    assert srv.connections == 2  # the poisoned connection was closed, not pooled


async def test_stray_bytes_on_an_idle_connection_close_it(serve: Serve) -> None:
    answered, sent_stray = threading.Event(), threading.Event()

    def answer(conn: socket.socket) -> None:
        conn.sendall(ok(b"ok"))
        answered.wait(5)
        conn.sendall(_POISON)  # arrives while the connection is idle in the pool
        sent_stray.set()

    srv = serve(answer, ok(b"fresh"))
    async with AsyncTransport(srv.url) as t:
        await t.request("GET", "/a")
        answered.set()
        assert await asyncio.to_thread(sent_stray.wait, 5)
        await asyncio.sleep(0.05)  # let the loop read them
        assert (await t.request("GET", "/b")).body == b"fresh"
    assert srv.connections == 2


async def test_a_peer_that_closed_an_idle_connection_costs_no_failure(serve: Serve) -> None:
    def answer_then_close(conn: socket.socket) -> None:
        conn.sendall(ok(b"ok"))
        threading.Event().wait(0.05)
        conn.shutdown(socket.SHUT_RDWR)

    srv = serve(answer_then_close, ok(b"again"))
    async with AsyncTransport(srv.url) as t:
        await t.request("GET", "/a")
        await asyncio.sleep(0.3)  # the close arrives while the connection is idle
        assert (await t.request("POST", "/b", idempotent=False)).body == b"again"
    assert srv.connections == 2


def _short_body(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
    conn.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize("answer", [
    b"SSH-2.0-OpenSSH_9.0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
    _short_body,
    CLOSE,
], ids=["not-http", "two-lengths", "chunked-substring", "long-header", "short-body", "closed"])
async def test_broken_answers_are_sent_failures(serve: Serve, answer: object) -> None:
    srv = serve(answer, answer)
    async with AsyncTransport(srv.url) as t:
        with pytest.raises(ClusterError) as info:
            await t.request("GET", "/x")
        assert info.value.maybe_applied
        with pytest.raises(AmbiguousResultError):
            await t.request("POST", "/x", idempotent=False)
        assert t.idle_connections() == 0


async def test_a_body_over_the_limit_fails(serve: Serve) -> None:
    srv = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 9000000000000\r\n\r\nabc")
    async with AsyncTransport(srv.url) as t:
        with pytest.raises(ClusterError, match="larger than"):
            await t.request("GET", "/huge")


async def test_silence_times_out_within_the_deadline(serve: Serve) -> None:
    srv = serve(_silent)
    async with AsyncTransport(srv.url, timeout=0.3) as t:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as info:
            await t.request("GET", "/x")
        assert time.monotonic() - started < 1.0
        assert info.value.maybe_applied


async def test_a_dripping_server_cannot_stretch_the_budget(serve: Serve) -> None:
    def drip(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            threading.Event().wait(0.02)

    srv = serve(drip)
    async with AsyncTransport(srv.url, timeout=0.5) as t:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await t.request("GET", "/x")
        assert time.monotonic() - started < 1.0


async def test_request_timeout_moves_on_to_the_next_endpoint(serve: Serve) -> None:
    hung, healthy = serve(_silent), serve(ok(b"here"))
    async with AsyncTransport([hung.url, healthy.url], timeout=5.0, request_timeout=0.2) as t:
        t.pin(hung.url)
        started = time.monotonic()
        assert (await t.request("GET", "/x")).body == b"here"
        assert time.monotonic() - started < 1.0
        assert t.pinned == healthy.url


_VERSION = ok(b'{"etcdserver":"3.5.1","etcdcluster":"3.5.0"}')


async def test_a_long_request_line_on_a_new_connection_is_primed(serve: Serve) -> None:
    srv = serve(_VERSION, ok(b"long"), ok(b"again"))
    long_path = "/v2/keys/" + "k" * SNIFF_LINE
    async with AsyncTransport(srv.url) as t:
        assert (await t.request("GET", long_path)).body == b"long"
        assert (await t.request("GET", long_path)).body == b"again"  # reused: no priming
    assert [target.split(" ")[1][:12] for target in srv.targets] == \
        ["/version", "/v2/keys/kkk", "/v2/keys/kkk"]
    assert srv.connections == 1


@pytest.mark.parametrize("answer", [CLOSE, b"HTTP/1.1 200 OK\r\nConnection: close\r\n"
                                           b"Content-Length: 2\r\n\r\n{}"])
async def test_a_failed_priming_means_never_sent(serve: Serve, answer: bytes) -> None:
    primed, healthy = serve(answer), serve(_VERSION, ok(b"created"))
    async with AsyncTransport([primed.url, healthy.url]) as t:
        t.pin(primed.url)
        result = await t.request("POST", "/v2/keys/" + "k" * SNIFF_LINE, idempotent=False)
        assert result.body == b"created"  # a write may go on: the first member never had it
    assert [target.split(" ")[1] for target in primed.targets] == ["/version"]
    assert [target.split(" ")[1][:10] for target in healthy.targets] == ["/version", "/v2/keys/k"]


async def test_a_create_is_never_answered_by_a_poisoned_connection(serve: Serve) -> None:
    srv = serve(_CREATED + _POISON, _CREATED)
    async with AsyncTransport(srv.url, server_error=_wire.server_error) as t:
        for key in ("/v2/keys/k", "/v2/keys/k2"):
            result = await t.request("PUT", key, params=[("prevExist", "false")],
                                     form={"value": "v"}, idempotent=False)
            error = _wire.decode_error(result.status, result.body)
            if isinstance(error, NodeExists):  # pragma: no cover - the defect
                pytest.fail("a poisoned connection answered the next request")


def test_one_loop_at_a_time(serve: Serve) -> None:
    srv = serve(ok(b"first"), ok(b"second"), ok(b"third"))
    t = AsyncTransport(srv.url)

    async def get(path: str) -> bytes:
        return (await t.request("GET", path)).body

    async def first_loop() -> None:
        assert await get("/a") == b"first"  # an idle connection of this loop stays pooled
        with pytest.raises(RuntimeError, match="in use on another event loop"):
            await asyncio.to_thread(asyncio.run, get("/elsewhere"))
        assert await get("/b") == b"second"
        await t.aclose()

    async def second_loop() -> None:
        assert await get("/c") == b"third"  # closed on the first loop: free for another
        await t.aclose()

    asyncio.run(first_loop())
    asyncio.run(second_loop())


_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{}\n\r\n"


async def test_a_silent_stream_ends_with_deadline_exceeded(serve: Serve) -> None:
    def then_silence(conn: socket.socket) -> None:
        conn.sendall(_CHUNKED)
        threading.Event().wait(3)

    srv = serve(then_silence)
    async with AsyncTransport(srv.url) as t:
        s = await t.stream("/w", read_timeout=0.2)
        lines = s.iter_lines()
        assert await lines.__anext__() == b"{}"
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match="sent nothing for 0.2 s"):
            await lines.__anext__()
        assert time.monotonic() - started < 1.0
        assert s.closed and t.idle_connections() == 0


async def test_a_broken_stream_is_a_cluster_error(serve: Serve) -> None:
    def then_reset(conn: socket.socket) -> None:
        conn.sendall(_CHUNKED)
        threading.Event().wait(0.1)  # after the head was read
        conn.sendall(b"zz\r\n")  # not a chunk size

    srv = serve(then_reset)
    async with AsyncTransport(srv.url) as t:
        s = await t.stream("/w", read_timeout=2.0)
        with pytest.raises(ClusterError, match="the stream broke") as info:
            await s.read()
        assert info.value.errors[0][0] == srv.url
        assert t.idle_connections() == 0
