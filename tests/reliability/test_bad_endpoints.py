"""Bad endpoints: malformed URLs, nothing listening, servers that are not etcd, silence,
redirect loops and an etcd without the v2 API. Each gives a documented etcdmap error (or
``ValueError``) promptly, never an exception of the layers below."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from relhelp import FakeServer, assert_clean_error, http_answer, raw_answer

from etcdmap.errors import (
    ClusterError,
    DeadlineExceeded,
    EtcdMapError,
    InvalidResponseError,
    NoEndpointsError,
    TooManyRedirectsError,
    V2DisabledError,
)
from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client

FAILED = (ClusterError, DeadlineExceeded)
STOCK = os.environ.get("ETCDMAP_TEST_SESSION") == "stock"
"""The suite runs on a plain ``requests.Session()`` (see tests/conftest.py)."""
whole_attempt_budget = pytest.mark.skipif(
    STOCK, reason="requests' HTTPAdapter bounds each socket read, not the whole attempt "
    "(documented): a server dripping bytes keeps it waiting")


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "127.0.0.1",  # host:port is http://host:port (as etcdctl takes it); a host alone is not
        "http://127.0.0.1:2379/v2/keys",  # a path would shift every key
        "http://",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:port",
        "ftp://127.0.0.1:2379",
        "unix:///tmp/etcd.sock",
        "file:///etc/passwd",
        "http://user:secret@127.0.0.1:2379",
        "http://127.0.0.1:2379/?x=1",
        "http://127.0.0.1:2379/#frag",
    ],
)
def test_malformed_endpoints_are_refused_up_front(endpoint: str) -> None:
    with pytest.raises(ValueError) as info:
        Client(endpoint)
    assert_clean_error(info.value, (ValueError,))
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("endpoints", [[], ()])
def test_no_endpoints(endpoints: list[str]) -> None:
    with pytest.raises(NoEndpointsError):
        Client(endpoints)


@pytest.mark.parametrize("endpoint", [None, 2379, b"http://127.0.0.1:2379"])
def test_non_string_endpoints(endpoint: object) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        Client([endpoint])  # type: ignore[list-item]
    assert_clean_error(info.value, (ValueError, TypeError))


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nothing_listening_fails_fast_with_cluster_error() -> None:
    urls = [f"http://127.0.0.1:{_dead_port()}" for _ in range(3)]
    with Client(urls, timeout=5.0) as c:
        started = time.monotonic()
        with pytest.raises(ClusterError) as info:
            c.keys.get("/foo")
        assert time.monotonic() - started < 1.0
        assert sorted(ep for ep, _ in info.value.errors) == sorted(urls)
        assert all(isinstance(err, ConnectionRefusedError) for _, err in info.value.errors)
        with pytest.raises(ClusterError):
            EtcdMap(c, "/m")["k"] = "v"
        assert not c.health()


NOT_ETCD: dict[str, Callable[[socket.socket, bytes], None]] = {
    "html": http_answer(200, b"<html><body>It works!</body></html>", content_type="text/html"),
    "html-404": http_answer(404, b"<html>Not Found</html>", content_type="text/html"),
    "garbage-json": http_answer(200, b"{this is : not json,,"),
    "truncated-json": http_answer(200, b'{"action":"get","node":{"key":"/foo","value":"ba'),
    "empty-200": http_answer(200, b""),
    "json-list": http_answer(200, b"[1, 2, 3]"),
    "json-other": http_answer(200, b'{"hello": "world"}'),
    "bad-node": http_answer(200, b'{"action":"get","node":{"key":5,"value":[1]}}'),
    "bad-index": http_answer(
        200, b'{"action":"get","node":{"key":"/foo","value":"x"}}', extra="X-Etcd-Index: -3\r\n"
    ),
    "error-wrong-types": http_answer(400, b'{"errorCode":"100","message":7}'),
}


@pytest.mark.parametrize("kind", sorted(NOT_ETCD))
def test_server_that_is_not_etcd(kind: str) -> None:
    with FakeServer(NOT_ETCD[kind]) as server, Client(server.url, timeout=3.0) as c:
        for call in (
            lambda: c.keys.get("/foo"),
            lambda: c.keys.set("/foo", "v"),
            lambda: EtcdMap(c, "/m")["foo"],
            lambda: EtcdMap(c, "/m").to_dict(),
        ):
            with pytest.raises(EtcdMapError) as info:
                call()
            assert_clean_error(info.value, (InvalidResponseError,))
            assert "etcd" in str(info.value).lower()


def test_not_etcd_version_and_health() -> None:
    with FakeServer(NOT_ETCD["html"]) as server, Client(server.url, timeout=3.0) as c:
        with pytest.raises(InvalidResponseError):
            c.version()
        try:
            health = c.health()
        except InvalidResponseError:
            pass  # documented: a 200 that is not etcd's
        else:
            assert not health


@pytest.mark.parametrize(
    "data",
    [
        b"SSH-2.0-OpenSSH_9.2\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"action\"",  # closed mid-body
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n", marks=pytest.mark.xfail(
            STOCK, strict=True, reason="http.client reads a bad Content-Length until close: "
            "an empty 200 (InvalidResponseError), not a ClusterError")),
        b"",
    ],
    ids=["ssh-banner", "closed-mid-body", "bad-chunk", "bad-length", "closed-at-once"],
)
def test_broken_http_is_a_cluster_error(data: bytes) -> None:
    with FakeServer(raw_answer(data)) as server, Client(server.url, timeout=3.0) as c:
        started = time.monotonic()
        with pytest.raises(ClusterError) as info:
            c.keys.get("/foo")
        assert time.monotonic() - started < 2.0
        assert_clean_error(info.value, (ClusterError,))


@pytest.fixture
def silent_server() -> Iterator[FakeServer]:
    """Accepts connections and reads requests, never answers (a slow-loris in reverse)."""
    gate = threading.Event()

    def hang(conn: socket.socket, head: bytes) -> None:
        gate.wait(30)

    with FakeServer(hang) as server:
        yield server
        gate.set()


def test_silent_server_is_bounded_by_request_timeout(silent_server: FakeServer) -> None:
    with Client(silent_server.url, timeout=5.0, request_timeout=0.3) as c:
        started = time.monotonic()
        with pytest.raises(FAILED) as info:
            c.keys.get("/foo")
        assert time.monotonic() - started < 0.3 + 0.5
        assert_clean_error(info.value, FAILED)


def test_silent_server_is_bounded_by_the_call_timeout(silent_server: FakeServer) -> None:
    with Client(silent_server.url, timeout=0.5) as c:
        started = time.monotonic()
        with pytest.raises(FAILED):
            c.keys.get("/foo")
        assert time.monotonic() - started < 0.5 + 0.5


@whole_attempt_budget
def test_dripping_server_is_bounded_by_the_call_timeout() -> None:
    """A server that sends its status line one byte every 50 ms, forever: each read returns
    well within any socket timeout, so only the whole-call deadline can end the call."""

    def drip(conn: socket.socket, head: bytes) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 10_000:
            conn.sendall(bytes([byte]))
            time.sleep(0.05)

    with FakeServer(drip) as server, Client(server.url, timeout=1.0, request_timeout=0.5) as c:
        started = time.monotonic()
        with pytest.raises(FAILED):
            c.keys.get("/foo")
        elapsed = time.monotonic() - started
        assert elapsed < 1.0 + 1.0, f"a 1 s call took {elapsed:.1f} s"


@whole_attempt_budget
def test_endless_body_is_bounded_by_the_call_timeout() -> None:
    """A 200 without Content-Length whose body never ends (read until close)."""

    def endless(conn: socket.socket, head: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
        chunk = b" " * 65536
        for _ in range(2000):
            conn.sendall(chunk)
            time.sleep(0.005)

    with FakeServer(endless) as server, Client(server.url, timeout=1.0) as c:
        started = time.monotonic()
        with pytest.raises(EtcdMapError):
            c.keys.get("/foo")
        assert time.monotonic() - started < 1.0 + 1.0


def test_redirect_loop() -> None:
    holder: list[str] = []

    def loop(conn: socket.socket, head: bytes) -> None:
        http_answer(307, b"", extra=f"Location: {holder[0]}/v2/keys/foo\r\n")(conn, head)

    with FakeServer(loop) as server:
        holder.append(server.url)
        with Client(server.url, timeout=3.0, max_redirects=5) as c:
            with pytest.raises(EtcdMapError) as info:
                c.keys.get("/foo")
            assert_clean_error(info.value, (TooManyRedirectsError, ClusterError))
            assert 5 <= server.hits <= 6


def test_relative_redirect_loop() -> None:
    answer = http_answer(301, b"", extra="Location: /v2/keys/foo\r\n")
    with (
        FakeServer(answer) as server,
        Client(server.url, timeout=3.0, max_redirects=3) as c,
        pytest.raises(EtcdMapError),
    ):
        c.keys.get("/foo")


def test_https_to_a_plain_http_server() -> None:
    html = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    with FakeServer(raw_answer(html), read_request=False) as server:
        url = server.url.replace("http://", "https://")
        with Client(url, timeout=3.0) as c:
            started = time.monotonic()
            with pytest.raises(ClusterError) as info:
                c.keys.get("/foo")
            assert time.monotonic() - started < 2.0
            assert_clean_error(info.value, (ClusterError,))


def test_etcd_without_v2() -> None:
    with EtcdServer(enable_v2=False) as server, Client(server.client_url, timeout=3.0) as c:
        for call in (lambda: c.keys.get("/foo"), lambda: EtcdMap(c, "/m")["k"]):
            with pytest.raises(V2DisabledError, match="enable-v2"):
                call()
        with pytest.raises(V2DisabledError):
            c.keys.set("/foo", "v")
