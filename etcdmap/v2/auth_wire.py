"""Pure parts of the v2 auth API: answers to models and errors, request bodies (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
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
from etcdmap.http.transport import HTTPResult
from etcdmap.models import Permission
from etcdmap.v2.members import decode_json, error_message
from etcdmap.v2.models import Role, User

__all__ = [
    "auth_error",
    "check",
    "listing",
    "name_list",
    "parse_role",
    "parse_user",
    "path",
    "patterns",
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


def patterns(patterns: str | Iterable[str], what: str) -> list[str] | None:
    """The key patterns of :meth:`RolesAPI.add` (``None``: none, as etcd writes it)."""
    items = [patterns] if isinstance(patterns, str) else list(patterns)
    if not all(isinstance(p, str) and p for p in items):
        raise ValueError(f"{what} key patterns must be non-empty strings, got {items!r}")
    return items or None


def name_list(names: str | Iterable[str], what: str) -> list[str]:
    items = [names] if isinstance(names, str) else list(names)
    if not items or not all(isinstance(n, str) and n for n in items):
        raise ValueError(f"need one or more {what} names, got {items!r}")
    return items


def path(kind: str, name: str) -> str:
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"invalid {kind} name {name!r}: it must be non-empty and have no '/'")
    return f"/v2/auth/{kind}s/{quote(name, safe='')}"


def check(result: HTTPResult, ok: tuple[int, ...], subject: _Subject) -> HTTPResult:
    if result.status not in ok:
        raise auth_error(result.status, result.body, subject)
    return result


# --------------------------------------------------------------------------- the APIs


def listing(result: HTTPResult, field: str) -> list[object]:
    """The list under ``field`` of a ``{"users": [...]}`` / ``{"roles": [...]}`` answer.

    etcd sends ``{"users": null}`` when there are none: that is an empty list.

    :raises InvalidResponseError: the body is not such an object.
    """
    obj = decode_json(result)
    items = obj.get(field) if isinstance(obj, dict) else None
    if not isinstance(obj, dict) or not isinstance(items, list | None):
        raise InvalidResponseError(f"unexpected {field} list {obj!r}", result.endpoint)
    return items or []
