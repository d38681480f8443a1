"""The read-through cache of :class:`~etcdmap.mapping.EtcdMap`.

``EtcdMap(client, "/config", cache=cachetools.TTLCache(maxsize=1024, ttl=5))`` keeps leaf
values it read in the given :class:`~collections.abc.MutableMapping`, keyed by the **absolute**
etcd key, so nested views of the same map share entries. A read may therefore be up to the
cache's TTL old (bounded staleness) when *another* client wrote the key; writes through the
same map (or any map sharing the cache) update or invalidate the entry at once, so the next
read sees them. Maps created with ``quorum=True`` bypass the cache.

For a copy that is never stale, use the watch-coherent :meth:`~etcdmap.mapping.EtcdMap.mirror`.

Entries remember the etcd index they come from: an answer that is older than what the cache
already knows (a slow read racing a write or a delete) is not stored, so a write is never
overwritten by a stale read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etcdmap.models import Node

__all__ = ["ReadCache"]

_GONE = object()  # tombstone value: the key was deleted at the entry's index


class ReadCache:
    """A lock-guarded front of any ``MutableMapping`` used as a cache.

    :param cache: the storage, e.g. ``cachetools.TTLCache(maxsize, ttl)`` or ``LRUCache``, or
        a plain ``dict`` (no eviction). It is owned by this wrapper from now on: do not use it
        directly from other threads.

    Thread-safe: every operation holds one lock (cachetools caches are not thread-safe).
    """

    __slots__ = ("_cache", "_lock")

    def __init__(self, cache: MutableMapping[str, Any]) -> None:
        if not isinstance(cache, MutableMapping):
            raise TypeError(
                f"cache must be a MutableMapping such as cachetools.TTLCache, not "
                f"{type(cache).__name__}"
            )
        self._cache: MutableMapping[str, tuple[int, Any]] = cache
        self._lock = threading.Lock()

    @classmethod
    def wrap(cls, cache: ReadCache | MutableMapping[str, Any] | None) -> ReadCache | None:
        """``None`` stays ``None``, a :class:`ReadCache` is shared, a mapping gets wrapped."""
        if cache is None or isinstance(cache, ReadCache):
            return cache
        return cls(cache)

    @property
    def storage(self) -> MutableMapping[str, Any]:
        """The wrapped mapping (for inspection; hold no reference across threads)."""
        return self._cache

    def lookup(self, path: str) -> tuple[bool, Any]:
        """The cached value of ``path``.

        :param path: the absolute etcd key.
        :returns: ``(True, value)`` on a hit, ``(False, None)`` on a miss (also after a delete).
        """
        with self._lock:
            try:
                entry = self._cache[path]
            except KeyError:
                return False, None
        if entry[1] is _GONE:
            return False, None
        return True, entry[1]

    def store(self, path: str, index: int, value: Any) -> bool:
        """Remember ``value`` for ``path`` unless the cache knows a newer state.

        :param path: the absolute etcd key.
        :param index: the node's ``modifiedIndex`` (the write's index for a write).
        :param value: what to cache (the map stores etcd's raw string).
        :returns: whether it was stored.
        """
        with self._lock:
            try:
                known = self._cache[path][0]
            except KeyError:
                known = -1
            if index < known:
                return False
            try:
                self._cache[path] = (index, value)
            except ValueError:  # cachetools: an item larger than maxsize
                return False
        return True

    def forget(self, path: str, index: int | None = None) -> None:
        """Drop ``path``; with ``index`` (a delete's index) also refuse older answers later.

        :param path: the absolute etcd key.
        :param index: the index of the delete, or ``None`` to just drop the entry.
        """
        with self._lock:
            if index is None:
                self._cache.pop(path, None)
            else:
                try:
                    self._cache[path] = (index, _GONE)
                except ValueError:
                    self._cache.pop(path, None)

    def forget_tree(self, path: str, index: int | None = None) -> None:
        """Drop ``path`` and every cached key below it (a directory was deleted or replaced).

        :param path: the absolute etcd key of the directory.
        :param index: the index of the delete (see :meth:`forget`).
        """
        prefix = path.rstrip("/") + "/"
        with self._lock:
            below = [k for k in list(self._cache) if k.startswith(prefix)]
            for key in below:
                self._cache.pop(key, None)
        self.forget(path, index)

    def written(self, path: str, node: Node) -> None:
        """A write through the map succeeded: cache the new leaf, or drop a new directory's
        path and everything below it.

        :param path: the absolute etcd key written.
        :param node: the node etcd returned for the write.
        """
        if node.dir:
            self.forget_tree(path)
        else:
            self.store(path, node.modified_index, node)

    @contextmanager
    def guard(self, path: str) -> Iterator[None]:
        """Drop ``path`` if the block raises: a failed or ambiguous write (or a failed
        compare) means the cached value may be wrong, so the next read asks etcd."""
        try:
            yield
        except BaseException:
            self.forget(path)
            raise

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)

    def __repr__(self) -> str:
        return f"ReadCache({type(self._cache).__name__}, {len(self)} entries)"
