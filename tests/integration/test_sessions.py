"""Clients on users' sessions against a real etcd: custom auth, headers and hooks see every
request; environment proxies through a loopback relay; sent / never sent on requests' stock
``HTTPAdapter``."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from relay import Relay
from requests.auth import AuthBase

from etcdmap.errors import AmbiguousResultError, KeyNotFound
from etcdmap.http.session import default_session
from etcdmap.v2.client import Client


class Recording(AuthBase):
    """A custom auth that records every request it signs."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        self.paths.append(f"{r.method} {(r.path_url or '').split('?')[0]}")
        r.headers["X-Signed"] = "yes"
        return r


@pytest.mark.parametrize("make", [requests.Session, default_session], ids=["stock", "fast"])
def test_user_session_auth_headers_and_hooks_see_every_request(
    etcd_url: str, etcd_prefix: str, make: type[requests.Session]
) -> None:
    session = make()
    auth = Recording()
    session.auth = auth
    session.headers["X-Trace"] = "t-1"
    seen: list[tuple[int, str | None]] = []
    session.hooks["response"].append(
        lambda r, **_: seen.append((r.status_code, r.request.headers.get("X-Trace")))
    )
    with Client(etcd_url, session=session) as c:
        c.keys.set(etcd_prefix + "/a", "1")
        assert c.keys.get(etcd_prefix + "/a").node.value == "1"  # type: ignore[union-attr]
        assert c.members.list()
        assert c.version().server
        done = c.keys.set(etcd_prefix + "/a", "2").node
        assert done is not None
        w = c.keys.watcher(etcd_prefix + "/a", after_index=done.modified_index - 1)
        assert w.next(timeout=5).node.value == "2"  # type: ignore[union-attr]
        w.close()
    key = "/v2/keys" + etcd_prefix + "/a"
    assert auth.paths == [f"PUT {key}", f"GET {key}", "GET /v2/members", "GET /version",
                          f"PUT {key}", f"GET {key}"]
    assert len(seen) == len(auth.paths) and all(trace == "t-1" for _, trace in seen)


def test_explicit_username_replaces_the_session_auth(etcd_url: str, etcd_prefix: str) -> None:
    session = requests.Session()
    auth = Recording()
    session.auth = auth
    with Client(etcd_url, session=session, username="ü", password="p") as c:
        c.keys.set(etcd_prefix + "/a", "1")  # auth is off: the header is just ignored
    assert auth.paths == []


# ------------------------------------------------------------------ proxies from the environment


@pytest.fixture
def relay(etcd_url: str) -> Iterator[Relay]:
    proxy = Relay(etcd_url)
    yield proxy
    proxy.close()


def test_environment_proxy_is_used(
    etcd_url: str, etcd_prefix: str, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", relay.url)
    with Client(etcd_url) as c:
        c.keys.set(etcd_prefix + "/p", "v")
        assert c.keys.get(etcd_prefix + "/p").node.value == "v"  # type: ignore[union-attr]
    assert relay.first_lines[0].startswith(f"PUT {etcd_url}/v2/keys".encode())  # absolute form
    assert len(relay.first_lines) == 2
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with Client(etcd_url) as c:
        c.keys.get(etcd_prefix + "/p")
    assert len(relay.first_lines) == 2  # bypassed


# ------------------------------------------------------------------ sent / never sent, stock


@pytest.fixture
def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def black_hole() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_stock_adapter_refused_is_never_sent(
    refused_url: str, etcd_url: str, etcd_prefix: str
) -> None:
    with Client([refused_url, etcd_url], session=requests.Session()) as c:
        c.transport.pin(refused_url)
        assert c.keys.create(etcd_prefix + "/once", "v").action == "create"


def test_stock_adapter_read_timeout_is_sent(
    black_hole: str, etcd_url: str, etcd_prefix: str
) -> None:
    with Client([black_hole, etcd_url], session=requests.Session(), request_timeout=0.5) as c:
        c.transport.pin(black_hole)
        with pytest.raises(AmbiguousResultError):
            c.keys.create_in_order(etcd_prefix + "/q", "job")
        with pytest.raises(KeyNotFound):
            c.keys.get(etcd_prefix + "/q")
