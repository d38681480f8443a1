"""The nodes of :class:`~etcdmap.mapping.memory.MemoryBackend`'s key space, their TTLs
(:class:`Expiries`), and how they read back as :class:`~etcdmap.models.Node` s (pure data; the
backend's lock guards them)."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from etcdmap.errors import KeyNotFound, NotADirectory
from etcdmap.models import Node

__all__ = ["Entry", "Expiries", "key_of", "make_parents", "node_of", "parts_of", "to_dict", "walk"]


class Entry:
    """One node of the store (``children is None``: a file)."""

    __slots__ = ("children", "created", "expire_at", "key", "modified", "value")

    def __init__(self, key: str, value: str | None, is_dir: bool, index: int) -> None:
        self.key = key
        self.value = value
        self.children: dict[str, Entry] | None = {} if is_dir else None
        self.created = index
        self.modified = index
        self.expire_at: float | None = None



class Expiries:
    """When the entries with a TTL expire, on the clock ``timer`` (seconds): a heap of
    ``(expire_at, seq, entry)``, earliest first; an entry whose TTL changed since is skipped.

    :param timer: the TTL clock.
    """

    def __init__(self, timer: Callable[[], float]) -> None:
        self.timer = timer
        self._heap: list[tuple[float, int, Entry]] = []
        self._seq = itertools.count()

    def set(self, entry: Entry, ttl: int | None) -> None:
        """Give ``entry`` a TTL of ``ttl`` seconds from now (``None``: permanent)."""
        if ttl is None:
            entry.expire_at = None
            return
        entry.expire_at = self.timer() + int(ttl)
        heapq.heappush(self._heap, (entry.expire_at, next(self._seq), entry))

    def due(self) -> Iterator[Entry]:
        """The entries whose TTL ran out by now, earliest first (each taken off the heap)."""
        if not self._heap:
            return
        now = self.timer()
        while self._heap and self._heap[0][0] <= now:
            at, _, entry = heapq.heappop(self._heap)
            if entry.expire_at == at:
                yield entry

    def next_in(self) -> float | None:
        """Seconds until the earliest TTL runs out (``None``: no TTL)."""
        return None if not self._heap else max(0.0, self._heap[0][0] - self.timer())


def node_of(entry: Entry, now: float, *, children: bool = False, recursive: bool = False) -> Node:
    """``entry`` as a :class:`~etcdmap.models.Node` (``children``: list a directory's,
    hidden ones left out; ``recursive``: the whole subtree); ``now``: the TTL clock's time."""
    ttl: int | None = None
    expiration: datetime | None = None
    if entry.expire_at is not None:
        left = entry.expire_at - now
        ttl = max(0, math.ceil(left))
        expiration = datetime.now(timezone.utc) + timedelta(seconds=left)
    nodes: tuple[Node, ...] = ()
    if entry.children is not None and children:
        nodes = tuple(
            node_of(entry.children[name], now, children=recursive, recursive=recursive)
            for name in sorted(entry.children) if not name.startswith("_")
        )
    return Node(entry.key, entry.value, entry.children is not None, nodes, entry.created,
                entry.modified, ttl, expiration)


def parts_of(key: str) -> list[str]:
    """The path elements of a key (``\"/\"``: none)."""
    return [part for part in key.split("/") if part]


def key_of(parts: list[str]) -> str:
    """The absolute key of path elements (none: ``\"\"``, the root)."""
    return "".join(f"/{part}" for part in parts)


def to_dict(node: Node, decode: Callable[[str, str], Any] | None) -> dict[str, Any]:
    """A directory node's subtree as plain nested dicts (``decode(key, text)`` per value)."""
    out: dict[str, Any] = {}
    for child in node.nodes:
        if child.dir:
            out[child.name] = to_dict(child, decode)
        else:
            text = child.value or ""
            out[child.name] = text if decode is None else decode(child.key, text)
    return out


def walk(root: Entry, parts: list[str], index: int) -> Entry:
    """The entry at ``parts`` below ``root``.

    :param index: the store's index, for the errors.
    :raises KeyNotFound: no such key; :raises NotADirectory: a file on the way.
    """
    entry = root
    for i, name in enumerate(parts):
        if entry.children is None:
            raise NotADirectory("Not a directory", entry.key, index)
        child = entry.children.get(name)
        if child is None:
            raise KeyNotFound("Key not found", key_of(parts[: i + 1]), index)
        entry = child
    return entry


def make_parents(root: Entry, parts: list[str], created: int, index: int) -> Entry:
    """The directory at ``parts``, made (with index ``created``) where missing.

    :raises NotADirectory: a file on the way (``index``: the store's index).
    """
    entry = root
    for i, name in enumerate(parts):
        assert entry.children is not None
        child = entry.children.get(name)
        if child is None:
            child = Entry(key_of(parts[: i + 1]), None, True, created)
            entry.children[name] = child
        elif child.children is None:
            raise NotADirectory("Not a directory", child.key, index)
        entry = child
    return entry
