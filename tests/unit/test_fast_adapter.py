"""FastAdapter basics against a scripted loopback peer: framing, streams, abort, sent/never sent."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest
import requests
from scripted import CLOSE, ScriptedServer, ok
from urllib3.exceptions import InsecureRequestWarning

from etcdmap.http.adapter import FastAdapter, StreamBody
from etcdmap.http.attempt import AttemptError
from etcdmap.http.framing import END

pytestmark = pytest.mark.usefixtures("framing")  # every test runs with httptools and with h11

Serve = Callable[..., ScriptedServer]


def prep(method: str, url: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> requests.PreparedRequest:
    return requests.Request(method, url, data=body, headers=headers).prepare()


def test_content_length_body_and_keep_alive(serve: Serve, adapter: FastAdapter) -> None:
    srv = serve(ok(b"hello", b"X-Etcd-Index: 7\r\n"), ok(b"again"))
    first = adapter.send(prep("GET", srv.url + "/v2/keys/a"), timeout=2)
    assert (first.status_code, first.content) == (200, b"hello")
    assert first.headers["x-etcd-index"] == "7"
    second = adapter.send(prep("PUT", srv.url + "/v2/keys/a", b"value=x"), timeout=2)
    assert second.content == b"again"
    assert srv.connections == 1  # reused
    (_, head, body) = srv.requests[1]
    assert head.startswith(b"PUT /v2/keys/a HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"Content-Length: 7" in head and body == b"value=x"


def test_empty_put_sends_content_length_zero(serve: Serve, adapter: FastAdapter) -> None:
    srv = serve(ok())
    adapter.send(prep("PUT", srv.url + "/x"), timeout=2)
    assert b"Content-Length: 0" in srv.requests[0][1]


def test_chunked_stream_is_read_incrementally(serve: Serve, adapter: FastAdapter) -> None:
    release = threading.Event()

    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n{\"a\":1\r\n")
        release.wait(5)
        conn.sendall(b"2\r\n}\n\r\n0\r\n\r\n")

    srv = serve(answer, ok())
    resp = adapter.send(prep("GET", srv.url + "/w"), stream=True, timeout=2)
    assert isinstance(resp.raw, StreamBody)
    pieces = resp.iter_content(chunk_size=None)
    assert next(pieces) == b'{"a":1'  # arrives before the rest is even sent
    release.set()
    assert b"".join(pieces) == b"}\n"
    adapter.send(prep("GET", srv.url + "/x"), timeout=2)
    assert srv.connections == 1  # a stream read to its end goes back to the pool


def test_body_until_close(serve: Serve, adapter: FastAdapter) -> None:
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>")
        conn.shutdown(socket.SHUT_WR)

    srv = serve(answer)
    assert adapter.send(prep("GET", srv.url + "/"), timeout=2).content == b"<html>"


def test_informational_then_no_content(serve: Serve, adapter: FastAdapter) -> None:
    srv = serve(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    resp = adapter.send(prep("DELETE", srv.url + "/x"), timeout=2)
    assert (resp.status_code, resp.content) == (204, b"")


@pytest.mark.parametrize(
    "raw",
    [b"SSH-2.0-OpenSSH\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", CLOSE,
     b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc" + b"<close>"],
    ids=["ssh", "status", "header", "length", "closed", "truncated"],
)
def test_not_http_is_a_sent_attempt_error(serve: Serve, adapter: FastAdapter, raw: bytes) -> None:
    def answer(conn: socket.socket) -> None:
        if raw != CLOSE:
            conn.sendall(raw.replace(b"<close>", b""))
        conn.shutdown(socket.SHUT_WR)

    srv = serve(answer)
    with pytest.raises(AttemptError) as info:
        adapter.send(prep("POST", srv.url + "/x", b"v"), timeout=2)
    assert info.value.sent and not info.value.timed_out
    assert isinstance(info.value, requests.ConnectionError)


def test_refused_is_never_sent(adapter: FastAdapter) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(AttemptError) as info:
        adapter.send(prep("POST", f"http://127.0.0.1:{port}/x", b"v"), timeout=2)
    assert not info.value.sent


def test_silence_times_out_as_sent(serve: Serve, adapter: FastAdapter) -> None:
    stop = threading.Event()
    srv = serve(lambda conn: stop.wait(5))
    started = time.monotonic()
    with pytest.raises(AttemptError) as info:
        adapter.send(prep("GET", srv.url + "/x"), timeout=0.2)
    stop.set()
    assert info.value.sent and info.value.timed_out
    assert time.monotonic() - started < 1.5


def test_abort_wakes_a_blocked_stream_reader(serve: Serve, adapter: FastAdapter) -> None:
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        stop.wait(5)

    srv = serve(answer)
    resp = adapter.send(prep("GET", srv.url + "/w"), stream=True, timeout=(2, 5))
    threading.Timer(0.1, adapter.abort, args=(resp,)).start()
    started = time.monotonic()
    with pytest.raises(AttemptError, match="aborted"):
        resp.raw.read(1024)
    stop.set()
    assert time.monotonic() - started < 2


def test_detach_hands_over_socket_and_parser(serve: Serve, adapter: FastAdapter) -> None:
    srv = serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    resp = adapter.send(prep("GET", srv.url + "/w"), stream=True, timeout=2)
    conn = resp.raw.detach()
    events: list[object] = []
    while not events or events[-1] is not END:
        events.append(conn.next_event())
    assert events == [b"abc", END]
    assert conn.reusable()
    conn.close()
    with pytest.raises(ValueError, match="already"):
        resp.raw.detach()


def test_unverified_https_warns_like_requests(adapter: FastAdapter) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.warns(InsecureRequestWarning), pytest.raises(AttemptError) as info:
        adapter.send(prep("GET", f"https://127.0.0.1:{port}/x"), timeout=2, verify=False)
    assert not info.value.sent


def test_proxies_are_refused_unsent(adapter: FastAdapter) -> None:
    with pytest.raises(AttemptError, match="proxies") as info:
        adapter.send(prep("GET", "http://127.0.0.1:1/x"), timeout=2,
                     proxies={"http": "http://127.0.0.1:3128"})
    assert not info.value.sent


# ------------------------------------------------------------------ long request lines (cmux)

_VERSION = ok(b'{"etcdserver":"3.5.1","etcdcluster":"3.5.0"}')


def _long(line_length: int, method: str = "GET") -> str:
    """A target whose request line (``METHOD target HTTP/1.1``) is ``line_length`` long."""
    return "/v2/keys/" + "k" * (line_length - len(method) - 10 - len("/v2/keys/"))


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_long_request_line_on_a_new_connection_is_primed(
    serve: Serve, adapter: FastAdapter, method: str
) -> None:
    srv = serve(_VERSION, ok(), ok())
    target = _long(4095, method)
    body = b"value=v" if method == "PUT" else None
    assert adapter.send(prep(method, srv.url + target, body), timeout=2).content == b"ok"
    adapter.send(prep("GET", srv.url + _long(4095)), timeout=2)  # reused: not primed again
    assert srv.targets == ["GET /version HTTP/1.1", f"{method} {target} HTTP/1.1",
                           f"GET {_long(4095)} HTTP/1.1"]
    assert srv.connections == 1


def test_no_priming_for_a_line_cmux_can_read(serve: Serve, adapter: FastAdapter) -> None:
    srv = serve(ok())
    adapter.send(prep("GET", srv.url + _long(4094)), timeout=2)
    assert srv.targets == [f"GET {_long(4094)} HTTP/1.1"]


@pytest.mark.parametrize(
    "answer", [CLOSE, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
               b"garbage\r\n\r\n"], ids=["reset", "closes", "garbage"])
def test_failed_priming_means_never_sent(serve: Serve, adapter: FastAdapter, answer: bytes) -> None:
    srv = serve(answer)
    with pytest.raises(AttemptError) as info:
        adapter.send(prep("POST", srv.url + _long(5000, "POST"), b"v"), timeout=2)
    assert not info.value.sent  # safe to fail over: the request itself never left
    assert srv.targets == ["GET /version HTTP/1.1"]
