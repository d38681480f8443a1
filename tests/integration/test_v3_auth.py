"""etcdmap.v3 token authentication against a real etcd 3.5 with auth enabled (a server of
this module's own, token TTL 1 s): users, roles, permissions, wrong password, token refresh."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from etcdmap.errors import (
    AuthError,
    EtcdError,
    InsufficientCredentials,
    InvalidResponseError,
    RoleNotFound,
    Unauthorized,
    UserNotFound,
)
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client, Compare, Op
from etcdmap.v3 import errors as e

ROOT_PW = "root-pw"
ALICE_PW = "alice-pw"


@pytest.fixture(scope="module")
def secured() -> Iterator[EtcdServer]:
    """A v3-only server with root, a role ``app`` (read-write on ``app/``, read on ``shared``),
    a user ``alice`` holding it, and auth enabled."""
    with EtcdServer(enable_v2=False, extra_args=["--auth-token-ttl=1"]) as server:
        with Client(server.client_url) as admin:
            with pytest.raises(e.RootUserMissing):
                admin.auth.enable()
            admin.auth.user_add("root", ROOT_PW)
            with pytest.raises(e.RootRoleMissing):
                admin.auth.enable()
            admin.auth.user_grant_role("root", "root")
            admin.auth.role_add("app")
            admin.auth.role_grant_permission("app", "READWRITE", "app/", prefix=True)
            admin.auth.role_grant_permission("app", "READ", "shared")
            admin.auth.user_add("alice", ALICE_PW)
            admin.auth.user_grant_role("alice", "app")
            admin.kv.put("shared", "s")
            admin.auth.enable()
        yield server


@pytest.fixture
def root(secured: EtcdServer) -> Iterator[Client]:
    with Client(secured.client_url, username="root", password=ROOT_PW) as c:
        yield c


@pytest.fixture
def alice(secured: EtcdServer) -> Iterator[Client]:
    with Client(secured.client_url, username="alice", password=ALICE_PW) as c:
        yield c


def _needs_auth_status(client: Client) -> None:
    """``/v3/auth/status`` is new in etcd 3.5 (3.4 answers 404)."""
    if client.maintenance.status().version.startswith("3.4."):
        pytest.skip("etcd 3.4 has no /v3/auth/status")


def test_auth_status_on_34_says_what_is_missing(root: Client) -> None:
    if not root.maintenance.status().version.startswith("3.4."):
        pytest.skip("etcd 3.5 has /v3/auth/status")
    with pytest.raises(InvalidResponseError, match=r"/v3/auth/status is new in etcd 3\.5"):
        root.auth.status()


def test_users_roles_and_permissions_read_back(root: Client) -> None:
    _needs_auth_status(root)
    assert root.auth.status().enabled
    assert set(root.auth.user_list()) >= {"root", "alice"}
    assert root.auth.user_get("alice") == ["app"]
    assert "app" in root.auth.role_list()
    perms = {(p.perm_type, p.key, p.range_end) for p in root.auth.role_get("app")}
    assert perms == {("READWRITE", b"app/", b"app0"), ("READ", b"shared", b"")}
    with pytest.raises(e.UserExistsV3) as info:
        root.auth.user_add("alice", "x")
    assert isinstance(info.value, AuthError)


def test_missing_users_and_roles_are_the_v2_classes(root: Client) -> None:
    with pytest.raises(UserNotFound):
        root.auth.user_get("nobody-here")
    with pytest.raises(UserNotFound):
        root.auth.user_remove("nobody-here")
    with pytest.raises(RoleNotFound) as info:
        root.auth.role_get("no-such-role")
    assert isinstance(info.value, EtcdError) and info.value.grpc_code == 9
    with pytest.raises(RoleNotFound):
        root.auth.role_remove("no-such-role")


def test_a_user_works_inside_its_grants_and_is_denied_outside(alice: Client) -> None:
    alice.kv.put("app/k", "v")
    assert alice.kv.get("app/k") == b"v"
    assert alice.kv.get("shared") == b"s"
    with pytest.raises(e.PermissionDenied) as info:
        alice.kv.put("shared", "no")
    assert isinstance(info.value, AuthError) and info.value.status == 403
    assert isinstance(info.value, Unauthorized)  # v2's name for a refused request
    with pytest.raises(e.PermissionDenied):
        alice.kv.range("\0", range_end="\0")  # every key: denied as a whole, not filtered
    with pytest.raises(e.PermissionDenied):  # one op outside the grants denies the txn
        alice.kv.txn([Compare.version("app/k", ">", 0)], [Op.put("other", "x")])
    with pytest.raises(e.PermissionDenied):
        alice.auth.user_list()


def test_watch_outside_the_grants_is_permission_denied(alice: Client) -> None:
    with pytest.raises(e.PermissionDenied):
        next(iter(alice.watch("secret/", prefix=True, read_timeout=5)))


def test_wrong_password_and_no_credentials_are_clear_errors(secured: EtcdServer) -> None:
    with Client(secured.client_url, username="alice", password="wrong") as bad:
        with pytest.raises(e.AuthenticationFailed, match="invalid user ID or password") as info:
            bad.kv.get("app/k")
        assert isinstance(info.value, InsufficientCredentials)
    with Client(secured.client_url, username="nobody", password="x") as unknown, \
            pytest.raises(e.AuthenticationFailed):
        unknown.kv.get("app/k")
    with Client(secured.client_url) as anonymous:
        with pytest.raises(e.NoCredentials, match="user name is empty"):
            anonymous.kv.get("app/k")
        if not anonymous.maintenance.status().version.startswith("3.4."):
            with pytest.raises(e.NoCredentials):
                anonymous.auth.status()


def test_an_invalidated_token_is_refreshed_once(alice: Client, root: Client) -> None:
    first = alice.auth.authenticate()
    assert first and alice.auth.token == first
    root.auth.disable()  # drops every simple token: alice's is now invalid
    root.auth.enable()
    alice.kv.put("app/refresh", "ok")  # 401 invalid auth token -> re-authenticate -> retry
    assert alice.auth.token not in (None, first)
    assert alice.kv.get("app/refresh") == b"ok"


def test_an_expired_token_is_refreshed(alice: Client) -> None:
    alice.kv.put("app/expiry", "1")
    token = alice.auth.token
    assert token
    threading.Event().wait(2.5)  # the server's --auth-token-ttl is 1 s (sliding)
    alice.kv.put("app/expiry", "2")  # no error: re-authenticated transparently
    assert alice.auth.token != token
    assert alice.kv.get("app/expiry") == b"2"


def test_auth_disable_then_enable(secured: EtcdServer, root: Client) -> None:
    _needs_auth_status(root)
    with Client(secured.client_url, username="alice", password=ALICE_PW) as a:
        a.kv.put("app/k", "v")  # holds a token now
        assert a.auth.token
        root.auth.disable()
        try:
            # the old token now gets 401; the client re-authenticates, learns auth is off
            # and goes on without a token
            assert a.kv.put("app/off", "x").header.revision > 0
            assert a.auth.token is None
            assert not root.auth.status().enabled
        finally:
            root.auth.enable()
        # auth is on again: "user name is empty" -> authenticate -> retry
        assert a.kv.get("app/off") == b"x"
        assert a.auth.token
