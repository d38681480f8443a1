"""Regression tests for the review defects of the old HTTP pool (issue 13, item 5), each
against a scripted loopback peer: answer poisoning, framing ambiguities, over-long header
lines, raw request lines, huge bodies, close() with a request in flight, credentials across
origins and non-http redirects."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable

import pytest
import requests
from scripted import ScriptedServer, ok

from etcdmap.errors import ClusterError, InvalidResponseError, NodeExists
from etcdmap.http.adapter import FastAdapter
from etcdmap.http.attempt import AttemptError
from etcdmap.v2.client import Client
from tests.conftest import TLSFiles

Serve = Callable[..., ScriptedServer]
pytestmark = pytest.mark.usefixtures("framing")  # every test runs with httptools and with h11
_CREATED = b'{"action":"create","node":{"key":"/k","value":"v","modifiedIndex":5,"createdIndex":5}}'
_EXISTS = b'{"errorCode":105,"message":"Key already exists","cause":"/k","index":5}'


def get(adapter: FastAdapter, url: str) -> requests.Response:
    return adapter.send(requests.Request("GET", url).prepare(), timeout=2)


# ------------------------------------------------------------------ answer poisoning

_POISON = ok(_EXISTS, b"Content-Type: application/json\r\n")


@pytest.mark.parametrize(
    "first",
    [b"HTTP/1.1 204 No Content\r\n\r\n" + _POISON,  # stray bytes after a 204
     ok(b"ok") + b"EXTRA",  # a body longer than its Content-Length
     ok(b"ok") + _POISON],  # a pipelined extra answer
    ids=["after-204", "long-body", "pipelined"],
)
def test_unread_bytes_never_answer_the_next_request(
    serve: Serve, adapter: FastAdapter, first: bytes
) -> None:
    srv = serve(first, ok(b"fresh"))
    get(adapter, srv.url + "/a")
    assert get(adapter, srv.url + "/b").content == b"fresh"
    assert srv.connections == 2  # the poisoned connection was closed, not pooled


def test_stray_bytes_arriving_on_an_idle_connection(serve: Serve, adapter: FastAdapter) -> None:
    sent_stray = threading.Event()
    first_read = threading.Event()

    def answer(conn: socket.socket) -> None:
        conn.sendall(ok(b"ok"))
        first_read.wait(5)
        conn.sendall(_POISON)  # arrives after the answer was read and pooled
        sent_stray.set()

    srv = serve(answer, ok(b"fresh"))
    get(adapter, srv.url + "/a")
    first_read.set()
    assert sent_stray.wait(5)
    assert get(adapter, srv.url + "/b").content == b"fresh"
    assert srv.connections == 2


def test_a_create_is_not_reported_as_node_exists(serve: Serve) -> None:
    created = ok(_CREATED, b"Content-Type: application/json\r\nX-Etcd-Index: 5\r\n")
    srv = serve(created + _POISON, created)
    with Client(srv.url) as c:
        assert c.keys.create("/k", "v").action == "create"
        try:
            assert c.keys.create("/k2", "v").action == "create"
        except NodeExists:  # pragma: no cover - the defect
            pytest.fail("a poisoned connection answered the next request")


# ------------------------------------------------------------------ framing ambiguities


@pytest.mark.parametrize(
    "raw",
    [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk",
     b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nokk",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\nok\r\n0\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\nX-Etcd-Index: 1\r\n\r\n"],
    ids=["two-lengths", "length-list", "chunked-not-final", "chunked-substring",
         "negative-chunk", "long-header-line"],
)
def test_ambiguous_framing_is_refused(serve: Serve, adapter: FastAdapter, raw: bytes) -> None:
    srv = serve(raw)
    with pytest.raises(AttemptError) as info:
        get(adapter, srv.url + "/x")
    assert info.value.sent


# ------------------------------------------------------------------ raw request lines


@pytest.mark.parametrize("path", ["/v2/keys/a b", "/v2/keys/a\r\nX-Injected: 1", "/v2/keys/é"])
def test_unsafe_target_is_refused_before_sending(serve: Serve, path: str) -> None:
    srv = serve(ok())
    with Client(srv.url) as c, pytest.raises(ValueError, match="percent-quoted"):
        c.transport.request("GET", path)
    assert srv.requests == []


@pytest.mark.parametrize(
    ("target", "headers"),
    [("/a\r\nX-Injected: 1", {}), ("/a b", {}), ("/a", {"X-Bad": "v\r\nX-Injected: 1"})],
)
def test_adapter_refuses_control_characters_unsent(
    serve: Serve, adapter: FastAdapter, target: str, headers: dict[str, str]
) -> None:
    srv = serve(ok())
    request = requests.PreparedRequest()
    request.prepare_method("GET")
    request.url = srv.url + target  # bypasses requests' own URL checks on purpose
    request.headers = requests.structures.CaseInsensitiveDict(headers)  # type: ignore[assignment]
    request.body = None
    with pytest.raises(AttemptError) as info:
        adapter.send(request, timeout=2)
    assert not info.value.sent
    assert srv.requests == []


# ------------------------------------------------------------------ huge bodies


def test_huge_content_length_fails_cleanly(serve: Serve, adapter: FastAdapter) -> None:
    srv = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\nabc")
    with pytest.raises(AttemptError, match="exceeds the limit"):
        get(adapter, srv.url + "/x")


def test_chunked_body_past_the_limit_fails(serve: Serve) -> None:
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    srv = serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 4
                + b"0\r\n\r\n")
    small = FastAdapter(max_body_size=3000)
    with pytest.raises(AttemptError, match="exceeds the limit"):
        get(small, srv.url + "/x")
    small.close()


# ------------------------------------------------------------------ close() in flight


def test_close_with_a_request_in_flight_closes_its_connection(
    serve: Serve, adapter: FastAdapter
) -> None:
    in_flight = threading.Event()
    closed = threading.Event()

    def answer(conn: socket.socket) -> None:
        in_flight.set()
        closed.wait(5)
        conn.sendall(ok(b"late"))

    srv = serve(answer, ok(b"next"))
    result: list[bytes] = []
    worker = threading.Thread(target=lambda: result.append(get(adapter, srv.url + "/a").content))
    worker.start()
    assert in_flight.wait(5)
    adapter.close()
    closed.set()
    worker.join(5)
    assert result == [b"late"]
    assert get(adapter, srv.url + "/b").content == b"next"
    assert srv.connections == 2  # the in-flight connection was not pooled after close()


# ------------------------------------------------------------------ redirects


def test_cross_origin_redirect_drops_credentials(serve: Serve) -> None:
    other = serve(ok(_CREATED, b"Content-Type: application/json\r\n"))
    location = f"Location: {other.url.replace('127.0.0.1', 'localhost')}/v2/keys/k\r\n"
    first = serve(b"HTTP/1.1 307 Temporary Redirect\r\n" + location.encode()
                  + b"Content-Length: 0\r\n\r\n")
    with Client(first.url, username="root", password="s3cret") as c:
        c.keys.set("/k", "v")
    assert b"Authorization: Basic" in first.requests[0][1]
    (_, head, body), = other.requests
    assert b"authorization" not in head.lower()
    assert body == b"value=v"  # a 307 keeps method and body


@pytest.mark.parametrize("location", ["gopher://127.0.0.1:70/x", "file:///etc/passwd"])
def test_non_http_redirect_is_refused(serve: Serve, location: str) -> None:
    srv = serve(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location.encode()
                + b"\r\nContent-Length: 0\r\n\r\n")
    with Client(srv.url) as c, pytest.raises(InvalidResponseError, match="only http"):
        c.keys.get("/k")
    assert len(srv.requests) == 1


def test_https_to_http_redirect_drops_credentials(serve: Serve, tls_files: TLSFiles) -> None:
    plain = serve(ok(_CREATED, b"Content-Type: application/json\r\n"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.server_cert, tls_files.server_key)
    secure = ScriptedServer([b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + plain.url.encode()
                             + b"/v2/keys/k\r\nContent-Length: 0\r\n\r\n"], context)
    try:
        with Client(secure.url, username="u", password="p", verify=tls_files.ca) as c:
            c.keys.get("/k")
    finally:
        secure.close()
    assert b"Authorization: Basic dTpw" in secure.requests[0][1]
    (_, head, _), = plain.requests
    assert b"authorization" not in head.lower()


def test_everything_failing_is_a_cluster_error(serve: Serve) -> None:
    srv = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk")
    with Client(srv.url) as c, pytest.raises(ClusterError):
        c.keys.get("/k")
