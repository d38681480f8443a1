"""Pure auth logic: user/role JSON (names and role objects), grant bodies, error mapping."""

from __future__ import annotations

import json

import pytest

from etcdmap.errors import (
    AuthAlreadyExists,
    AuthError,
    AuthNotFound,
    InsufficientCredentials,
    InvalidResponseError,
    RoleExists,
    RoleNotFound,
    UserExists,
    UserNotFound,
)
from etcdmap.models import Permission
from etcdmap.v2.auth_wire import auth_error, parse_role, parse_user, permission_body
from etcdmap.v2.models import Role, User

R1 = {"role": "r1", "permissions": {"kv": {"read": ["/app/*"], "write": None}}}
R2 = {"role": "r2", "permissions": {"kv": {"read": [], "write": ["/w"]}}}


def test_user_with_role_objects_gives_clean_names() -> None:
    # GET /v2/auth/users/u sends full role objects; the Go client returns ["", "", "r1", "r2"].
    user = parse_user({"user": "u2", "roles": [R1, R2]})
    assert user == User("u2", ("r1", "r2"))
    assert "" not in user.roles


def test_user_with_role_names_or_null() -> None:
    assert parse_user({"user": "u", "roles": ["r1"]}) == User("u", ("r1",))
    assert parse_user({"user": "u", "roles": None}) == User("u")
    assert parse_user({"user": "u"}).roles == ()


@pytest.mark.parametrize(
    "bad", [None, [], {"roles": []}, {"user": "u", "roles": "r1"}, {"user": "u", "roles": [3]}]
)
def test_parse_user_rejects_garbage(bad: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_user(bad)


def test_parse_role_with_null_and_lists() -> None:
    assert parse_role(R1) == Role("r1", ("/app/*",), ())
    assert parse_role(R2) == Role("r2", (), ("/w",))
    fresh = {"role": "r", "permissions": {"kv": {"read": None, "write": None}}}
    assert parse_role(fresh) == Role("r")
    assert parse_role({"role": "r"}) == Role("r")
    with pytest.raises(InvalidResponseError):
        parse_role({"name": "r"})


def test_permission_bodies() -> None:
    assert permission_body(["/a/*"], Permission.READ) == {"kv": {"read": ["/a/*"], "write": None}}
    assert permission_body("/a", Permission.WRITE) == {"kv": {"read": None, "write": ["/a"]}}
    assert permission_body(("/a", "/b"), Permission.READ_WRITE) == {
        "kv": {"read": ["/a", "/b"], "write": ["/a", "/b"]}
    }
    with pytest.raises(ValueError, match="pattern"):
        permission_body([], Permission.READ)
    with pytest.raises(TypeError, match="Permission"):
        permission_body(["/a"], "read")  # type: ignore[arg-type]


def _body(message: str) -> bytes:
    return json.dumps({"message": message}).encode()


@pytest.mark.parametrize(
    ("status", "message", "subject", "cls"),
    [
        # Every spelling etcd uses for "not found" (etcd-io/etcd
        # release-3.5:server/etcdserver/api/v2auth/auth.go; the Go client misses some of them).
        (404, "auth: User u does not exist.", "user", UserNotFound),
        (404, "auth: User u does not exist", "user", UserNotFound),
        (404, "auth: User u doesn't exist.", "user", UserNotFound),
        (404, "auth: Role r does not exist.", "role", RoleNotFound),
        (404, "auth: Role r doesn't exist.", "role", RoleNotFound),
        # GET of a user holding a deleted role: the message is about the role.
        (404, "auth: Role ghost does not exist.", "user", RoleNotFound),
        (409, "auth: User u already exists.", "user", UserExists),
        (409, "auth: Role r already exists.", "role", RoleExists),
        (409, "auth: Granting duplicate role r for user u", "user", AuthAlreadyExists),
        (409, "auth: Granting duplicate read permission /a", "role", AuthAlreadyExists),
        (409, "auth: already enabled", "auth", AuthAlreadyExists),
        (409, "auth: No root user available, please create one", "auth", AuthError),
        (409, "auth: Revoking ungranted role r for user u", "user", AuthError),
        (401, "Insufficient credentials", "user", InsufficientCredentials),
        (403, "auth: Cannot delete root user while auth is enabled.", "user", AuthError),
        (400, "auth: Role not updated. Use grant/revoke to update the role.", "role", AuthError),
    ],
)
def test_auth_errors(status: int, message: str, subject: str, cls: type[AuthError]) -> None:
    err = auth_error(status, _body(message), subject)  # type: ignore[arg-type]
    assert type(err) is cls
    assert err.message == message and err.status == status
    assert message in str(err)


def test_not_found_errors_share_a_base() -> None:
    for message in ("auth: User u does not exist", "auth: Role r doesn't exist."):
        assert isinstance(auth_error(404, _body(message), "auth"), AuthNotFound)


def test_subject_decides_when_the_message_does_not() -> None:
    assert type(auth_error(404, b"404 page not found", "user")) is UserNotFound
    assert type(auth_error(404, b"404 page not found", "role")) is RoleNotFound
    assert type(auth_error(404, b"404 page not found", "auth")) is AuthError
