"""A TEMPORARY, test-only stand-in for ``etcdmap.v3.Client(...).backend`` (the V3Backend).

The real ``V3Backend`` is built on another branch; until it is merged, the CLI's v3 tests
install this shim with :func:`install_shim` (only when ``etcdmap.v3.Client`` has no
``backend`` of its own, so the tests run on the real backend once it exists). It implements
just what the CLI's v3 bodies use, with the conventions the issue asks of the real one:
keys stored verbatim (``/config/db/host``), directories as key prefixes, an empty directory
kept as a marker key ``<dir>/`` with an empty value, ``_`` keys left out of listings, a TTL as
a lease per key, conditions by txn. Not for production use: no in-order keys, no refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from etcdmap.backend import ALWAYS, Cond, Progress
from etcdmap.errors import CompareFailed, KeyNotFound, NodeExists, NotAFile
from etcdmap.models import Change, Node
from etcdmap.v3 import Client, Compare, KeyValue, Op

__all__ = ["ShimV3Backend", "install_shim"]


def _norm(key: str) -> str:
    return "/" + key.strip("/")


def _below(key: str) -> str:
    return "/" if key == "/" else f"{key}/"


def _hidden(rel: str) -> bool:
    return any(part.startswith("_") for part in rel.split("/") if part)


class ShimV3Backend:
    """See the module docstring. Thread-safety: as the client."""

    name = "v3"
    capabilities = frozenset({"ttl", "hidden_keys", "txn"})

    def __init__(self, client: Client) -> None:
        self.client = client
        self._kv = client.kv

    def describe(self) -> str:
        return f"endpoints={self.client.endpoints!r}"

    # ------------------------------------------------------------------ reads

    def _ttl(self, kv: KeyValue, cache: dict[int, int | None]) -> int | None:
        if not kv.lease:
            return None
        if kv.lease not in cache:
            ttl = self.client.lease.time_to_live(kv.lease).ttl
            cache[kv.lease] = max(ttl, 1) if ttl >= 0 else None
        return cache[kv.lease]

    def _file(self, kv: KeyValue, cache: dict[int, int | None]) -> Node:
        return Node(kv.key_text, kv.value_text, created_index=kv.create_revision,
                    modified_index=kv.mod_revision, ttl=self._ttl(kv, cache))

    def read(self, key: str, *, recursive: bool = False, quorum: bool = False) -> tuple[Node, int]:
        key = _norm(key)
        cache: dict[int, int | None] = {}
        own = self._kv.range(key)
        if own.kvs:
            return self._file(own.kvs[0], cache), own.header.revision
        below = _below(key)
        resp = self._kv.range(below, prefix=True)
        if not resp.kvs:
            raise KeyNotFound("Key not found", key, resp.header.revision)
        tree: dict[str, Any] = {}
        for kv in resp.kvs:
            rel = kv.key_text[len(below):]
            parts = [p for p in rel.split("/") if p]
            if not parts or _hidden(rel):
                continue  # the directory's own marker, or a hidden key
            is_dir = kv.key_text.endswith("/")
            if not recursive and len(parts) > 1:
                parts, is_dir = parts[:1], True
            node = tree
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node.setdefault(parts[-1], {} if is_dir else self._file(kv, cache))
        return self._build(key, tree), resp.header.revision

    def _build(self, key: str, tree: dict[str, Any]) -> Node:
        children = []
        for name in sorted(tree):
            sub = tree[name]
            path = f"{key.rstrip('/')}/{name}"
            children.append(self._build(path, sub) if isinstance(sub, dict) else sub)
        return Node("" if key == "/" else key, dir=True, nodes=tuple(children))

    def current_index(self, key: str) -> int:
        return self._kv.range(_norm(key), count_only=True).header.revision

    # ------------------------------------------------------------------ writes

    def _lease(self, ttl: int | None) -> int:
        return self.client.lease.grant(ttl).id if ttl else 0

    def _fail(self, key: str, cond: Cond, revision: int) -> Exception:
        exists = bool(self._kv.range(key).kvs)
        if cond.exists is False and exists:
            return NodeExists("Key already exists", key, revision)
        if not exists:
            return KeyNotFound("Key not found", key, revision)
        return CompareFailed("Compare failed", key, revision)

    def _compares(self, key: str, cond: Cond) -> list[Compare]:
        out = []
        if cond.exists is False:
            out.append(Compare.create(key, "==", 0))
        if cond.exists is True:
            out.append(Compare.version(key, ">", 0))
        if cond.value is not None:
            out.append(Compare.value(key, "==", cond.value))
        if cond.revision is not None:
            out.append(Compare.mod(key, "==", cond.revision))
        return out

    def put(self, key: str, value: str, *, ttl: int | None = None,
            cond: Cond = ALWAYS) -> tuple[Node, int]:
        key = _norm(key)
        if self._kv.range(_below(key), prefix=True, count_only=True).count:
            raise NotAFile("Not a file", key, 0)
        lease = self._lease(ttl)
        if cond == ALWAYS:
            rev = self._kv.put(key, value, lease=lease).header.revision
        else:
            resp = self._kv.txn(self._compares(key, cond), [Op.put(key, value, lease=lease)])
            rev = resp.header.revision
            if not resp.succeeded:
                raise self._fail(key, cond, rev)
        return Node(key, value, modified_index=rev, ttl=ttl), rev

    def make_dir(self, key: str, *, ttl: int | None = None,
                 cond: Cond = ALWAYS) -> tuple[Node, int]:
        key = _norm(key)
        rev = self._kv.put(_below(key), "", lease=self._lease(ttl)).header.revision
        return Node(key, dir=True, modified_index=rev, ttl=ttl), rev

    def delete(self, key: str, *, recursive: bool = False, cond: Cond = ALWAYS) -> int:
        key = _norm(key)
        if recursive:
            found = self._kv.range(key, count_only=True).count or \
                self._kv.range(_below(key), prefix=True, count_only=True).count
            if not found:
                raise KeyNotFound("Key not found", key, self.current_index(key))
            resp = self._kv.txn([], [Op.delete(key), Op.delete(_below(key), prefix=True)])
            return resp.header.revision
        txn = self._kv.txn(self._compares(key, cond) + [Compare.version(key, ">", 0)],
                           [Op.delete(key)])
        if not txn.succeeded:
            raise self._fail(key, cond, txn.header.revision)
        return txn.header.revision

    # ------------------------------------------------------------------ changes

    def changes(self, key: str, *, after: int, recursive: bool = True,
                idle_timeout: float = 1.0,
                on_error: Callable[[BaseException], None] | None = None) -> _Stream:
        return _Stream(self.client, _norm(key), after, recursive)

    def close(self) -> None:
        self.client.close()


class _Stream:
    def __init__(self, client: Client, key: str, after: int, recursive: bool) -> None:
        self._key = key
        self._recursive = recursive
        self._watcher = client.watch(key, prefix=True, start_revision=after + 1, prev_kv=True)
        self.endpoint = None

    def __iter__(self) -> Iterator[Change | Progress]:
        for ev in self._watcher:
            name = ev.kv.key_text
            if name != self._key and not (self._recursive and name.startswith(_below(self._key))):
                continue
            if _hidden(name[len(self._key):]):
                continue
            prev = None if ev.prev_kv is None else Node(
                ev.prev_kv.key_text, ev.prev_kv.value_text,
                created_index=ev.prev_kv.create_revision, modified_index=ev.prev_kv.mod_revision)
            if ev.type == "DELETE":
                node = Node(name.rstrip("/"), dir=name.endswith("/"), modified_index=ev.revision)
                yield Change("delete", node, prev, ev.revision)
            else:
                node = Node(name.rstrip("/"), None if name.endswith("/") else ev.kv.value_text,
                            dir=name.endswith("/"), created_index=ev.kv.create_revision,
                            modified_index=ev.revision)
                yield Change("create" if ev.kv.version == 1 else "set", node, prev, ev.revision)

    def close(self) -> None:
        self._watcher.close()

    def nudge(self) -> None:
        pass


def install_shim(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give ``etcdmap.v3.Client`` a ``backend`` (this shim) unless it has a real one."""
    if getattr(Client, "backend", None) is None:
        monkeypatch.setattr(Client, "backend", property(ShimV3Backend), raising=False)
