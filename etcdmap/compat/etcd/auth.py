"""python-etcd's ``etcd.auth``: :class:`EtcdUser`, :class:`EtcdRole` and :class:`Auth`, on
etcdmap's v2 users, roles and auth APIs (``client.etcdmap.users`` / ``.roles`` / ``.auth``).

Objects are edited in memory and written with :meth:`EtcdAuthBase.write`, which sends only the
difference with what the server has (grants, revokes, a new password), as python-etcd did.

Thread-safety: an object belongs to one thread at a time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from etcdmap.compat.etcd.errors import (
    EtcdException,
    EtcdInsufficientPermissions,
    EtcdKeyNotFound,
)
from etcdmap.models import Permission

__all__ = ["Auth", "EtcdAuthBase", "EtcdRole", "EtcdUser"]

_log = logging.getLogger("etcd.auth")
_KEEP = (EtcdInsufficientPermissions, EtcdKeyNotFound)


class EtcdAuthBase:
    """What users and roles share: ``names``, ``read``, ``write``, ``delete``."""

    entity = "example"

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def _call(self, func: Callable[..., Any], *args: Any) -> Any:
        return self.client._checked(func, *args)

    def _api(self) -> Any:
        raise NotImplementedError

    @property
    def names(self) -> list[str]:
        """Every user (or role) name."""
        names: list[str] = self._call(self._api().list)
        return names

    def _guarded(self, what: str, keep: tuple[type[Exception], ...], func: Callable[[], None]) -> None:
        try:
            func()
        except keep:
            raise
        except Exception as exc:
            _log.error("Failed to %s %s '%s': %r", what, self.entity, self.name, exc)
            raise EtcdException(f"Could not {what} {self.entity} '{self.name}': {exc}") from exc

    def read(self) -> None:
        """Load the object from the server.

        :raises EtcdKeyNotFound: it does not exist.
        :raises EtcdInsufficientPermissions: the client may not read auth (needs root).
        :raises EtcdException: any other failure.
        """
        self._guarded("fetch", _KEEP, lambda: self._load(self._call(self._api().get, self.name)))

    def write(self) -> None:
        """Create the object, or send its changes.

        :raises EtcdInsufficientPermissions: the client may not write auth.
        :raises EtcdException: any other failure.
        """
        def write() -> None:
            try:
                current = type(self)(self.client, self.name)
                current.read()
            except EtcdKeyNotFound:
                current = None
            self._send(current)

        self._guarded("write", (EtcdInsufficientPermissions,), write)

    def delete(self) -> None:
        """Delete the object.

        :raises EtcdKeyNotFound: it does not exist.
        :raises EtcdInsufficientPermissions: the client may not write auth.
        """
        self._guarded("delete", _KEEP, lambda: self._call(self._api().remove, self.name))

    def _load(self, core: Any) -> None:
        raise NotImplementedError

    def _send(self, current: Any) -> None:
        raise NotImplementedError


class EtcdUser(EtcdAuthBase):
    """A user: ``roles`` (a set) and a write-only ``password``."""

    entity = "user"

    def __init__(self, client: Any, name: str) -> None:
        super().__init__(client, name)
        self._roles: set[str] = set()
        self._password: str | None = None

    def _api(self) -> Any:
        return self.client.etcdmap.users

    def _load(self, core: Any) -> None:
        self.name, self.roles = core.name, core.roles

    def _to_net(self, prevobj: EtcdUser | None = None) -> list[dict[str, Any]]:
        """The changes to send: everything for a new user, else the difference with
        ``prevobj`` (the password is forgotten once this is called)."""
        if prevobj is None:
            out: list[dict[str, Any]] = [{"user": self.name, "password": self._password,
                                          "roles": list(self.roles)}]
        else:
            out = []
            if self._password:
                out.append({"user": self.name, "password": self._password})
            grant, revoke = self.roles - prevobj.roles, prevobj.roles - self.roles
            if grant:
                out.append({"user": self.name, "grant": sorted(grant)})
            if revoke:
                out.append({"user": self.name, "revoke": sorted(revoke)})
        self._password = None
        return out

    def _send(self, current: Any) -> None:
        users = self._api()
        for change in self._to_net(current):
            if "roles" in change:
                self._call(users.add, self.name, change["password"] or "", change["roles"])
            elif "password" in change:
                self._call(users.change_password, self.name, change["password"])
            elif "grant" in change:
                self._call(users.grant, self.name, change["grant"])
            else:
                self._call(users.revoke, self.name, change["revoke"])

    @property
    def roles(self) -> set[str]:
        """The user's role names."""
        return self._roles

    @roles.setter
    def roles(self, value: Iterable[str]) -> None:
        self._roles = set(value)

    @property
    def password(self) -> None:
        """Write-only: always ``None``."""
        return None

    @password.setter
    def password(self, new_password: str) -> None:
        self._password = new_password

    def __str__(self) -> str:
        return json.dumps({"user": self.name, "password": None, "roles": sorted(self.roles)})


class EtcdRole(EtcdAuthBase):
    """A role: read and write key patterns (``acls``: ``{path: "R" | "W" | "RW"}``)."""

    entity = "role"

    def __init__(self, client: Any, name: str) -> None:
        super().__init__(client, name)
        self._read_paths: set[str] = set()
        self._write_paths: set[str] = set()

    def _api(self) -> Any:
        return self.client.etcdmap.roles

    def _load(self, core: Any) -> None:
        self.name, self._read_paths, self._write_paths = core.name, set(core.read), set(core.write)

    def _send(self, current: Any) -> None:
        roles = self._api()
        if current is None:
            self._call(roles.add, self.name)
            current = EtcdRole(self.client, self.name)
        for paths, before, perm in ((self._read_paths, current._read_paths, Permission.READ),
                                    (self._write_paths, current._write_paths, Permission.WRITE)):
            if before - paths:
                self._call(roles.revoke_kv, self.name, sorted(before - paths), perm)
            if paths - before:
                self._call(roles.grant_kv, self.name, sorted(paths - before), perm)

    def grant(self, path: str, permission: str) -> None:
        """Allow reading (``R``) and/or writing (``W``) ``path`` (in memory until :meth:`write`)."""
        if "R" in permission.upper():
            self._read_paths.add(path)
        if "W" in permission.upper():
            self._write_paths.add(path)

    def revoke(self, path: str, permission: str) -> None:
        """Take back ``R`` and/or ``W`` on ``path`` (in memory until :meth:`write`)."""
        if "R" in permission.upper():
            self._read_paths.discard(path)
        if "W" in permission.upper():
            self._write_paths.discard(path)

    @property
    def acls(self) -> dict[str, str]:
        """``{path: "R" | "W" | "RW"}``."""
        perms = dict.fromkeys(self._read_paths, "R")
        for path in self._write_paths:
            perms[path] = perms.get(path, "") + "W"
        return perms

    @acls.setter
    def acls(self, acls: dict[str, str]) -> None:
        self._read_paths, self._write_paths = set(), set()
        for path, permission in acls.items():
            self.grant(path, permission)

    def __str__(self) -> str:
        return json.dumps({"role": self.name, "acls": self.acls})


class Auth:
    """Auth on or off: ``Auth(client).active = True``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def active(self) -> bool:
        """Whether auth is enabled."""
        enabled: bool = self.client._checked(self.client.etcdmap.auth.enabled)
        return enabled

    @active.setter
    def active(self, value: bool) -> None:
        if value != self.active:
            api = self.client.etcdmap.auth
            self.client._checked(api.enable if value else api.disable)
