"""The asyncio transport keeps the blocking transport's guarantees: failover, idempotency,
5xx, the cluster id, redirects, TLS, Basic auth, cURL debug (real etcd, and scripted peers for
what etcd never sends)."""

from __future__ import annotations

import json
import socket
import ssl
import warnings
from collections.abc import Iterator

import pytest
from scripted import ScriptedServer, ok
from urllib3.exceptions import InsecureRequestWarning

import etcdmap.aio
from etcdmap.aio.transport import AsyncTransport
from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    InvalidResponseError,
    KeyNotFound,
    RaftInternal,
    ServerError,
    TooManyRedirectsError,
)
from etcdmap.http.curl import disable_curl_debug, enable_curl_debug
from etcdmap.v2 import wire as _wire
from tests.aio.conftest import Serve
from tests.conftest import TLSFiles

_TIMED_OUT = json.dumps({"errorCode": 300, "message": "Raft Internal Error",
                         "cause": "etcdserver: request timed out", "index": 0}).encode()
_SICK = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n" \
        b"Content-Length: %d\r\n\r\n%s" % (len(_TIMED_OUT), _TIMED_OUT)
_CREATED = ok(b'{"action":"create","node":{"key":"/k","value":"v","modifiedIndex":5,'
              b'"createdIndex":5}}', b"Content-Type: application/json\r\nX-Etcd-Index: 5\r\n")


def _redirect(location: str) -> bytes:
    return (b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location.encode()
            + b"\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


# ---------------------------------------------------------------------- failover


async def test_a_refused_endpoint_fails_over_even_for_writes(
    refused_url: str, etcd_url: str, etcd_prefix: str
) -> None:
    async with etcdmap.aio.Client([refused_url, etcd_url]) as c:
        c.transport.pin(refused_url)
        created = await c.keys.create(etcd_prefix + "/k", "v")
        assert created.action == "create"
        assert c.transport.pinned == etcd_url


async def test_all_endpoints_down_lists_each(refused_url: str, serve: Serve) -> None:
    silent = serve()  # closes every connection without answering
    async with AsyncTransport([refused_url, silent.url]) as t:
        with pytest.raises(ClusterError) as info:
            await t.request("GET", "/v2/keys/x")
    errors = dict(info.value.errors)
    assert set(errors) == {refused_url, silent.url}
    assert isinstance(errors[refused_url], ConnectionRefusedError)
    assert info.value.maybe_applied  # the silent one had the request


async def test_5xx_fails_over_and_keeps_the_etcd_error(serve: Serve, etcd_url: str) -> None:
    sick = serve(_SICK, _SICK)
    async with etcdmap.aio.Client([sick.url, etcd_url]) as c:
        c.transport.pin(sick.url)
        with pytest.raises(KeyNotFound):
            await c.keys.get("/definitely/missing/key")
    async with etcdmap.aio.Client(sick.url) as c:
        with pytest.raises(ClusterError) as info:
            await c.keys.get("/foo")
    (endpoint, error), = info.value.errors
    assert endpoint == sick.url
    assert isinstance(error, ServerError)
    assert isinstance(error.etcd_error, RaftInternal)
    assert error.etcd_error.cause == "etcdserver: request timed out"


async def test_5xx_on_a_conditional_write_is_ambiguous(serve: Serve, etcd_url: str) -> None:
    sick = serve(_SICK)
    async with etcdmap.aio.Client([sick.url, etcd_url]) as c:
        c.transport.pin(sick.url)
        with pytest.raises(AmbiguousResultError, match="request timed out") as info:
            await c.keys.set("/k", "v", prev_value="old")
        assert info.value.status == 500
        assert c.transport.pinned == etcd_url  # the next call starts at the next member
    assert len(sick.requests) == 1


async def test_a_member_of_another_cluster_is_skipped(serve: Serve, etcd_url: str) -> None:
    alien = serve(ok(b'{"action":"get","node":{"key":"/x","value":"alien"}}',
                     b"X-Etcd-Cluster-Id: deadbeef\r\n"))
    async with etcdmap.aio.Client([alien.url, etcd_url]) as c:
        await c.transport.request("GET", "/v2/keys/", endpoint=etcd_url)  # learn the id
        assert c.transport.cluster_id not in (None, "deadbeef")
        c.transport.pin(alien.url)
        with pytest.raises(KeyNotFound):
            await c.keys.get("/definitely/missing/key")
        assert c.transport.pinned == etcd_url


# ---------------------------------------------------------------------- redirects


async def test_a_relative_redirect_keeps_method_body_and_auth(serve: Serve) -> None:
    srv = serve(_redirect("/v2/keys/moved"), _CREATED)
    async with etcdmap.aio.Client(srv.url, username="root", password="s3cret") as c:
        assert (await c.keys.create("/k", "v")).action == "create"
    assert [target.split(" ")[:2] for target in srv.targets] == \
        [["PUT", "/v2/keys/k?prevExist=false"], ["PUT", "/v2/keys/moved"]]
    assert all(b"Authorization: Basic cm9vdDpzM2NyZXQ=" in head for _, head, _ in srv.requests)
    assert srv.requests[1][2] == b"value=v"


async def test_a_cross_origin_redirect_drops_credentials_and_call_headers(serve: Serve) -> None:
    other = serve(ok(b"{}"))
    first = serve(_redirect(other.url.replace("127.0.0.1", "localhost") + "/x"))
    async with AsyncTransport(first.url, username="root", password="s3cret") as t:
        await t.request("POST", "/x", json={"a": 1}, headers={"X-Token": "t"})
    assert b"Authorization: Basic" in first.requests[0][1]
    assert b"X-Token: t" in first.requests[0][1]
    (_, head, body), = other.requests
    assert b"authorization" not in head.lower() and b"x-token" not in head.lower()
    assert json.loads(body) == {"a": 1}


@pytest.mark.parametrize("location", ["gopher://127.0.0.1:70/x", "file:///etc/passwd"])
async def test_a_redirect_that_is_not_http_is_refused(serve: Serve, location: str) -> None:
    srv = serve(_redirect(location))
    async with etcdmap.aio.Client(srv.url) as c:
        with pytest.raises(InvalidResponseError, match="only http"):
            await c.keys.get("/k")
    assert len(srv.requests) == 1


async def test_a_redirect_loop_stops(serve: Serve) -> None:
    srv = serve(*[_redirect("/again")] * 4)
    async with AsyncTransport(srv.url, max_redirects=2) as t:
        with pytest.raises(TooManyRedirectsError, match="more than 2 redirects"):
            await t.request("GET", "/start")
    assert len(srv.requests) == 3


# ---------------------------------------------------------------------- TLS, auth, debug


@pytest.fixture
def tls_peer(tls_files: TLSFiles) -> Iterator[ScriptedServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files.server_cert, tls_files.server_key)
    server = ScriptedServer([ok(b"secret"), ok(b"again")], context)
    yield server
    server.close()


async def test_tls_with_the_right_ca_and_basic_auth(
    tls_peer: ScriptedServer, tls_files: TLSFiles
) -> None:
    async with AsyncTransport(tls_peer.url, verify=tls_files.ca, username="u",
                              password="p") as t:
        assert (await t.request("GET", "/a")).body == b"secret"
        assert (await t.request("GET", "/b")).body == b"again"
    assert tls_peer.connections == 1
    assert b"Authorization: Basic dTpw" in tls_peer.requests[0][1]


async def test_tls_with_a_wrong_ca_is_never_sent(tls_peer: ScriptedServer) -> None:
    async with AsyncTransport(tls_peer.url, verify=True) as t:
        with pytest.raises(ClusterError) as info:
            await t.request("POST", "/x", idempotent=False)  # not ambiguous: never sent
    assert not info.value.maybe_applied
    assert isinstance(info.value.errors[0][1], ssl.SSLCertVerificationError)
    assert tls_peer.requests == []


async def test_unverified_tls_warns_like_requests(tls_peer: ScriptedServer) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with AsyncTransport(tls_peer.url, verify=False) as t:
            assert (await t.request("GET", "/a")).body == b"secret"
    assert [w.category for w in caught] == [InsecureRequestWarning]


def test_unreadable_tls_files_fail_at_construction(tmp_path: object) -> None:
    with pytest.raises(OSError):
        AsyncTransport("https://a:1", verify="/nonexistent/ca.pem")


def test_a_session_is_refused_and_options_are_checked() -> None:
    import requests  # noqa: PLC0415

    with pytest.raises(TypeError, match="session= is for the blocking clients"):
        etcdmap.aio.Client("http://a:1", session=requests.Session())
    with pytest.raises(TypeError, match=r"etcdmap.aio.Client\(\) got an unexpected keyword "
                                        r"argument 'timout' \(did you mean 'timeout'\?\)"):
        etcdmap.aio.Client("http://a:1", timout=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="request_timeout must be a positive number"):
        etcdmap.aio.v3.Client("http://a:1", request_timeout=0)


async def test_curl_debug_never_prints_the_password(
    etcd_url: str, etcd_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    enable_curl_debug()
    try:
        async with etcdmap.aio.Client(etcd_url, username="root", password="s3cret") as c:
            await c.keys.set(etcd_prefix + "/a b", "x&y")
            await c.keys.get(etcd_prefix + "/a b")
    finally:
        disable_curl_debug()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("cURL Command: curl -X PUT " + etcd_url + "/v2/keys/t-")
    assert "/a%20b " in lines[0] and lines[0].endswith(" -d value=x%26y")
    assert "-u 'root:***'" in lines[0]
    assert "s3cret" not in "".join(lines)
    assert lines[1].startswith("cURL Command: curl -X GET")


async def test_a_5xx_stream_fails_over_with_its_body_read(serve: Serve) -> None:
    sick, healthy = serve(_SICK), serve(ok(b'{"line": 1}\n'))
    async with AsyncTransport([sick.url, healthy.url], server_error=_wire.server_error) as t:
        t.pin(sick.url)
        async with await t.stream("/w", read_timeout=2.0) as s:
            assert [line async for line in s.iter_lines()] == [b'{"line": 1}']
        assert s.endpoint == healthy.url
