"""The core of :class:`etcdmap.EtcdMap`: settings, the I/O funnel, value encoding, tree writes.

Split from :mod:`etcdmap.mapping.emap` by responsibility: this module talks to the map's
:class:`~etcdmap.backend.Backend` (never to a client or HTTP); :mod:`etcdmap.mapping.emap_ops` adds
the etcd helpers (CAS, TTL, ...) and :mod:`etcdmap.mapping.emap` the
:class:`~collections.abc.MutableMapping` protocol. Every read goes through
:meth:`MapBase._get_node` and every write through :meth:`MapBase._put`, :meth:`MapBase._mkdir`,
:meth:`MapBase._delete`, :meth:`MapBase._post` or :meth:`MapBase._refresh`, so a cache (or
instrumentation) has six methods to hook; views are made by :meth:`MapBase._view` only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar

from etcdmap.backend import (
    ALWAYS,
    Backend,
    Cond,
    SupportsBackend,
    SupportsTreeWrites,
    TreeWrite,
)
from etcdmap.errors import DecodeError, KeyNotFound, MapClosed, NotADirectory, NotAFile
from etcdmap.mapping import paths as _mappath
from etcdmap.mapping.cache import ReadCache
from etcdmap.mapping.codecs import Codec, codec_name, decodes_verbatim, is_text, resolve
from etcdmap.models import Node

__all__ = ["EncodedTree", "MapBase"]

_M = TypeVar("_M", bound="MapBase")


class _Lifetime:
    """Whether a map is closed; one instance is shared by a map and all its views."""

    __slots__ = ("closed",)

    def __init__(self) -> None:
        self.closed = False


@dataclass(frozen=True, slots=True)
class EncodedTree:
    """A mapping value, validated and encoded: ``(relative path, text or None for a dir)``."""

    entries: tuple[tuple[str, str | None], ...]


class MapBase:
    """Settings and I/O of an :class:`etcdmap.EtcdMap` (see there for the parameters).

    Thread-safety: no state but the settings, the (locked) cache and the last request's index;
    safe to share.
    """

    def __init__(
        self,
        client: SupportsBackend | Backend,
        path: str = "/",
        *,
        codec: Codec | str | None = None,
        quorum: bool = False,
        cache: MutableMapping[str, Any] | ReadCache | None = None,
        owns_client: bool = False,
    ) -> None:
        self._backend: Backend = client if isinstance(client, Backend) else client.backend
        self._owner = owns_client  # close() closes the client; never true for a view
        self._is_view = False
        self._life = _Lifetime()  # shared with the views: a closed map's views refuse too
        self._path = _mappath.normalize_path(path)
        self._codec = resolve(codec)
        self._quorum = quorum
        self._index = 0
        # Read-through cache of leaf nodes (etcdmap.cache), shared by nested views; quorum
        # maps bypass it.
        self._cache: ReadCache | None = None if quorum else ReadCache.wrap(cache)

    # ------------------------------------------------------------------ properties

    @property
    def path(self) -> str:
        """The absolute directory path, normalised (``"/config"``, ``"/"``)."""
        return self._path

    @property
    def client(self) -> Any:
        """The client this map talks through (:class:`etcdmap.Client` on v2)."""
        return self._backend.client

    @property
    def backend(self) -> Backend:
        """The store this map talks to (see :mod:`etcdmap.backend`)."""
        return self._backend

    @property
    def codec(self) -> Codec:
        """The value codec."""
        return self._codec

    @property
    def quorum(self) -> bool:
        """Whether reads are quorum (linearizable) reads."""
        return self._quorum

    @property
    def index(self) -> int:
        """The etcd index (``X-Etcd-Index``) of this map's last read or write; 0 before any.

        A read that found nothing records the index etcd reported with the error. Watch from
        ``index + 1`` to see every change after that read.
        """
        return self._index

    # ------------------------------------------------------------------ the I/O funnel

    def _get_node(self, key: str, *, recursive: bool = False, fresh: bool = False) -> Node:
        """Read an absolute key, children sorted; records :attr:`index`. Every read is this.

        ``fresh=True`` skips any cached answer: the conditional writes (pop, CAS) and the
        TTL/node reads need the server's current ``modifiedIndex`` and ``ttl``.

        :raises KeyNotFound: no such key.
        """
        cache = self._cache
        if cache is not None and not recursive and not fresh:
            hit, cached = cache.lookup(key)
            if hit:
                return cached  # type: ignore[no-any-return]
        node = self._read(key, recursive)
        if cache is not None and not node.dir:
            cache.store(key, node.modified_index, node)
        return node

    def _read(self, key: str, recursive: bool) -> Node:
        """One read; records :attr:`index`. Read-your-writes across failover: a member whose
        index is behind what this map already saw (it lags after a restart or a partition) is
        not believed: the read is repeated through raft (``quorum``).

        :raises KeyNotFound: no such key.
        """
        self._check_open()
        seen = self._index
        quorum = self._quorum
        while True:
            try:
                node, index = self._backend.read(key, recursive=recursive, quorum=quorum)
            except KeyNotFound as exc:
                if exc.index < seen and not quorum:
                    quorum = True
                    continue
                self._index = exc.index
                raise
            if index < seen and not quorum:
                quorum = True
                continue
            self._index = index
            return node

    def _put(self, key: str, value: str, *, ttl: int | None = None, cond: Cond = ALWAYS) -> Node:
        """Write a leaf; returns the written node."""
        return self._written(key, lambda: self._backend.put(key, value, ttl=ttl, cond=cond))

    def _mkdir(self, key: str, *, ttl: int | None = None, cond: Cond = ALWAYS) -> Node:
        """Make a directory; returns its node."""
        return self._written(key, lambda: self._backend.make_dir(key, ttl=ttl, cond=cond))

    def _delete(self, key: str, *, recursive: bool = False, cond: Cond = ALWAYS) -> None:
        """Delete an absolute key (``recursive``: with everything below)."""
        self._check_open()
        if self._cache is None:
            self._index = self._backend.delete(key, recursive=recursive, cond=cond)
            return
        with self._cache.guard(key):
            self._index = self._backend.delete(key, recursive=recursive, cond=cond)
        self._cache.forget_tree(key, self._index)

    def _post(self, key: str, value: str, ttl: int | None) -> Node:
        """A new in-order key in an absolute directory."""
        self._check_open()
        node, self._index = self._backend.append(key, value, ttl=ttl)
        return node

    def _refresh(self, key: str, ttl: int) -> Node:
        """Refresh a TTL (idempotent, so the client may retry it on another member)."""
        return self._written(key, lambda: self._backend.refresh(key, ttl))

    def _written(self, key: str, write: Callable[[], tuple[Node, int]]) -> Node:
        """Run one write under the cache's guard for ``key``; record its index and node."""
        self._check_open()
        if self._cache is None:
            node, self._index = write()
            return node
        with self._cache.guard(key):
            node, self._index = write()
        self._cache.written(key, node)
        return node

    # ------------------------------------------------------------------ helpers

    def _check_open(self) -> None:
        """Refuse to talk to the store once the map (or the map this view belongs to) closed.

        :raises MapClosed: it did.
        """
        if self._life.closed:
            raise MapClosed(
                f"this map of {self._path!r} is closed (close() or the end of its with block): "
                "make a new one, e.g. with etcdmap.connect()"
            )

    def _key(self, key: object) -> str:
        """Validate a mapping key and return its absolute etcd key."""
        return _mappath.join(self._path, _mappath.validate_key(key))

    def _view(self: _M, path: str) -> _M:
        """A map over ``path`` sharing this map's client and settings. The one place views
        are made: it copies ``__dict__``, so settings added by features carry over."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._path = path
        view._index = 0
        view._owner = False
        view._is_view = True
        return view

    def _decode(self, node: Node) -> Any:
        text = node.value if node.value is not None else ""
        try:
            return self._codec.decode(text)
        except Exception as exc:  # any codec failure: name the key (translation point)
            raise DecodeError(node.key, codec_name(self._codec), str(exc)) from exc

    def _encode(self, key: str, value: Any) -> str:
        try:
            text = self._codec.encode(value)
        except TypeError as exc:
            raise TypeError(f"cannot store the value for {key!r}: {exc}") from exc
        except ValueError as exc:
            raise ValueError(f"cannot store the value for {key!r}: {exc}") from exc
        if not isinstance(text, str):
            raise TypeError(f"codec {codec_name(self._codec)!r} returned {type(text).__name__}")
        if not is_text(text):
            raise ValueError(f"cannot store the value for {key!r}: it is not valid Unicode text "
                             "(a lone surrogate)")
        return text

    def _prepare(self, key: str, value: Any) -> str | EncodedTree:
        """Encode a value (a mapping: the whole tree) before anything is written."""
        if not isinstance(value, Mapping):
            return self._encode(key, value)
        entries: list[tuple[str, str | None]] = []
        for segments, leaf in _mappath.walk_tree(_mappath.plain(value)):
            relative = "/".join(segments)
            if isinstance(leaf, Mapping):
                entries.append((relative, None))
            else:
                entries.append((relative, self._encode(_mappath.join(key, relative), leaf)))
        return EncodedTree(tuple(entries))

    def _value_of(self, key: str, node: Node) -> Any:
        return self._view(key) if node.dir else self._decode(node)

    def _listing(self, *, recursive: bool = False) -> Node | None:
        """The map's own directory node (one GET), or ``None`` when it does not exist.

        :raises NotADirectory: the map's path is a file.
        """
        try:
            node = self._get_node(self._path, recursive=recursive)
        except KeyNotFound:
            return None
        if not node.dir:
            raise NotADirectory("Not a directory", self._path, self._index)
        return node

    def _write(self, key: str, prepared: str | EncodedTree, *, ttl: int | None, create: bool) -> Node:
        """Write a prepared value: a leaf with one PUT; a tree with a mkdir (carrying ``ttl``)
        then one PUT per key. ``create``: the first write must create the key (NodeExists)."""
        if isinstance(prepared, str):
            if create:
                return self._put(key, prepared, ttl=ttl, cond=Cond(exists=False))
            try:
                return self._put(key, prepared, ttl=ttl)
            except NotAFile:  # a directory is there: replace it, as a dict would
                if self._atomic_trees():
                    index = self._write_trees([TreeWrite(key, prepared)], ttl=ttl)
                    return Node(key, prepared, False, (), index, index)
                self._remove(key)
                return self._put(key, prepared, ttl=ttl)
        if self._atomic_trees():
            index = self._write_trees([TreeWrite(key, None, prepared.entries)], ttl=ttl,
                                      create=create)
            return Node(key, None, True, (), index, index)
        if not create:
            self._remove(key)
        top = self._mkdir(key, ttl=ttl, cond=Cond(exists=False) if create else Cond())
        for relative, text in prepared.entries:
            sub = _mappath.join(key, relative)
            if text is None:
                self._mkdir(sub)
            else:
                self._put(sub, text)
        return top

    def _atomic_trees(self) -> bool:
        """Whether the backend writes several keys in one atomic step (v3's txn)."""
        return "txn" in self._backend.capabilities and hasattr(self._backend, "write_trees")

    def _write_trees(self, writes: list[TreeWrite], *, ttl: Any = None,
                     create: bool = False) -> int:
        """Replace several subtrees in one step (:class:`~etcdmap.backend.SupportsTreeWrites`);
        records and returns the index. Cached entries below the keys are dropped."""
        self._check_open()
        backend: SupportsTreeWrites = self._backend  # type: ignore[assignment]
        try:
            self._index = backend.write_trees(writes, ttl=ttl, create=create)
        finally:
            if self._cache is not None:
                for w in writes:
                    self._cache.forget_tree(w.key)
        return self._index

    def _remove(self, key: str) -> None:
        """Delete a key or subtree; a missing key is fine."""
        with contextlib.suppress(KeyNotFound):
            self._delete(key, recursive=True)

    def copy(self) -> dict[str, Any]:
        """A plain nested ``dict`` snapshot, like ``dict.copy()`` (the same as :meth:`to_dict`:
        one recursive GET). Thread-safe.

        :returns: ``{}`` when the directory does not exist.
        :raises DecodeError: a stored value cannot be decoded.
        :raises NotADirectory: the map's path is a file.
        """
        return self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """The whole subtree as plain nested dicts, from one recursive GET (a snapshot).

        Hidden keys are not included (etcd does not list them).

        :returns: ``{}`` when the directory does not exist.
        :raises DecodeError: a stored value cannot be decoded.
        :raises NotADirectory: the map's path is a file.
        """
        self._check_open()
        decode = (None if decodes_verbatim(self._codec, self._backend.capabilities)
                  else self._decode_text)
        seen = self._index
        tree, index = self._backend.read_tree(self._path, decode, quorum=self._quorum)
        if index < seen and not self._quorum:  # a lagging member: see _read
            tree, index = self._backend.read_tree(self._path, decode, quorum=True)
        self._index = index
        return {} if tree is None else tree

    def _decode_text(self, key: str, text: str) -> Any:
        """:meth:`_decode` for a raw value (the bulk-read path)."""
        try:
            return self._codec.decode(text)
        except Exception as exc:  # any codec failure: name the key (translation point)
            raise DecodeError(key, codec_name(self._codec), str(exc)) from exc
