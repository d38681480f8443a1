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

Every method takes ``timeout=``: the whole call's deadline in seconds (``None``: none;
default: the client's ``timeout``), across endpoints and every request the call sends.

Passwords are sent in the JSON body only; they are never logged or kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from etcdmap.errors import (
    InvalidResponseError,
    RoleNotFound,
    UserExists,
    UserNotFound,
)
from etcdmap.http.budget import Budget
from etcdmap.http.transport import DEFAULT, CallTimeout, Transport
from etcdmap.models import Permission
from etcdmap.v2 import auth_wire as _wire
from etcdmap.v2.members import decode_json
from etcdmap.v2.models import Role, User

__all__ = ["AuthAPI", "RolesAPI", "UsersAPI"]

class AuthAPI:
    """``client.auth``: switch authentication on and off. Thread-safe.

    :param transport: the client's transport.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def enabled(self, *, timeout: CallTimeout = DEFAULT) -> bool:
        """Whether auth is on (needs no credentials).

        :raises AuthError: an error answer.
        """
        result = _wire.check(
            self._transport.request("GET", "/v2/auth/enable", timeout=timeout), (200,), "auth"
        )
        obj = decode_json(result)
        if not isinstance(obj, dict) or not isinstance(obj.get("enabled"), bool):
            raise InvalidResponseError(f"unexpected auth status {obj!r}", result.endpoint)
        return bool(obj["enabled"])

    def enable(self, *, timeout: CallTimeout = DEFAULT) -> None:
        """Turn auth on. The ``root`` user must exist; etcd also creates the ``guest`` role
        (read/write ``/*``), so anonymous clients keep full access until you revoke it.

        :raises AuthAlreadyExists: auth is already on.
        :raises AuthError: no root user (HTTP 409 "No root user available").
        :raises AmbiguousResultError: sent, but no answer.
        """
        result = self._transport.request("PUT", "/v2/auth/enable", idempotent=False,
                                         timeout=timeout)
        _wire.check(result, (200, 201), "auth")

    def disable(self, *, timeout: CallTimeout = DEFAULT) -> None:
        """Turn auth off (the client must be root).

        :raises AuthError: already off (HTTP 409 "already disabled").
        :raises InsufficientCredentials: the client is not root.
        :raises AmbiguousResultError: sent, but no answer.
        """
        result = self._transport.request("DELETE", "/v2/auth/enable", idempotent=False,
                                         timeout=timeout)
        _wire.check(result, (200, 201), "auth")


class UsersAPI:
    """``client.users``: manage auth users (needs root when auth is on). Thread-safe.

    :param transport: the client's transport.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self, *, timeout: CallTimeout = DEFAULT) -> list[str]:
        """The user names, sorted.

        :raises InsufficientCredentials: auth is on and the client is not root.
        """
        result = _wire.check(
            self._transport.request("GET", "/v2/auth/users", timeout=timeout), (200,), "user"
        )
        return sorted(_wire.parse_user(u).name for u in _wire.listing(result, "users"))

    def get(self, name: str, *, timeout: CallTimeout = DEFAULT) -> User:
        """One user, with clean role names.

        :raises UserNotFound: no such user.
        :raises RoleNotFound: the user holds a role that was deleted (etcd cannot read it then).
        """
        result = _wire.check(
            self._transport.request("GET", _wire.path("user", name), timeout=timeout), (200,),
            "user",
        )
        return _wire.parse_user(decode_json(result))

    def exists(self, name: str, *, timeout: CallTimeout = DEFAULT) -> bool:
        """Whether the user exists.

        :raises AuthError: other error answers.
        """
        try:
            self.get(name, timeout=timeout)
        except UserNotFound:
            return False
        except RoleNotFound:
            return True  # it exists, holding a deleted role
        return True

    def add(
        self, name: str, password: str, roles: str | Iterable[str] = (), *,
        timeout: CallTimeout = DEFAULT,
    ) -> User:
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
        path = _wire.path("user", name)
        if not isinstance(password, str) or not password:
            raise ValueError("a user needs a non-empty password")
        role_names = [] if not roles else _wire.name_list(roles, "role")
        budget = Budget(timeout, self._transport.timeout)
        for role in role_names:
            RolesAPI(self._transport).get(role, timeout=budget.left())  # raises RoleNotFound
        if role_names:
            body: dict[str, object] = {"user": name, "password": password, "roles": role_names}
            result = self._transport.request("PUT", path, json=body, idempotent=False,
                                             timeout=budget.left())
            return _wire.parse_user(decode_json(_wire.check(result, (200, 201), "user")))
        if self.exists(name, timeout=budget.left()):
            raise UserExists(f"auth: User {name} already exists.", 409)
        body = {"user": name, "password": password}
        result = _wire.check(
            self._transport.request("PUT", path, json=body, idempotent=False,
                                    timeout=budget.left()),
            (200, 201), "user",
        )
        if result.status == 200:  # etcd updated a user created concurrently
            raise UserExists(
                f"auth: User {name} was created concurrently; its password was overwritten", 409
            )
        return _wire.parse_user(decode_json(result))

    def remove(self, name: str, *, timeout: CallTimeout = DEFAULT) -> None:
        """Delete a user.

        :raises UserNotFound: no such user.
        :raises AuthError: ``root`` while auth is on (HTTP 403).
        :raises AmbiguousResultError: sent, but no answer.
        """
        result = self._transport.request("DELETE", _wire.path("user", name), idempotent=False,
                                         timeout=timeout)
        _wire.check(result, (200, 201, 204), "user")

    def grant(
        self, name: str, roles: str | Iterable[str], *, timeout: CallTimeout = DEFAULT
    ) -> User:
        """Give roles to a user.

        :param roles: role names (a single string is accepted); they must exist.
        :returns: the updated user.
        :raises UserNotFound: no such user.
        :raises RoleNotFound: a role does not exist.
        :raises AuthAlreadyExists: the user already holds one of the roles.
        """
        items = _wire.name_list(roles, "role")
        budget = Budget(timeout, self._transport.timeout)
        for role in items:
            RolesAPI(self._transport).get(role, timeout=budget.left())
        return self._update(name, {"user": name, "grant": items}, budget.left())

    def revoke(
        self, name: str, roles: str | Iterable[str], *, timeout: CallTimeout = DEFAULT
    ) -> User:
        """Take roles away from a user.

        :returns: the updated user.
        :raises UserNotFound: no such user.
        :raises AuthError: the user does not hold one of the roles (HTTP 409).
        """
        body = {"user": name, "revoke": _wire.name_list(roles, "role")}
        return self._update(name, body, timeout)

    def change_password(
        self, name: str, password: str, *, timeout: CallTimeout = DEFAULT
    ) -> None:
        """Set a user's password; never creates a user.

        etcd's password-only update is create-or-update, so the user is read first. If it is
        deleted between that read and the write, etcd re-creates it without roles and this
        raises :class:`UserNotFound` saying so.

        :raises ValueError: an empty password.
        :raises UserNotFound: no such user.
        :raises AmbiguousResultError: sent, but no answer.
        """
        path = _wire.path("user", name)
        if not isinstance(password, str) or not password:
            raise ValueError("a user needs a non-empty password")
        budget = Budget(timeout, self._transport.timeout)
        if not self.exists(name, timeout=budget.left()):
            raise UserNotFound(f"auth: User {name} does not exist.", 404)
        body = {"user": name, "password": password}
        result = _wire.check(
            self._transport.request("PUT", path, json=body, idempotent=False,
                                    timeout=budget.left()),
            (200, 201), "user",
        )
        if result.status == 201:
            raise UserNotFound(
                f"auth: User {name} was deleted concurrently; etcd re-created it with no roles",
                404,
            )

    def _update(self, name: str, body: Mapping[str, object], timeout: CallTimeout) -> User:
        result = self._transport.request("PUT", _wire.path("user", name), json=body,
                                         idempotent=False, timeout=timeout)
        return _wire.parse_user(decode_json(_wire.check(result, (200,), "user")))


class RolesAPI:
    """``client.roles``: manage auth roles (needs root when auth is on). Thread-safe.

    :param transport: the client's transport.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self, *, timeout: CallTimeout = DEFAULT) -> list[str]:
        """The role names, sorted (``root`` is always there; ``guest`` once auth was enabled).

        :raises InsufficientCredentials: auth is on and the client is not root.
        """
        result = _wire.check(
            self._transport.request("GET", "/v2/auth/roles", timeout=timeout), (200,), "role"
        )
        return sorted(_wire.parse_role(r).name for r in _wire.listing(result, "roles"))

    def get(self, name: str, *, timeout: CallTimeout = DEFAULT) -> Role:
        """One role with its permissions.

        :raises RoleNotFound: no such role.
        """
        result = _wire.check(
            self._transport.request("GET", _wire.path("role", name), timeout=timeout), (200,),
            "role",
        )
        return _wire.parse_role(decode_json(result))

    def add(
        self, name: str, *, read: str | Iterable[str] = (), write: str | Iterable[str] = (),
        timeout: CallTimeout = DEFAULT,
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
        kv = {"read": _wire.patterns(read, "read"), "write": _wire.patterns(write, "write")}
        body = {"role": name, "permissions": {"kv": kv}}
        result = self._transport.request("PUT", _wire.path("role", name), json=body,
                                         idempotent=False, timeout=timeout)
        return _wire.parse_role(decode_json(_wire.check(result, (200, 201), "role")))

    def remove(self, name: str, *, timeout: CallTimeout = DEFAULT) -> None:
        """Delete a role.

        :raises RoleNotFound: no such role.
        :raises AuthError: ``root`` (HTTP 403).
        :raises AmbiguousResultError: sent, but no answer.
        """
        result = self._transport.request("DELETE", _wire.path("role", name), idempotent=False,
                                         timeout=timeout)
        _wire.check(result, (200, 201, 204), "role")

    def grant_kv(
        self, name: str, prefixes: str | Iterable[str], permission: Permission, *,
        timeout: CallTimeout = DEFAULT,
    ) -> Role:
        """Allow a role to read and/or write keys.

        :param prefixes: key patterns; one ending in ``*`` is a string prefix (``/app/*``),
            any other is an exact key. A single string is accepted.
        :param permission: :attr:`Permission.READ`, ``WRITE`` or ``READ_WRITE``.
        :returns: the updated role.
        :raises RoleNotFound: no such role.
        :raises AuthAlreadyExists: a permission is already granted.
        """
        body = {"role": name, "grant": _wire.permission_body(prefixes, permission)}
        return self._update(name, body, timeout)

    def revoke_kv(
        self, name: str, prefixes: str | Iterable[str], permission: Permission, *,
        timeout: CallTimeout = DEFAULT,
    ) -> Role:
        """Withdraw read and/or write permissions from a role.

        :returns: the updated role.
        :raises RoleNotFound: no such role.
        :raises AuthError: nothing changed (HTTP 400 "Role not updated"): none of the
            permissions was granted.
        """
        body = {"role": name, "revoke": _wire.permission_body(prefixes, permission)}
        return self._update(name, body, timeout)

    def _update(self, name: str, body: Mapping[str, object], timeout: CallTimeout) -> Role:
        result = self._transport.request("PUT", _wire.path("role", name), json=body,
                                         idempotent=False, timeout=timeout)
        return _wire.parse_role(decode_json(_wire.check(result, (200, 201), "role")))
