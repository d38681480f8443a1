"""Auth end to end against a real etcd: users, roles, permissions, enable/disable, secrecy.

These tests switch auth on, so they use their own server (never the shared ``etcd_server``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from etcdmap.errors import (
    AuthAlreadyExists,
    AuthError,
    InsufficientCredentials,
    RoleExists,
    RoleNotFound,
    Unauthorized,
    UserExists,
    UserNotFound,
)
from etcdmap.http.transport import disable_curl_debug, enable_curl_debug
from etcdmap.models import Permission
from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client
from etcdmap.v2.models import Response, Role, User

ROOT_PW = "r00t-Pw-9f3a"
ALICE_PW = "alice-Pw-71c2"
NEW_PW = "alice-New-Pw-5d0e"


def _value(response: Response) -> str | None:
    assert response.node is not None
    return response.node.value


@pytest.fixture(scope="module")
def auth_server() -> Iterator[EtcdServer]:
    with EtcdServer() as server:
        yield server


@pytest.fixture
def admin(auth_server: EtcdServer) -> Iterator[Client]:
    with Client(auth_server.client_url) as client:
        yield client


def test_users_and_roles_crud_and_errors(admin: Client) -> None:
    assert admin.auth.enabled() is False
    assert admin.roles.add("crud-r") == Role("crud-r")
    with pytest.raises(RoleExists, match="already exists"):
        admin.roles.add("crud-r")
    role = admin.roles.grant_kv("crud-r", ["/a/*", "/b"], Permission.READ_WRITE)
    assert role == Role("crud-r", ("/a/*", "/b"), ("/a/*", "/b"))
    with pytest.raises(AuthAlreadyExists, match="duplicate"):
        admin.roles.grant_kv("crud-r", "/b", Permission.READ)
    assert admin.roles.revoke_kv("crud-r", "/b", Permission.WRITE).write == ("/a/*",)
    with pytest.raises(AuthError, match="not updated") as info:
        admin.roles.revoke_kv("crud-r", "/never", Permission.READ)
    assert info.value.status == 400
    assert admin.roles.get("crud-r") == Role("crud-r", ("/a/*", "/b"), ("/a/*",))

    created = admin.users.add("crud-u", "pw1")
    assert created == User("crud-u")
    with pytest.raises(UserExists):
        admin.users.add("crud-u", "other")  # must not silently change the password
    with pytest.raises(UserExists):
        admin.users.add("crud-u", "other", roles=["crud-r"])
    assert admin.users.grant("crud-u", ["crud-r"]) == User("crud-u", ("crud-r",))
    with pytest.raises(AuthAlreadyExists, match="duplicate"):
        admin.users.grant("crud-u", "crud-r")
    with pytest.raises(RoleNotFound):
        admin.users.grant("crud-u", ["no-such-role"])  # etcd itself would accept it
    assert admin.users.get("crud-u") == User("crud-u", ("crud-r",))  # clean names, no ""
    assert "crud-u" in admin.users.list()
    assert "crud-r" in admin.roles.list() and "root" in admin.roles.list()
    assert admin.users.revoke("crud-u", "crud-r").roles == ()
    with pytest.raises(AuthError) as ungranted:
        admin.users.revoke("crud-u", "crud-r")
    assert ungranted.value.status == 409

    # Every "not found" spelling of etcd maps to the right class.
    for call in (
        lambda: admin.users.get("ghost"),
        lambda: admin.users.remove("ghost"),
        lambda: admin.users.grant("ghost", "crud-r"),
        lambda: admin.users.revoke("ghost", "crud-r"),
        lambda: admin.users.change_password("ghost", "pw"),
    ):
        with pytest.raises(UserNotFound):
            call()
    for role_call in (
        lambda: admin.roles.get("ghost"),
        lambda: admin.roles.remove("ghost"),
        lambda: admin.roles.grant_kv("ghost", "/x", Permission.READ),
    ):
        with pytest.raises(RoleNotFound):
            role_call()
    assert "ghost" not in admin.users.list()  # change_password did not create it

    admin.users.remove("crud-u")
    admin.roles.remove("crud-r")
    assert "crud-u" not in admin.users.list()
    with pytest.raises(RoleNotFound):
        admin.roles.get("crud-r")


def test_enable_needs_a_root_user(admin: Client) -> None:
    if "root" in admin.users.list():
        pytest.skip("root exists already")
    with pytest.raises(AuthError, match="root") as info:
        admin.auth.enable()
    assert not isinstance(info.value, AuthAlreadyExists)
    assert admin.auth.enabled() is False
    with pytest.raises(ValueError, match="password"):
        admin.users.add("root", "")


def test_auth_end_to_end(
    auth_server: EtcdServer,
    admin: Client,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = auth_server.client_url
    caplog.set_level(logging.DEBUG)
    enable_curl_debug()
    root = Client(url, username="root", password=ROOT_PW)
    alice = Client(url, username="alice", password=ALICE_PW)
    wrong = Client(url, username="alice", password="not-the-password")
    try:
        admin.keys.set("/app/x", "1")
        admin.keys.set("/other", "2")
        admin.users.add("root", ROOT_PW)
        admin.auth.enable()
        assert admin.auth.enabled() is True
        with pytest.raises(AuthAlreadyExists):
            root.auth.enable()
        with pytest.raises(InsufficientCredentials):
            admin.users.list()  # management needs root now

        root.roles.add("app-reader")
        assert root.roles.grant_kv("app-reader", ["/app/*"], Permission.READ) == Role(
            "app-reader", ("/app/*",), ()
        )
        assert root.users.add("alice", ALICE_PW, roles=["app-reader"]) == User(
            "alice", ("app-reader",)
        )
        assert root.users.get("alice") == User("alice", ("app-reader",))
        assert root.users.list() == ["alice", "root"]
        assert "guest" in root.roles.list()  # created by enable()
        with pytest.raises(AuthError) as root_delete:
            root.users.remove("root")
        assert root_delete.value.status == 403

        assert _value(alice.keys.get("/app/x")) == "1"
        with pytest.raises(Unauthorized):
            alice.keys.set("/app/x", "changed")
        with pytest.raises(Unauthorized):
            alice.keys.get("/other")
        with pytest.raises(Unauthorized):
            wrong.keys.get("/app/x")
        with pytest.raises(InsufficientCredentials):
            alice.members.add("http://127.0.0.1:1")  # member writes need root

        # The guest role still grants anonymous access until it is revoked.
        assert _value(admin.keys.get("/other")) == "2"
        root.roles.revoke_kv("guest", ["/*"], Permission.READ_WRITE)
        with pytest.raises(Unauthorized):
            admin.keys.get("/app/x")

        root.users.change_password("alice", NEW_PW)
        with pytest.raises(Unauthorized):
            alice.keys.get("/app/x")
        with Client(url, username="alice", password=NEW_PW) as renewed:
            assert _value(renewed.keys.get("/app/x")) == "1"

        root.auth.disable()
        assert admin.auth.enabled() is False
        assert _value(admin.keys.get("/other")) == "2"
        assert _value(alice.keys.get("/other")) == "2"
    finally:
        disable_curl_debug()
        if admin.auth.enabled():
            root.auth.disable()
        texts = [repr(root), repr(alice), repr(root.transport), str(root.__dict__)]
        for client in (root, alice, wrong):
            client.close()
    captured = capsys.readouterr()
    assert "cURL Command" in captured.err  # the debug output was on
    assert '"password":"***"' in captured.err  # bodies are printed (compact JSON), passwords masked
    for secret in (ROOT_PW, ALICE_PW, NEW_PW):
        assert secret not in captured.err
        assert secret not in captured.out
        assert secret not in caplog.text
        assert all(secret not in text for text in texts)


def test_user_holding_a_deleted_role(admin: Client) -> None:
    admin.roles.add("doomed")
    admin.users.add("holder", "pw", roles=["doomed"])
    admin.roles.remove("doomed")
    # etcd cannot read such a user any more; the error names the role, not the user.
    with pytest.raises(RoleNotFound, match="doomed"):
        admin.users.get("holder")
    assert "holder" in admin.users.list()
    admin.users.remove("holder")
