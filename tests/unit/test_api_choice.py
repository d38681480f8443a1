"""The API choice without etcd: the rule by server version, the probe against endpoints that
are not etcd (scripted loopback peers), and ``connect``'s option checks (before any request),
all through ``etcdmap.connect`` (what the probe asked and which backend the map got)."""

from __future__ import annotations

import socket
import time

import pytest
from scripted import ScriptedServer, ok

import etcdmap
from etcdmap.errors import ClusterError, DeadlineExceeded, InvalidResponseError
from tests.unit.conftest import Serve


def version_answer(server: str) -> bytes:
    return ok(b'{"etcdserver":"%s","etcdcluster":"3.0.0"}' % server.encode())


V3_HAS_KEYS = ok(b'{"header":{"revision":"2"},"succeeded":true,'
                 b'"responses":[{"response_range":{"header":{"revision":"2"},"count":"1"}}]}')
"""The answer to ``auto``'s advisory look for keys on v3 after it chose v3 (keys there: no
look at v2)."""


def request_lines(srv: ScriptedServer) -> list[bytes]:
    return [head.split(b"\r\n")[0] for _, head, _ in srv.requests]


@pytest.mark.parametrize(
    ("server", "api"),
    [("2.3.8", "v2"), ("3.0.17", "v2"), ("3.3.27", "v2"), ("3.4.0", "v3"), ("3.4.23", "v3"),
     ("3.5.1", "v3"), ("3.6.0", "v3"), ("4.0.0-alpha", "v3"), ("2.0.12", "v2")],
)
def test_v3_wherever_the_server_serves_it(serve: Serve, server: str, api: str) -> None:
    srv = serve(version_answer(server), V3_HAS_KEYS)
    with etcdmap.connect(srv.url, "/x") as m:
        assert m.backend.name == api
    looked = [b"POST /v3/kv/txn HTTP/1.1"] if api == "v3" else []
    assert request_lines(srv) == [b"GET /version HTTP/1.1", *looked]


@pytest.mark.parametrize("server", ["", "latest", "not_decided"])
@pytest.mark.parametrize("api", ["auto", "v3"])
def test_a_version_that_is_no_version_is_refused(serve: Serve, server: str, api: str) -> None:
    srv = serve(version_answer(server))
    with pytest.raises(InvalidResponseError, match="not etcd's"):
        etcdmap.connect(srv.url, "/x", api=api)  # type: ignore[arg-type]


def test_one_probe_per_connect_decides(serve: Serve) -> None:
    srv = serve(version_answer("3.5.1"), V3_HAS_KEYS, version_answer("3.3.0"))
    with etcdmap.connect(srv.url, "/x") as m3, etcdmap.connect(srv.url, "/x") as m2:
        assert (m3.backend.name, m2.backend.name) == ("v3", "v2")
    assert request_lines(srv) == [
        b"GET /version HTTP/1.1", b"POST /v3/kv/txn HTTP/1.1", b"GET /version HTTP/1.1"]


def test_auto_on_an_old_etcd_is_v2_and_v3_refuses_it(serve: Serve) -> None:
    srv = serve(version_answer("3.3.0"), version_answer("3.3.0"))
    with etcdmap.connect(srv.url, "/x") as m:
        assert m.backend.name == "v2"
    assert len(srv.requests) == 1  # the probe only: a map reads nothing before it is used
    with pytest.raises(InvalidResponseError, match=r"etcd 3\.3\.0 has no /v3/ gateway.*api='v2'"):
        etcdmap.connect(srv.url, "/x", api="v3")


NOT_ETCD = (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 22\r\n\r\n"
            b"<html>not found</html>")


@pytest.mark.parametrize("api", ["auto", "v3"])
def test_an_endpoint_that_is_not_etcd_is_named(serve: Serve, api: str) -> None:
    srv = serve(NOT_ETCD)
    with pytest.raises(InvalidResponseError, match=r"/version answered HTTP 404.*etcd client URL"):
        etcdmap.connect(srv.url, "/x", api=api)  # type: ignore[arg-type]


def test_v3_proves_etcd(serve: Serve) -> None:
    srv = serve(ok(b"hello"))
    with pytest.raises(InvalidResponseError, match="probably not"):
        etcdmap.connect(srv.url, "/x", api="v3")


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("api", ["auto", "v2", "v3"])
def test_every_api_checks_reachability_at_connect(api: str) -> None:
    url = closed_port()
    start = time.monotonic()
    with pytest.raises((ClusterError, DeadlineExceeded)):
        etcdmap.connect(url, "/x", api=api, timeout=2)  # type: ignore[arg-type]
    assert time.monotonic() - start < 2.5


@pytest.mark.parametrize("api", ["auto", "v2", "v3"])
def test_a_misspelt_option_is_a_type_error_naming_it(api: str) -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'timout'; did you mean "
                                        r"'timeout'\?"):
        etcdmap.connect(closed_port(), "/x", api=api, timout=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'$"):
        etcdmap.connect(closed_port(), "/x", api=api, colour=3)  # type: ignore[arg-type]


def test_a_v2_only_option_on_v3_is_a_type_error(serve: Serve) -> None:
    with pytest.raises(TypeError, match=r"selection=, an option of the v2 client only.*api='v3'"):
        etcdmap.connect(closed_port(), "/x", api="v3", selection=etcdmap.Selection.RANDOM)
    srv = serve(version_answer("3.5.1"))
    with pytest.raises(TypeError, match=r"selection=.*api='auto' chose v3.*api='v2'"):
        etcdmap.connect(srv.url, "/x", selection=etcdmap.Selection.RANDOM)
    old = serve(version_answer("3.3.0"))
    with etcdmap.connect(old.url, "/x", selection=etcdmap.Selection.PRIORITIZE_LEADER) as m:
        assert m.client.selection is etcdmap.Selection.PRIORITIZE_LEADER  # v2: taken


def test_bad_input_fails_before_any_request(serve: Serve) -> None:
    srv = serve(version_answer("3.5.1"))
    with pytest.raises(ValueError, match="api must be one of"):
        etcdmap.connect(srv.url, "/x", api="v4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown codec"):
        etcdmap.connect(srv.url, "/x", codec="yaml")
    with pytest.raises(ValueError):  # noqa: PT011 - the path's own message
        etcdmap.connect(srv.url, "/a/../b")
    with pytest.raises(ValueError, match="has a path"):
        etcdmap.connect(f"{srv.url}/v2/keys", "/x")
    assert srv.requests == []
