"""An in-memory :class:`~etcdmap.backend.Backend` with etcd v2's semantics, for tests without
a server (as httpx's ``MockTransport`` stands in for a network)::

    m = EtcdMap(MemoryBackend(), "/config")

It behaves as etcd v2's store does (etcd-io/etcd release-3.5:
``server/etcdserver/api/v2store/store.go`` and ``node.go``): real directory nodes, made on
the way by a write below them; one global index that every change raises by one, giving each
node its ``createdIndex`` and ``modifiedIndex``; hidden ``_`` keys readable by name and left
out of listings and of watches above them; TTLs, expired lazily (before every operation and
while a change stream waits) with one ``expire`` change each; in-order keys of 20
zero-padded digits (the index of their creation); refresh raising the index without a change
event; conditional writes dispatched as etcd's v2 HTTP API does (``prevExist`` first, then
``prevValue``/``prevIndex``); and the same errors with the same ``cause`` and ``index``
(checked against etcd 3.4). Like etcd it keeps the last 1,000 changes: a change stream from
an older index raises :class:`~etcdmap.errors.HistoryLost`.

What it does not do: quorum reads are ordinary reads, nothing persists, and ``close()`` keeps
the data (a backend shared by several maps stays usable).

Thread-safety: every method is safe to call from any thread; one lock orders all operations,
and change streams wait on its condition (no polling).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from etcdmap._checks import check_ttl
from etcdmap.backend import ALWAYS, Cond
from etcdmap.errors import (
    CompareFailed,
    KeyNotFound,
    NodeExists,
    NotADirectory,
    NotAFile,
    PrevValueRequired,
    RootReadOnly,
)
from etcdmap.mapping.memory_nodes import (
    Entry,
    Expiries,
    key_of,
    make_parents,
    node_of,
    parts_of,
    to_dict,
    walk,
)
from etcdmap.mapping.memory_stream import ChangeHistory, MemoryChangeStream
from etcdmap.models import Change, Node

__all__ = ["MemoryBackend", "MemoryChangeStream"]


class MemoryBackend:
    """An etcd v2 key space in memory (see the module docstring).

    :param history_size: how many changes are kept for change streams (etcd v2: 1,000).
    :param timer: the clock of TTLs, in seconds (inject a fake one to test expiry without
        sleeping; see :meth:`expire`).
    :raises ValueError: ``history_size`` is below 1.

    Thread-safe.
    """

    name = "memory"
    capabilities = frozenset({"dirs", "ttl", "in_order", "hidden_keys", "refresh"})

    def __init__(
        self, *, history_size: int = 1000, timer: Callable[[], float] = time.monotonic
    ) -> None:
        if history_size < 1:
            raise ValueError(f"history_size must be >= 1, got {history_size!r}")
        self._cond = threading.Condition(threading.Lock())
        self._root = Entry("", None, True, 0)
        self._index = 0
        self._history = ChangeHistory(history_size)
        self._ttls = Expiries(timer)

    # ------------------------------------------------------------------ the Backend protocol

    @property
    def client(self) -> MemoryBackend:
        """The backend itself (there is no client behind it)."""
        return self

    def describe(self) -> str:
        """``"memory"``."""
        return "memory"

    @property
    def index(self) -> int:
        """The store's current index (the last change's; 0 before any write)."""
        with self._cond:
            return self._index

    def read(self, key: str, *, recursive: bool = False, quorum: bool = False) -> tuple[Node, int]:
        """A node; a directory lists its children, sorted, hidden ones left out.

        :param recursive: list the whole subtree.
        :param quorum: ignored (every read is current).
        :raises KeyNotFound: no such key (``.cause``: the first missing path).
        :raises NotADirectory: a path element is a file.
        """
        with self._cond:
            self._expire()
            entry = self._get(parts_of(key))
            return self._node(entry, children=True, recursive=recursive), self._index

    def read_tree(
        self, key: str, decode: Callable[[str, str], Any] | None, *, quorum: bool = False
    ) -> tuple[dict[str, Any] | None, int]:
        """The subtree below ``key`` as plain nested dicts, hidden keys left out.

        :param decode: ``decode(key, text)`` for each value (called after the lock is
            released); ``None`` keeps the text.
        :returns: ``(None, index)`` when there is no such key.
        :raises NotADirectory: ``key`` (or a path element) is a file.
        """
        try:
            node, index = self.read(key, recursive=True, quorum=quorum)
        except KeyNotFound as exc:
            return None, exc.index
        if not node.dir:
            raise NotADirectory("Not a directory", node.key, index)
        return to_dict(node, decode), index

    def put(
        self, key: str, value: str, *, ttl: int | None = None, cond: Cond = ALWAYS
    ) -> tuple[Node, int]:
        """Write a leaf, making missing parent directories; dispatched as etcd's PUT:
        ``cond.exists=False`` creates, ``True`` updates (compare-and-swaps when
        ``cond.value``/``cond.revision`` are given), no ``exists`` with a comparison
        compare-and-swaps, else an unconditional set.

        :raises NodeExists: ``cond.exists`` is ``False`` and the key exists.
        :raises KeyNotFound: an update or compare-and-swap of a missing key.
        :raises CompareFailed: ``cond.value``/``cond.revision`` did not match.
        :raises NotAFile: the key is a directory.
        :raises NotADirectory: a parent is a file.
        :raises RootReadOnly: ``key`` is the root.
        :raises PrevValueRequired: ``cond.value`` is ``""`` (etcd cannot compare with it).
        :raises ValueError, TypeError: an invalid ``ttl``.
        """
        return self._write(key, value, ttl, cond, is_dir=False)

    def make_dir(
        self, key: str, *, ttl: int | None = None, cond: Cond = ALWAYS
    ) -> tuple[Node, int]:
        """Make a directory (``cond.exists=False``: it must not exist; ``True``: update an
        existing one's TTL). Without a condition it replaces a file, not a directory.

        :raises NodeExists: ``cond.exists`` is ``False`` and the key exists.
        :raises NotAFile: the key is a directory already (no condition).
        :raises KeyNotFound, NotADirectory, RootReadOnly: as :meth:`put`.
        """
        return self._write(key, "", ttl, cond, is_dir=True)

    def delete(self, key: str, *, recursive: bool = False, cond: Cond = ALWAYS) -> int:
        """Delete a key (``recursive``: a directory with everything below it); with
        ``cond.value``/``cond.revision``, a compare-and-delete of a file.

        :returns: the index of the deletion.
        :raises KeyNotFound: no such key.
        :raises NotAFile: a directory without ``recursive``, or a compare-and-delete of one.
        :raises CompareFailed: the condition did not hold.
        :raises RootReadOnly: ``key`` is the root.
        """
        parts = parts_of(key)
        with self._cond:
            self._expire()
            self._writable(parts)
            entry = self._get(parts)
            compare = cond.value is not None or bool(cond.revision)
            if entry.children is not None and (compare or not recursive):
                raise NotAFile("Not a file", entry.key, self._index)
            if compare:
                self._compare(entry, cond)
            self._remove(entry, parts, "compareAndDelete" if compare else "delete")
            return self._index

    def append(self, dir_key: str, value: str, *, ttl: int | None = None) -> tuple[Node, int]:
        """A new file ``<dir_key>/<20-digit index>`` (the index of its creation, so names
        sort in creation order), making the directory if missing.

        :raises NotADirectory: ``dir_key`` (or a parent) is a file.
        :raises ValueError, TypeError: an invalid ``ttl``.
        """
        if ttl is not None:
            check_ttl(ttl)
        parts = parts_of(dir_key)
        with self._cond:
            self._expire()
            name = f"{self._index + 1:020d}"
            return self._create([*parts, name], value, ttl, is_dir=False, replace=False)

    def refresh(self, key: str, ttl: int) -> tuple[Node, int]:
        """Reset a key's TTL, keeping its value and ``createdIndex``; the index rises but no
        change is sent (etcd's ``refresh=true``).

        :raises KeyNotFound: no such key (it may have expired).
        :raises ValueError, TypeError: an invalid ``ttl``.
        """
        check_ttl(ttl)
        parts = parts_of(key)
        with self._cond:
            self._expire()
            self._writable(parts)
            entry = self._get(parts)
            entry.modified = self._index + 1
            self._ttls.set(entry, ttl)
            self._index += 1
            self._cond.notify_all()  # streams report the new index as progress
            return self._node(entry), self._index

    def current_index(self, key: str) -> int:
        """The store's current index (after expiring what is due)."""
        with self._cond:
            self._expire()
            return self._index

    def changes(
        self,
        key: str,
        *,
        after: int,
        recursive: bool = True,
        idle_timeout: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> MemoryChangeStream:
        """The changes below ``key`` with an index above ``after`` (see
        :class:`MemoryChangeStream`). ``on_error`` is never called: nothing fails here."""
        return MemoryChangeStream(self, key, after=after, recursive=recursive,
                                  idle_timeout=idle_timeout)

    def close(self) -> None:
        """Nothing to release: the data stays (other maps may share the backend)."""

    def expire(self) -> int:
        """Expire every key whose TTL ran out by ``timer`` now (each operation does it
        first anyway; call it after advancing a fake clock to wake change streams).

        :returns: how many nodes expired.
        """
        with self._cond:
            before = self._index
            self._expire()
            return self._index - before

    def __repr__(self) -> str:
        return f"<MemoryBackend index={self._index}>"

    # ------------------------------------------------------------------ writes (lock held)

    def _write(
        self, key: str, value: str, ttl: int | None, cond: Cond, *, is_dir: bool
    ) -> tuple[Node, int]:
        if ttl is not None:
            check_ttl(ttl)
        if cond.value == "":
            raise PrevValueRequired("PrevValue is Required in POST form", key, 0)
        parts = parts_of(key)
        compare = cond.value is not None or bool(cond.revision)
        with self._cond:
            self._expire()
            self._writable(parts)
            if cond.exists is False:
                return self._create(parts, value, ttl, is_dir=is_dir, replace=False)
            if compare:
                return self._swap(parts, value, ttl, cond)
            if cond.exists:
                return self._update(parts, value, ttl)
            return self._create(parts, value, ttl, is_dir=is_dir, replace=True)

    def _create(
        self, parts: list[str], value: str, ttl: int | None, *, is_dir: bool, replace: bool
    ) -> tuple[Node, int]:
        index = self._index + 1
        parent = self._make_parents(parts[:-1], index)
        assert parent.children is not None
        key = key_of(parts)
        existing = parent.children.get(parts[-1])
        prev = None
        if existing is not None:
            if not replace:
                raise NodeExists("Key already exists", key, self._index)
            if existing.children is not None:
                raise NotAFile("Not a file", key, self._index)
            prev = self._node(existing)
        entry = Entry(key, None if is_dir else value, is_dir, index)
        self._ttls.set(entry, ttl)
        parent.children[parts[-1]] = entry
        return self._commit("set" if replace else "create", self._node(entry), prev)

    def _update(self, parts: list[str], value: str, ttl: int | None) -> tuple[Node, int]:
        entry = self._get(parts)
        if entry.children is not None and value:
            raise NotAFile("Not a file", entry.key, self._index)
        prev = self._node(entry)
        self._modify(entry, value, ttl)
        return self._commit("update", self._node(entry), prev)

    def _swap(self, parts: list[str], value: str, ttl: int | None, cond: Cond) -> tuple[Node, int]:
        entry = self._get(parts)
        if entry.children is not None:
            raise NotAFile("Not a file", entry.key, self._index)
        self._compare(entry, cond)
        prev = self._node(entry)
        self._modify(entry, value, ttl)
        return self._commit("compareAndSwap", self._node(entry), prev)

    def _modify(self, entry: Entry, value: str, ttl: int | None) -> None:
        if entry.children is None:
            entry.value = value
        entry.modified = self._index + 1
        self._ttls.set(entry, ttl)  # no ttl: permanent, as every etcd write

    def _compare(self, entry: Entry, cond: Cond) -> None:
        value_ok = cond.value is None or entry.value == cond.value
        index_ok = not cond.revision or entry.modified == cond.revision
        if value_ok and index_ok:
            return
        value_cause = f"[{cond.value} != {entry.value}]"
        index_cause = f"[{cond.revision} != {entry.modified}]"
        cause = (index_cause if value_ok else value_cause if index_ok
                 else f"{value_cause} {index_cause}")
        raise CompareFailed("Compare failed", cause, self._index)

    def _commit(self, action: str, node: Node, prev: Node | None) -> tuple[Node, int]:
        """Record one change at the next index and wake the change streams."""
        self._index += 1
        self._history.record(Change(action, node, prev, self._index))
        self._cond.notify_all()
        return node, self._index

    # ------------------------------------------------------------------ TTLs (lock held)

    def _expire(self) -> None:
        for entry in self._ttls.due():
            parts = parts_of(entry.key)
            if self._lookup(parts) is entry:  # not removed meanwhile
                self._remove(entry, parts, "expire")

    def _remove(self, entry: Entry, parts: list[str], action: str) -> None:
        """Take ``entry`` out of the tree and record its removal (``action``)."""
        prev = self._node(entry)
        self._detach(parts)
        node = Node(entry.key, dir=entry.children is not None,
                    created_index=entry.created, modified_index=self._index + 1)
        self._commit(action, node, prev)

    # ------------------------------------------------------------------ the tree (lock held)

    def _get(self, parts: list[str]) -> Entry:
        return walk(self._root, parts, self._index)

    def _lookup(self, parts: list[str]) -> Entry | None:
        try:
            return self._get(parts)
        except (KeyNotFound, NotADirectory):
            return None

    def _make_parents(self, parts: list[str], index: int) -> Entry:
        return make_parents(self._root, parts, index, self._index)

    def _detach(self, parts: list[str]) -> None:
        parent = self._get(parts[:-1])
        assert parent.children is not None
        del parent.children[parts[-1]]

    def _writable(self, parts: list[str]) -> None:
        if not parts:
            raise RootReadOnly("Root is read only", "/", self._index)

    def _node(self, entry: Entry, *, children: bool = False, recursive: bool = False) -> Node:
        return node_of(entry, self._ttls.timer(), children=children, recursive=recursive)

    # ------------------------------------------------------------------ change streams

    def wait_changes(
        self, stream: MemoryChangeStream, after: int
    ) -> tuple[list[Change], int] | None:
        """Block until the index passes ``after`` (or the stream closes: ``None``); then the
        changes above ``after`` that ``stream`` wants, and the index they run to.

        :raises HistoryLost: changes above ``after`` were dropped from the history.
        """
        with self._cond:
            while True:
                if stream.closed:
                    return None
                self._expire()
                self._history.check(after)
                if self._index > after:
                    break
                due = self._ttls.next_in()
                self._cond.wait(None if due is None else min(due, stream.idle_timeout))
            return self._history.after(after, stream.wants), self._index

    def wake(self) -> None:
        """Wake every waiting change stream (after a write, a close or a nudge)."""
        with self._cond:
            self._cond.notify_all()
