"""The v3 auth API (``/v3/auth/*``): switch auth, users, roles and their permissions.

Enabling auth needs a ``root`` user holding the built-in ``root`` role (etcd refuses otherwise
with :class:`~etcdmap.v3.errors.RootUserMissing` / :class:`RootRoleMissing`). Once it is on,
every call needs a token: give the client ``username=`` and ``password=`` and it authenticates
by itself (see :mod:`etcdmap.v3.caller`). Permissions are on keys or key ranges (a prefix is
the range ``[prefix, prefix_end(prefix))``).

Every write here is non-idempotent: an ambiguous failure raises
:class:`~etcdmap.errors.AmbiguousResultError`. Writes return the answer's header; lists are
:class:`~etcdmap.v3.models.Listing` objects, which keep it too.

Thread-safety: :class:`Auth` is thread-safe.
"""

from __future__ import annotations

from typing import Any

from etcdmap.errors import InvalidResponseError
from etcdmap.http.transport import DEFAULT, CallTimeout
from etcdmap.v3.caller import Caller
from etcdmap.v3.models import AuthStatus, Listing, Permission, PermType, ResponseHeader
from etcdmap.v3.txn import range_fields
from etcdmap.v3.wire import parse_header
from etcdmap.v3.wire_admin import parse_auth_status, parse_permission

__all__ = ["Auth"]

_PERMS = ("READ", "WRITE", "READWRITE")


def _name(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


def _names(data: dict[str, Any], field: str) -> Listing[str]:
    items = data.get(field) or []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise InvalidResponseError(f"{field} is not a list of names: {items!r:.80}")
    return Listing(items, parse_header(data.get("header")))


class Auth:
    """``client.auth``: authentication and authorization.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def _write(self, path: str, body: dict[str, Any], timeout: CallTimeout) -> ResponseHeader:
        data = self._caller.call(path, body, idempotent=False, timeout=timeout)
        return parse_header(data.get("header"))

    def _read(self, path: str, body: dict[str, Any], timeout: CallTimeout) -> dict[str, Any]:
        return self._caller.call(path, body, idempotent=True, timeout=timeout)

    # ------------------------------------------------------------------ switch

    def enable(self, *, timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Turn auth on.

        :raises RootUserMissing: no ``root`` user.
        :raises RootRoleMissing: ``root`` lacks the ``root`` role.
        """
        return self._write("/v3/auth/enable", {}, timeout)

    def disable(self, *, timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Turn auth off (needs the root user's token while it is on)."""
        return self._write("/v3/auth/disable", {}, timeout)

    def status(self, *, timeout: CallTimeout = DEFAULT) -> AuthStatus:
        """Whether auth is on, and the auth revision.

        :raises NoCredentials: auth is on and the client has no user name.
        """
        return parse_auth_status(self._read("/v3/auth/status", {}, timeout))

    @property
    def token(self) -> str | None:
        """The token the client sends now (``None``: no user name, auth is off, or none yet).
        It changes when the client re-authenticates (an expired or invalidated token)."""
        return self._caller.token

    def authenticate(self) -> str | None:
        """Authenticate now with the client's credentials and use the new token.

        :returns: the token (``None`` when auth is off or the client has no user name).
        :raises AuthenticationFailed: wrong user name or password.
        """
        return self._caller.refresh_token()

    # ------------------------------------------------------------------ users

    def user_add(self, name: str, password: str, *, no_password: bool = False,
                 timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Add a user.

        :param no_password: a user without a password, who authenticates with the common
            name of a TLS client certificate (``password`` must then be ``""``).
        :raises UserExistsV3: the user exists (also a :class:`~etcdmap.errors.UserExists`).
        """
        if not isinstance(password, str):
            raise TypeError(f"password must be a str, not {type(password).__name__}")
        body: dict[str, Any] = {"name": _name(name, "name"), "password": password}
        if no_password:
            body["options"] = {"no_password": True}
        return self._write("/v3/auth/user/add", body, timeout)

    def user_delete(self, name: str, *, timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Delete a user (alias: :meth:`user_remove`, v2's name).

        :raises UserNotFoundV3: no such user (also a :class:`~etcdmap.errors.UserNotFound`).
        """
        return self._write("/v3/auth/user/delete", {"name": _name(name, "name")}, timeout)

    user_remove = user_delete

    def user_get(self, name: str, *, timeout: CallTimeout = DEFAULT) -> Listing[str]:
        """The user's roles (a list; ``.header`` is the answer's header).

        :raises UserNotFoundV3: no such user (also a :class:`~etcdmap.errors.UserNotFound`).
        """
        return _names(self._read("/v3/auth/user/get", {"name": _name(name, "name")}, timeout),
                      "roles")

    def user_list(self, *, timeout: CallTimeout = DEFAULT) -> Listing[str]:
        """Every user name (a list; ``.header`` is the answer's header)."""
        return _names(self._read("/v3/auth/user/list", {}, timeout), "users")

    def user_change_password(self, name: str, password: str, *,
                             timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Change a user's password."""
        if not isinstance(password, str):
            raise TypeError(f"password must be a str, not {type(password).__name__}")
        body = {"name": _name(name, "name"), "password": password}
        return self._write("/v3/auth/user/changepw", body, timeout)

    def user_grant_role(self, name: str, role: str, *,
                        timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Give a user a role."""
        body = {"user": _name(name, "name"), "role": _name(role, "role")}
        return self._write("/v3/auth/user/grant", body, timeout)

    def user_revoke_role(self, name: str, role: str, *,
                         timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Take a role from a user."""
        body = {"name": _name(name, "name"), "role": _name(role, "role")}
        return self._write("/v3/auth/user/revoke", body, timeout)

    # ------------------------------------------------------------------ roles

    def role_add(self, name: str, *, timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Add a role.

        :raises RoleExistsV3: the role exists.
        """
        return self._write("/v3/auth/role/add", {"name": _name(name, "name")}, timeout)

    def role_delete(self, name: str, *, timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Delete a role (alias: :meth:`role_remove`, v2's name).

        :raises RoleNotFoundV3: no such role (also a :class:`~etcdmap.errors.RoleNotFound`).
        """
        return self._write("/v3/auth/role/delete", {"role": _name(name, "name")}, timeout)

    role_remove = role_delete

    def role_get(self, name: str, *, timeout: CallTimeout = DEFAULT) -> Listing[Permission]:
        """The role's permissions (a list; ``.header`` is the answer's header).

        :raises RoleNotFoundV3: no such role (also a :class:`~etcdmap.errors.RoleNotFound`).
        """
        data = self._read("/v3/auth/role/get", {"role": _name(name, "name")}, timeout)
        perms = data.get("perm") or []
        if not isinstance(perms, list):
            raise InvalidResponseError(f"perm is not a list: {perms!r:.80}")
        return Listing((parse_permission(p) for p in perms), parse_header(data.get("header")))

    def role_list(self, *, timeout: CallTimeout = DEFAULT) -> Listing[str]:
        """Every role name (a list; ``.header`` is the answer's header)."""
        return _names(self._read("/v3/auth/role/list", {}, timeout), "roles")

    def role_grant_permission(
        self,
        name: str,
        perm_type: PermType,
        key: str | bytes,
        *,
        prefix: bool = False,
        range_end: str | bytes | None = None,
        timeout: CallTimeout = DEFAULT,
    ) -> ResponseHeader:
        """Grant a role a permission on a key, a prefix or a range.

        :param perm_type: ``"READ"``, ``"WRITE"`` or ``"READWRITE"``.
        :raises TypeError, ValueError: bad arguments.
        """
        if perm_type not in _PERMS:
            raise ValueError(f"perm_type must be one of {_PERMS}: {perm_type!r}")
        perm: dict[str, Any] = {"permType": perm_type}
        perm.update(range_fields(key, prefix=prefix, range_end=range_end))
        body = {"name": _name(name, "name"), "perm": perm}
        return self._write("/v3/auth/role/grant", body, timeout)

    def role_revoke_permission(
        self,
        name: str,
        key: str | bytes,
        *,
        prefix: bool = False,
        range_end: str | bytes | None = None,
        timeout: CallTimeout = DEFAULT,
    ) -> ResponseHeader:
        """Revoke a role's permission on a key, a prefix or a range (as it was granted)."""
        body: dict[str, Any] = {"role": _name(name, "name")}
        body.update(range_fields(key, prefix=prefix, range_end=range_end))
        return self._write("/v3/auth/role/revoke", body, timeout)
