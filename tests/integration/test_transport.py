"""Transport behaviour against a real etcd plus tiny local non-etcd HTTP servers.

The local servers answer HTML, loops of redirects, 5xx or nothing at all: they stand for
broken or foreign endpoints, never for etcd.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    DeadlineExceeded,
    InvalidResponseError,
    KeyNotFound,
    RaftInternal,
    TooManyRedirectsError,
)
from etcdmap.http.transport import ServerError, disable_curl_debug, enable_curl_debug
from etcdmap.v2 import wire as _wire
from etcdmap.v2.client import Client

Handler = Callable[[BaseHTTPRequestHandler], None]


class _Server:
    """A loopback HTTP server whose every request is answered by ``handler``."""

    def __init__(self, handler: Handler) -> None:
        outer = self
        self.requests: list[tuple[str, str, bytes, str | None]] = []

        class _H(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append(
                    (self.command, self.path, body, self.headers.get("Authorization"))
                )
                handler(self)

            do_GET = do_PUT = do_POST = do_DELETE = _any

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], _Server]]:
    servers: list[_Server] = []

    def start(handler: Handler) -> _Server:
        servers.append(_Server(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _reply(status: int, body: bytes, headers: dict[str, str] | None = None) -> Handler:
    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(status)
        for name, value in (headers or {}).items():
            req.send_header(name, value)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    return handle


@pytest.fixture
def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


@pytest.fixture
def black_hole() -> Iterator[str]:
    """Accepts TCP connections (kernel backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


# --------------------------------------------------------------------------- not etcd


def test_html_endpoint_is_invalid_response(serve: Callable[[Handler], _Server]) -> None:
    srv = serve(_reply(200, b"<html><body>Welcome to nginx</body></html>", {"Content-Type": "text/html"}))
    with Client(srv.url) as c, pytest.raises(InvalidResponseError, match="not an etcd v2 endpoint") as info:
        c.keys.get("/foo")
    assert info.value.endpoint == srv.url
    assert srv.url in str(info.value)


def test_empty_body_is_invalid_response(serve: Callable[[Handler], _Server]) -> None:
    srv = serve(_reply(200, b""))
    with Client(srv.url) as c, pytest.raises(InvalidResponseError, match="empty body"):
        c.keys.set("/foo", "bar")


# --------------------------------------------------------------------------- redirects


def test_redirect_loop(serve: Callable[[Handler], _Server]) -> None:
    srv = serve(_reply(307, b"", {"Location": "/v2/keys/again"}))
    with Client(srv.url, max_redirects=3) as c, pytest.raises(TooManyRedirectsError):
        c.keys.get("/foo")
    assert len(srv.requests) == 4  # the request and 3 redirects


def test_relative_redirect_from_etcd_is_followed(etcd_url: str, etcd_prefix: str) -> None:
    with Client(etcd_url) as c:
        c.keys.set(etcd_prefix + "/b", "found")
        # Go's ServeMux answers a non-canonical path with 301 and a relative Location.
        quoted = _wire.key_path(etcd_prefix)
        res = c.transport.request("GET", quoted + "//a/../b")
        assert res.status == 200
        resp = _wire.decode_response(res.status, res.headers, res.body, res.endpoint)
        assert resp.node is not None and resp.node.value == "found"


def test_redirect_keeps_method_body_and_auth(serve: Callable[[Handler], _Server]) -> None:
    def handle(req: BaseHTTPRequestHandler) -> None:
        if req.path.startswith("/v2/keys/start"):
            _reply(307, b"", {"Location": "/v2/keys/final"})(req)
        else:
            _reply(200, b'{"action":"set","node":{"key":"/final","value":"v"}}')(req)

    srv = serve(handle)
    with Client(srv.url, username="u", password="p") as c:
        assert c.keys.set("/start", "v").node.key == "/final"  # type: ignore[union-attr]
    (m1, p1, b1, a1), (m2, p2, b2, a2) = srv.requests
    assert (m1, m2) == ("PUT", "PUT")
    assert (p1, p2) == ("/v2/keys/start", "/v2/keys/final")
    assert b1 == b2 == b"value=v"
    assert a1 == a2 == "Basic dTpw"


# --------------------------------------------------------------------------- timeouts


def test_timeout_bounds_the_whole_call(black_hole: str) -> None:
    with Client(black_hole, timeout=2.0) as c:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as info:
            c.keys.get("/foo")
        elapsed = time.monotonic() - started
    assert isinstance(info.value, TimeoutError)
    assert 1.8 < elapsed < 4.0


def test_per_call_timeout_overrides_the_client_default(black_hole: str) -> None:
    with Client(black_hole, timeout=30.0) as c:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            c.keys.set("/foo", "v", timeout=0.5)
        assert time.monotonic() - started < 1.5


@pytest.mark.skipif(
    os.environ.get("ETCDMAP_TEST_SESSION") == "stock",
    reason="requests' HTTPAdapter bounds each socket read, not the whole attempt (documented)")
def test_a_dripping_server_cannot_stretch_the_deadline(serve: Callable[[Handler], _Server]) -> None:
    def drip(req: BaseHTTPRequestHandler) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 200:
            try:
                req.connection.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(0.02)  # the server side drips; every single read is quick

    srv = serve(drip)
    with Client(srv.url, timeout=1.0) as c:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            c.keys.get("/foo")
        assert time.monotonic() - started < 1.8
    with Client(srv.url, timeout=5.0, request_timeout=0.5) as c:
        started = time.monotonic()
        with pytest.raises(ClusterError):
            c.keys.get("/foo")
        assert time.monotonic() - started < 1.3


def test_request_timeout_fails_over_to_the_next_member(black_hole: str, etcd_url: str) -> None:
    with Client([black_hole, etcd_url], timeout=5.0, request_timeout=0.5) as c:
        c.transport.pin(black_hole)
        started = time.monotonic()
        with pytest.raises(KeyNotFound):
            c.keys.get("/definitely/missing/key")
        assert time.monotonic() - started < 2.0
        assert c.transport.pinned == etcd_url  # the good member is now pinned


def test_ambiguous_write_is_not_resent(black_hole: str, etcd_url: str, etcd_prefix: str) -> None:
    with Client([black_hole, etcd_url], timeout=5.0, request_timeout=0.5) as c:
        c.transport.pin(black_hole)
        with pytest.raises(AmbiguousResultError):
            c.keys.create_in_order(etcd_prefix + "/q", "job")
        assert c.transport.pinned == etcd_url  # the next call starts elsewhere
        with pytest.raises(KeyNotFound):
            c.keys.get(etcd_prefix + "/q")  # the write never reached etcd and was not re-sent
        c.transport.pin(black_hole)
        assert c.keys.set(etcd_prefix + "/plain", "v").action == "set"  # idempotent: retried


def test_refused_connection_is_retried_even_for_writes(
    refused_url: str, etcd_url: str, etcd_prefix: str
) -> None:
    with Client([refused_url, etcd_url]) as c:
        c.transport.pin(refused_url)
        assert c.keys.create(etcd_prefix + "/once", "v").action == "create"
        assert c.transport.pinned == etcd_url


def test_all_endpoints_down_lists_each(refused_url: str, black_hole: str) -> None:
    with (
        Client([refused_url, black_hole], timeout=5.0, request_timeout=0.3) as c,
        pytest.raises(ClusterError) as info,
    ):
        c.keys.get("/foo")
    assert sorted(ep for ep, _ in info.value.errors) == sorted([refused_url, black_hole])
    assert "cluster is unavailable" in str(info.value)


# --------------------------------------------------------------------------- 5xx


_TIMED_OUT = json.dumps({"errorCode": 300, "message": "Raft Internal Error",
                         "cause": "etcdserver: request timed out", "index": 0}).encode()


def test_5xx_fails_over_and_keeps_the_etcd_error(serve: Callable[[Handler], _Server], etcd_url: str) -> None:
    sick = serve(_reply(500, _TIMED_OUT, {"Content-Type": "application/json"}))
    with Client([sick.url, etcd_url]) as c:
        c.transport.pin(sick.url)
        with pytest.raises(KeyNotFound):
            c.keys.get("/definitely/missing/key")
    with Client([sick.url]) as c, pytest.raises(ClusterError) as info:
        c.keys.get("/foo")
    (endpoint, error), = info.value.errors
    assert endpoint == sick.url
    assert isinstance(error, ServerError)
    assert error.status == 500
    assert isinstance(error.etcd_error, RaftInternal)
    assert error.etcd_error.cause == "etcdserver: request timed out"
    assert "request timed out" in str(info.value)


def test_5xx_on_a_conditional_write_is_ambiguous(serve: Callable[[Handler], _Server], etcd_url: str) -> None:
    sick = serve(_reply(500, _TIMED_OUT))
    with Client([sick.url, etcd_url]) as c:
        c.transport.pin(sick.url)
        with pytest.raises(AmbiguousResultError, match="request timed out"):
            c.keys.set("/k", "v", prev_value="old")
    assert len(sick.requests) == 1


def test_member_of_another_cluster_is_skipped(serve: Callable[[Handler], _Server], etcd_url: str) -> None:
    alien = serve(_reply(200, b'{"action":"get","node":{"key":"/x","value":"alien"}}',
                         {"X-Etcd-Cluster-Id": "deadbeef"}))
    with Client([alien.url, etcd_url]) as c:
        c.transport.request("GET", "/v2/keys/", endpoint=etcd_url)  # learn the cluster id
        assert c.transport.cluster_id not in (None, "deadbeef")
        c.transport.pin(alien.url)
        with pytest.raises(KeyNotFound):
            c.keys.get("/definitely/missing/key")
        assert c.transport.pinned == etcd_url


# --------------------------------------------------------------------------- debug, pool


def test_curl_debug_never_prints_the_password(
    etcd_url: str, etcd_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    enable_curl_debug()
    try:
        with Client(etcd_url, username="root", password="s3cret") as c:
            c.keys.set(etcd_prefix + "/a b", "x&y")
            c.keys.get(etcd_prefix + "/a b")
    finally:
        disable_curl_debug()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("cURL Command: curl -X PUT " + etcd_url + "/v2/keys/t-")
    assert "/a%20b " in lines[0] and lines[0].endswith(" -d value=x%26y")
    assert "-u 'root:***'" in lines[0]
    assert "s3cret" not in "".join(lines) and "Authorization" not in "".join(lines)
    assert lines[1].startswith("cURL Command: curl -X GET")
    with Client(etcd_url) as c:
        c.keys.get("/", timeout=5)
    assert capsys.readouterr().err == ""


def test_threads_share_one_client(
    etcd_url: str, etcd_prefix: str, run_threads: Callable[..., list[BaseException]]
) -> None:
    with Client(etcd_url) as c:

        def work(n: int) -> None:
            for i in range(30):
                c.keys.set(f"{etcd_prefix}/{n}", str(i))
                assert c.keys.get(f"{etcd_prefix}/{n}").node.value == str(i)  # type: ignore[union-attr]

        errors = run_threads(work, 12)
        assert errors == []
        assert len(c.keys.get(etcd_prefix).node.nodes) == 12  # type: ignore[union-attr]
