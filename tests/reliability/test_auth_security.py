"""Auth as a security boundary, on a dedicated etcd with v2 auth on and the guest role revoked.

What it proves: every keys, watch, auth and membership call without credentials is refused
(``Unauthorized``/``AuthError``); a user limited to ``/app/*`` cannot read, write or watch
outside it, neither through a recursive watch, a mirror nor ``to_dict()`` of a parent; the
credentials never appear in logs, reprs, exceptions or the cURL debug output.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from etcdmap.errors import AuthError, ClusterError, EtcdMapError, Unauthorized
from etcdmap.http.transport import disable_curl_debug, enable_curl_debug
from etcdmap.mapping.emap import EtcdMap
from etcdmap.models import Permission
from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client

ROOT_PW = "Root-S3cret-q8w7"
ALICE_PW = "Alice-S3cret-z1x2"
WRONG_PW = "Wrong-S3cret-m5n6"
SECRETS = [ROOT_PW, ALICE_PW, WRONG_PW] + [
    base64.b64encode(f"{user}:{pw}".encode()).decode()
    for user, pw in (("root", ROOT_PW), ("alice", ALICE_PW), ("alice", WRONG_PW))
]


@pytest.fixture(scope="module")
def server() -> Iterator[EtcdServer]:
    with EtcdServer() as srv:
        with Client(srv.client_url, timeout=5.0) as setup:
            setup.keys.set("/app/x", "app-value")
            setup.keys.set("/secret/y", "top-secret")
            setup.keys.set("/apple", "not-app")  # a sibling sharing the "/app" prefix
            setup.users.add("root", ROOT_PW)
            setup.roles.add("app")
            setup.roles.grant_kv("app", "/app/*", Permission.READ_WRITE)
            setup.users.add("alice", ALICE_PW, roles=["app"])
            setup.auth.enable()
        with Client(srv.client_url, username="root", password=ROOT_PW, timeout=5.0) as root:
            root.roles.revoke_kv("guest", "/*", Permission.READ_WRITE)
        yield srv


def _client(server: EtcdServer, user: str | None = None, password: str | None = None) -> Client:
    return Client(server.client_url, username=user, password=password, timeout=5.0)


def _refused(call: Callable[[], Any], errors: tuple[type[BaseException], ...]) -> BaseException:
    with pytest.raises(errors) as info:
        call()
    return info.value


def test_anonymous_is_refused_everywhere(server: EtcdServer) -> None:
    with _client(server) as anon:
        root_map, app_map = EtcdMap(anon, "/"), EtcdMap(anon, "/app")
        keys_calls: list[Callable[[], Any]] = [
            lambda: anon.keys.get("/app/x"),
            lambda: anon.keys.get("/", recursive=True),
            lambda: anon.keys.set("/app/x", "hacked"),
            lambda: anon.keys.create("/new", "v"),
            lambda: anon.keys.create_in_order("/queue", "v"),
            lambda: anon.keys.delete("/app/x"),
            lambda: anon.keys.delete("/", recursive=True, dir=True),
            lambda: anon.keys.watcher("/app/x").next(timeout=3.0),
            lambda: anon.keys.watcher("/", recursive=True).next(timeout=3.0),
            lambda: app_map["x"],
            root_map.to_dict,
            lambda: len(root_map),
            lambda: app_map.__setitem__("x", "hacked"),
            lambda: app_map.append("v"),
            app_map.watch,
            app_map.mirror,
        ]
        for call in keys_calls:
            err = _refused(call, (Unauthorized,))
            assert isinstance(err, AuthError)
        admin_calls: list[Callable[[], Any]] = [
            anon.users.list,
            lambda: anon.users.add("mallory", "pw"),
            anon.roles.list,
            lambda: anon.roles.grant_kv("app", "/*", Permission.READ_WRITE),
            anon.auth.disable,
            lambda: anon.members.add("http://127.0.0.1:1"),
        ]
        for call in admin_calls:
            _refused(call, (AuthError,))
        assert anon.auth.enabled() is True  # the one call that needs no credentials
    with _client(server, "root", ROOT_PW) as root:
        assert root.keys.get("/app/x").node.value == "app-value"  # type: ignore[union-attr]
        assert "mallory" not in root.users.list()
        assert root.roles.get("app").read == ("/app/*",)


def test_user_limited_to_app_cannot_escape(server: EtcdServer) -> None:
    with _client(server, "alice", ALICE_PW) as alice:
        app = EtcdMap(alice, "/app")
        assert app["x"] == "app-value"
        app["mine"] = "ok"
        assert app["mine"] == "ok"
        escapes: list[Callable[[], Any]] = [
            lambda: alice.keys.get("/secret/y"),
            lambda: alice.keys.get("/apple"),
            lambda: alice.keys.set("/secret/y", "hacked"),
            lambda: alice.keys.get("/", recursive=True),
            lambda: alice.keys.get("/app", recursive=True),  # "/app/*" does not cover "/app"
            lambda: alice.keys.delete("/secret", recursive=True),
            lambda: alice.keys.watcher("/secret/y").next(timeout=3.0),
            lambda: alice.keys.watcher("/", recursive=True).next(timeout=3.0),
            lambda: EtcdMap(alice, "/").to_dict(),
            lambda: EtcdMap(alice, "/secret")["y"],
            lambda: EtcdMap(alice, "/")["secret"],
            lambda: EtcdMap(alice, "/").watch(),
            lambda: EtcdMap(alice, "/").mirror(),
            alice.users.list,
            alice.auth.disable,
        ]
        for call in escapes:
            _refused(call, (Unauthorized, AuthError))
        _refused(lambda: EtcdMap(alice, "/app/../secret"), (ValueError,))  # no ".." escape
    with _client(server, "root", ROOT_PW) as root:
        assert root.keys.get("/secret/y").node.value == "top-secret"  # type: ignore[union-attr]
        root.keys.delete("/app/mine")


def test_wrong_password_is_refused(server: EtcdServer) -> None:
    with _client(server, "alice", WRONG_PW) as mallory:
        err = _refused(lambda: mallory.keys.get("/app/x"), (Unauthorized,))
        assert WRONG_PW not in str(err) and WRONG_PW not in repr(err)


def test_credentials_never_leak(
    server: EtcdServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []

    def collect(obj: object) -> None:
        seen.extend([str(obj), repr(obj)])
        if isinstance(obj, BaseException):
            seen.extend(repr(a) for a in obj.args)
            for _, err in getattr(obj, "errors", ()):
                seen.extend([str(err), repr(err)])
            if obj.__cause__ is not None:
                collect(obj.__cause__)

    caplog.set_level(logging.DEBUG)
    enable_curl_debug()
    try:
        for user, pw in (("alice", ALICE_PW), ("alice", WRONG_PW), ("root", ROOT_PW)):
            with _client(server, user, pw) as c:
                collect(c)
                collect(c.transport)
                emap = EtcdMap(c, "/app")
                collect(emap)
                for call in (
                    lambda emap=emap: emap["x"],
                    lambda emap=emap: emap.__setitem__("leak", "v"),
                    EtcdMap(c, "/").to_dict,
                    lambda: c.keys.watcher("/secret/y").next(timeout=2.0),
                    c.users.list,
                    c.sync,
                ):
                    try:
                        collect(call())
                    except EtcdMapError as exc:
                        collect(exc)
                with c.auto_sync(0.05) as handle:
                    collect(handle)
        with _client(server, "root", ROOT_PW) as root:
            root.users.add("temp", ALICE_PW)
            root.users.change_password("temp", WRONG_PW)
            root.users.remove("temp")
            collect(root.users.list())
        dead = Client("http://127.0.0.1:9", username="alice", password=ALICE_PW, timeout=2.0)
        try:
            dead.keys.get("/app/x")
        except ClusterError as exc:
            collect(exc)
        dead.close()
    finally:
        disable_curl_debug()
    out, err = capfd.readouterr()
    assert "curl" in err, "cURL debug printed nothing: the capture is not working"
    seen.extend([out, err, caplog.text])
    seen.extend(record.getMessage() for record in caplog.records)
    blob = "\n".join(seen)
    for secret in SECRETS:
        assert secret not in blob, f"a credential leaked: {secret[:4]}..."
    assert "alice" in blob  # the user name may appear; the capture did see things
