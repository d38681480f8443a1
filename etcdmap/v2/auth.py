"""The auth API (``/v2/auth``): switch auth on and off, manage users and roles.

Three small objects hang off the client: ``client.auth`` (:class:`AuthAPI`), ``client.users``
(:class:`UsersAPI`) and ``client.roles`` (:class:`RolesAPI`). They are thread-safe: they keep no
state besides the (thread-safe) transport.

Where etcdmap differs from the Go client (etcd-io/etcd release-3.5:client/v2/auth_user.go,
auth_role.go), deliberately:

- :meth:`UsersAPI.get` returns clean role names (etcd sends full role objects; the Go client
  returns ``["", "r1"]``).
- Every ``{"message": ...}`` answer maps to a specific :class:`~etcdmap.errors.AuthError`
  subclass: :class:`~etcdmap.errors.UserNotFound` / :class:`~etcdmap.errors.RoleNotFound` for
  all of etcd's "does not exist" / "doesn't exist" spellings, :class:`~etcdmap.errors.UserExists`
  / :class:`~etcdmap.errors.RoleExists`, :class:`~etcdmap.errors.InsufficientCredentials` (401).
- etcd's ``PUT /v2/auth/users/<name>`` with only a password *creates or updates*. So
  :meth:`UsersAPI.add` refuses to overwrite an existing user and
  :meth:`UsersAPI.change_password` refuses to create a missing one; both check with a GET first.
  The check and the write are two requests: a concurrent add/remove of the same user in between
  can still win (the result is then reported as an error, see the methods).
- etcd does not check that granted roles exist, and a user holding a missing role can no
  longer be read (404 "Role ... does not exist"); :meth:`UsersAPI.add` and
  :meth:`UsersAPI.grant` check the roles first.

Passwords are sent in the JSON body only; they are never logged or kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal
from urllib.parse import quote

from etcdmap.errors import (
    AuthAlreadyExists,
    AuthError,
    InsufficientCredentials,
    InvalidResponseError,
    RoleExists,
    RoleNotFound,
    UserExists,
    UserNotFound,
)
from etcdmap.models import Permission
from etcdmap.transport import HTTPResult, Transport
from etcdmap.v2.members import decode_json, error_message
from etcdmap.v2.models import Role, User

__all__ = [
    "AuthAPI",
    "RolesAPI",
    "UsersAPI",
    "auth_error",
    "parse_role",
    "parse_user",
    "permission_body",
]

_Subject = Literal["user", "role", "auth"]


# --------------------------------------------------------------------------- pure helpers


def auth_error(status: int, body: bytes, subject: _Subject = "auth") -> AuthError:
    """Map an error answer of ``/v2/auth`` to the most specific :class:`AuthError`.

    :param status: the HTTP status.
    :param body: the body, normally ``{"message": "auth: ..."}``.
    :param subject: what the call was about, used when the message does not say.
    :returns: the exception (not raised).
    """
    message = error_message(body) or f"HTTP {status}"
    about = _about(message, subject)
    if status == 401:
        return InsufficientCredentials(message, status)
    if status == 404:
        if about == "role":
            return RoleNotFound(message, status)
        if about == "user":
            return UserNotFound(message, status)
    if status == 409:
        if "already exists" in message:
            if about == "role":
                return RoleExists(message, status)
            if about == "user":
                return UserExists(message, status)
        if "already exists" in message or "duplicate" in message or "already enabled" in message:
            return AuthAlreadyExists(message, status)
    return AuthError(message, status)


def _about(message: str, subject: _Subject) -> _Subject:
    text = message.removeprefix("auth: ")
    if text.startswith("Role "):
        return "role"
    if text.startswith("User "):
        return "user"
    return subject


def _names(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidResponseError(f"{what} is not a list: {value!r}")
    names: list[str] = []
    for item in value:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and isinstance(item.get("role"), str):
            names.append(item["role"])  # GET /v2/auth/users[/u] sends full role objects
        else:
            raise InvalidResponseError(f"unexpected entry in {what}: {item!r}")
    return tuple(names)


def parse_user(obj: object) -> User:
    """Build a :class:`~etcdmap.v2.models.User` from etcd's user JSON.

    ``roles`` may hold role names or full role objects (etcd sends both shapes); the result
    always holds names, in the server's order.

    :raises InvalidResponseError: not a user object.
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("user"), str):
        raise InvalidResponseError(f"not an etcd user object: {obj!r}")
    return User(name=obj["user"], roles=_names(obj.get("roles"), "user roles"))


def parse_role(obj: object) -> Role:
    """Build a :class:`~etcdmap.v2.models.Role` from etcd's role JSON (null lists become ``()``).

    :raises InvalidResponseError: not a role object.
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("role"), str):
        raise InvalidResponseError(f"not an etcd role object: {obj!r}")
    perms = obj.get("permissions")
    kv = perms.get("kv") if isinstance(perms, dict) else None
    kv = kv if isinstance(kv, dict) else {}
    return Role(
        name=obj["role"],
        read=_names(kv.get("read"), "read permissions"),
        write=_names(kv.get("write"), "write permissions"),
    )


def permission_body(prefixes: Iterable[str], permission: Permission) -> dict[str, object]:
    """The ``{"kv": {"read": [...], "write": [...]}}`` object for a grant or revoke.

    :raises ValueError: no prefix, or a prefix that is not a string.
    """
    items = [prefixes] if isinstance(prefixes, str) else list(prefixes)
    if not items or not all(isinstance(p, str) and p for p in items):
        raise ValueError(f"need one or more non-empty key patterns, got {items!r}")
    if not isinstance(permission, Permission):
        raise TypeError(f"permission must be an etcdmap.Permission, got {permission!r}")
    read = items if permission in (Permission.READ, Permission.READ_WRITE) else None
    write = items if permission in (Permission.WRITE, Permission.READ_WRITE) else None
    return {"kv": {"read": read, "write": write}}


def _patterns(patterns: str | Iterable[str], what: str) -> list[str] | None:
    """The key patterns of :meth:`RolesAPI.add` (``None``: none, as etcd writes it)."""
    items = [patterns] if isinstance(patterns, str) else list(patterns)
    if not all(isinstance(p, str) and p for p in items):
        raise ValueError(f"{what} key patterns must be non-empty strings, got {items!r}")
    return items or None


def _name_list(names: str | Iterable[str], what: str) -> list[str]:
    items = [names] if isinstance(names, str) else list(names)
    if not items or not all(isinstance(n, str) and n for n in items):
        raise ValueError(f"need one or more {what} names, got {items!r}")
    return items


def _path(kind: str, name: str) -> str:
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"invalid {kind} name {name!r}: it must be non-empty and have no '/'")
    return f"/v2/auth/{kind}s/{quote(name, safe='')}"


def _check(result: HTTPResult, ok: tuple[int, ...], subject: _Subject) -> HTTPResult:
    if result.status not in ok:
        raise auth_error(result.status, result.body, subject)
    return result


# --------------------------------------------------------------------------- the APIs


def _listing(result: HTTPResult, field: str) -> list[object]:
    """The list under ``field`` of a ``{"users": [...]}`` / ``{"roles": [...]}`` answer.

    etcd sends ``{"users": null}`` when there are none: that is an empty list.

    :raises InvalidResponseError: the body is not such an object.
    """
    obj = decode_json(result)
    items = obj.get(field) if isinstance(obj, dict) else None
    if not isinstance(obj, dict) or not isinstance(items, list | None):
        raise InvalidResponseError(f"unexpected {field} list {obj!r}", result.endpoint)
    return items or []


class AuthAPI:
    """``client.auth``: switch authentication on and off. Thread-safe.

    :param transport: the client's transport.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def enabled(self) -> bool:
        """Whether auth is on (needs no credentials).

        :raises AuthError: an error answer.
        """
        result = _check(self._transport.request("GET", "/v2/auth/enable"), (200,), "auth")
        obj = decode_json(result)
        if not isinstance(obj, dict) or not isinstance(obj.get("enabled"), bool):
            raise InvalidResponseError(f"unexpected auth status {obj!r}", result.endpoint)
        return bool(obj["enabled"])

    def enable(self) -> None:
        """Turn auth on. The ``root`` user must exist; etcd also creates the ``guest`` role
        (read/write ``/*``), so anonymous clients keep full access until you revoke it.

        :raises AuthAlreadyExists: auth is already on.
        :raises AuthError: no root user (HTTP 409 "No root user available").
        :raises AmbiguousResultError: sent, but no answer.
        """
        result = self._transport.request("PUT", "/v2/auth/enable", idempotent=False)
        _check(result, (200, 201), "auth")

    def disable(self) -> None:
        """Turn auth off (the client must be root).

        :raises AuthError: already off (HTTP 409 "already disabled").
        :raises InsufficientCredentials: the client is not root.
        :raises AmbiguousResultError: sent, but no answer.
        """
        result = self._transport.request("DELETE", "/v2/auth/enable", idempotent=False)
        _check(result, (200, 201), "auth")


class UsersAPI:
    """``client.users``: manage auth users (needs root when auth is on). Thread-safe.

    :param transport: the client's transport.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self) -> list[str]:
        """The user names, sorted.

        :raises InsufficientCredentials: auth is on and the client is not root.
        """
        result = _check(self._transport.request("GET", "/v2/auth/users"), (200,), "user")
        return sorted(parse_user(u).name for u in _listing(result, "users"))

    def get(self, name: str) -> User:
        """One user, with clean role names.

        :raises UserNotFound: no such user.
        :raises RoleNotFound: the user holds a role that was deleted (etcd cannot read it then).
        """
        result = _check(self._transport.request("GET", _path("user", name)), (200,), "user")
        return parse_user(decode_json(result))

    def exists(self, name: str) -> bool:
        """Whether the user exists.

        :raises AuthError: other error answers.
        """
        try:
            self.get(name)
        except UserNotFound:
            return False
        except RoleNotFound:
            return True  # it exists, holding a deleted role
        return True

    def add(self, name: str, password: str, roles: str | Iterable[str] = ()) -> User:
        """Create a user; never changes an existing user.

        With ``roles``, the creation is one atomic request (etcd's CreateUser). Without,
        etcd only offers create-or-update, so the user's absence is checked first; if another
        client creates the same user between the check and the write, the write updates its
        password and this raises :class:`UserExists`.

        :param name: the user name (``root`` gets the root role automatically).
        :param password: a non-empty password.
        :param roles: roles to hold from the start; they must exist.
        :returns: the created user.
        :raises ValueError: empty name or password.
        :raises UserExists: the user already exists.
        :raises RoleNotFound: a role does not exist.
        :raises AmbiguousResultError: sent, but no answer.
        """
        path = _path("user", name)
        if not isinstance(password, str) or not password:
            raise ValueError("a user needs a non-empty password")
        role_names = [] if not roles else _name_list(roles, "role")
        for role in role_names:
            RolesAPI(self._transport).get(role)  # raises RoleNotFound
        if role_names:
            body: dict[str, object] = {"user": name, "password": password, "roles": role_names}
            result = self._transport.request("PUT", path, json=body, idempotent=False)
            return parse_user(decode_json(_check(result, (200, 201), "user")))
        if self.exists(name):
            raise UserExists(f"auth: User {name} already exists.", 409)
        body = {"user": name, "password": password}
        result = _check(
            self._transport.request("PUT", path, json=body, idempotent=False), (200, 201), "user"
        )
        if result.status == 200:  # etcd updated a user created concurrently
            raise UserExists(
                f"auth: User {name} was created concurrently; its password was overwritten", 409
            )
        return parse_user(decode_json(result))

    def remove(self, name: str) -> None:
        """Delete a user.

        :raises UserNotFound: no such user.
        :raises AuthError: ``root`` while auth is on (HTTP 403).
        :raises AmbiguousResultError: sent, but no answer.
        """
        result = self._transport.request("DELETE", _path("user", name), idempotent=False)
        _check(result, (200, 201, 204), "user")

    def grant(self, name: str, roles: str | Iterable[str]) -> User:
        """Give roles to a user.

        :param roles: role names (a single string is accepted); they must exist.
        :returns: the updated user.
        :raises UserNotFound: no such user.
        :raises RoleNotFound: a role does not exist.
        :raises AuthAlreadyExists: the user already holds one of the roles.
        """
        items = _name_list(roles, "role")
        for role in items:
            RolesAPI(self._transport).get(role)
        return self._update(name, {"user": name, "grant": items})

    def revoke(self, name: str, roles: str | Iterable[str]) -> User:
        """Take roles away from a user.

        :returns: the updated user.
        :raises UserNotFound: no such user.
        :raises AuthError: the user does not hold one of the roles (HTTP 409).
        """
        return self._update(name, {"user": name, "revoke": _name_list(roles, "role")})

    def change_password(self, name: str, password: str) -> None:
        """Set a user's password; never creates a user.

        etcd's password-only update is create-or-update, so the user is read first. If it is
        deleted between that read and the write, etcd re-creates it without roles and this
        raises :class:`UserNotFound` saying so.

        :raises ValueError: an empty password.
        :raises UserNotFound: no such user.
        :raises AmbiguousResultError: sent, but no answer.
        """
        path = _path("user", name)
        if not isinstance(password, str) or not password:
            raise ValueError("a user needs a non-empty password")
        if not self.exists(name):
            raise UserNotFound(f"auth: User {name} does not exist.", 404)
        body = {"user": name, "password": password}
        result = _check(
            self._transport.request("PUT", path, json=body, idempotent=False), (200, 201), "user"
        )
        if result.status == 201:
            raise UserNotFound(
                f"auth: User {name} was deleted concurrently; etcd re-created it with no roles",
                404,
            )

    def _update(self, name: str, body: Mapping[str, object]) -> User:
        result = self._transport.request("PUT", _path("user", name), json=body, idempotent=False)
        return parse_user(decode_json(_check(result, (200,), "user")))


class RolesAPI:
    """``client.roles``: manage auth roles (needs root when auth is on). Thread-safe.

    :param transport: the client's transport.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self) -> list[str]:
        """The role names, sorted (``root`` is always there; ``guest`` once auth was enabled).

        :raises InsufficientCredentials: auth is on and the client is not root.
        """
        result = _check(self._transport.request("GET", "/v2/auth/roles"), (200,), "role")
        return sorted(parse_role(r).name for r in _listing(result, "roles"))

    def get(self, name: str) -> Role:
        """One role with its permissions.

        :raises RoleNotFound: no such role.
        """
        result = _check(self._transport.request("GET", _path("role", name)), (200,), "role")
        return parse_role(decode_json(result))

    def add(
        self, name: str, *, read: str | Iterable[str] = (), write: str | Iterable[str] = ()
    ) -> Role:
        """Create a role, with its key-space permissions in the same request (one PUT, as in
        etcd's auth docs); none by default.

        :param name: the role name.
        :param read: key patterns the role may read (``/app/*`` is a prefix); a string is one.
        :param write: key patterns the role may write.
        :returns: the new role.
        :raises ValueError: a pattern that is not a non-empty string (before any request).
        :raises RoleExists: the role exists.
        :raises AuthError: ``root`` (HTTP 403).
        :raises AmbiguousResultError: sent, but no answer.
        """
        kv = {"read": _patterns(read, "read"), "write": _patterns(write, "write")}
        body = {"role": name, "permissions": {"kv": kv}}
        result = self._transport.request("PUT", _path("role", name), json=body, idempotent=False)
        return parse_role(decode_json(_check(result, (200, 201), "role")))

    def remove(self, name: str) -> None:
        """Delete a role.

        :raises RoleNotFound: no such role.
        :raises AuthError: ``root`` (HTTP 403).
        :raises AmbiguousResultError: sent, but no answer.
        """
        result = self._transport.request("DELETE", _path("role", name), idempotent=False)
        _check(result, (200, 201, 204), "role")

    def grant_kv(self, name: str, prefixes: str | Iterable[str], permission: Permission) -> Role:
        """Allow a role to read and/or write keys.

        :param prefixes: key patterns; one ending in ``*`` is a string prefix (``/app/*``),
            any other is an exact key. A single string is accepted.
        :param permission: :attr:`Permission.READ`, ``WRITE`` or ``READ_WRITE``.
        :returns: the updated role.
        :raises RoleNotFound: no such role.
        :raises AuthAlreadyExists: a permission is already granted.
        """
        body = {"role": name, "grant": permission_body(prefixes, permission)}
        return self._update(name, body)

    def revoke_kv(self, name: str, prefixes: str | Iterable[str], permission: Permission) -> Role:
        """Withdraw read and/or write permissions from a role.

        :returns: the updated role.
        :raises RoleNotFound: no such role.
        :raises AuthError: nothing changed (HTTP 400 "Role not updated"): none of the
            permissions was granted.
        """
        body = {"role": name, "revoke": permission_body(prefixes, permission)}
        return self._update(name, body)

    def _update(self, name: str, body: Mapping[str, object]) -> Role:
        result = self._transport.request("PUT", _path("role", name), json=body, idempotent=False)
        return parse_role(decode_json(_check(result, (200, 201), "role")))
