"""``EtcdMap``: a :class:`~collections.abc.MutableMapping` over an etcd directory (v2 or v3).

::

    m = EtcdMap(client, "/config")          # or etcdmap.connect("http://127.0.0.1:2379", "/config")
    m["db"] = {"host": "h", "port": "5432"} # a mapping becomes a directory tree
    m["db"]["host"]                         # a directory reads back as a live nested EtcdMap
    m.to_dict()                             # the whole subtree, one recursive GET

The map talks to a store through the :class:`~etcdmap.backend.Backend` protocol: etcd's v2
API (:class:`etcdmap.Client`), its v3 API (:class:`etcdmap.v3.Client`, through
:class:`~etcdmap.v3.backend.V3Backend`, which keeps a v2-like tree of keys and marker keys), or
:class:`~etcdmap.MemoryBackend`; :func:`etcdmap.connect` picks v3 wherever the server serves it.
:class:`etcdmap.aio.AsyncEtcdMap` is the same map for asyncio.

Semantics, the same on every store (they are etcd v2's: etcd-io/etcd
release-3.4:Documentation/v2/api.md; on v3 etcdmap keeps them, see
:mod:`etcdmap.v3.backend`):

* **Keys** are single path segments (``str``): ``/``, ``""``, ``"."``, ``".."`` and control
  characters raise :class:`ValueError`, non-``str`` keys :class:`TypeError` (``in`` answers
  ``False`` instead). ``? # % +``, spaces and non-ASCII work. Use ``m["a"]["b"]`` or
  ``EtcdMap(client, "/path/to/dir")`` to reach deeper keys.
* **Values** go through the map's codec (:mod:`etcdmap.mapping.codecs`): by default only ``str``.
  Assigning a :class:`~collections.abc.Mapping` (with any codec) creates a directory tree:
  the old key or subtree is deleted first, then the tree is written, one key per request;
  assigning a leaf over a directory replaces the directory, as a dict would. Reading a
  directory gives a *live* :class:`EtcdMap` view (writes through it persist).
* **Multi-key writes are not atomic on v2** (it has no transactions; on v3 assigning a
  mapping, :meth:`~EtcdMap.update` and :meth:`~EtcdMap.clear` are one txn each, see
  :mod:`etcdmap.v3.batch`): assigning a mapping,
  :meth:`~EtcdMap.update`, :meth:`~EtcdMap.clear` and popping a directory can be seen half
  done by concurrent readers, or be left half done by a failure. Every key and value is
  validated and encoded *before* the first write, so bad input never leaves a partial write.
  :meth:`~EtcdMap.setdefault`, :meth:`~EtcdMap.pop`/:meth:`~EtcdMap.popitem` of a leaf, the
  ``compare_and_*`` helpers, :meth:`~EtcdMap.create` and :meth:`~EtcdMap.replace` are
  atomic conditional writes.
* **Hidden keys** (a leading ``_``) can be read, written and deleted by name, and
  ``"_k" in m`` finds them, but etcd v2 (and etcdmap on v3) leaves them out of listings: they never appear in
  iteration, ``len()``, the views, :meth:`~EtcdMap.to_dict`, ``==`` or
  :meth:`~EtcdMap.clear`. Use them for bookkeeping next to user data (e.g. ``_lock``).
* A map over a **directory that does not exist** yet is empty; the first write creates it. A
  map whose path is a *file* raises :class:`~etcdmap.errors.NotADirectory` when listed.
* **Errors**: a missing key raises :class:`~etcdmap.errors.KeyNotFound` (a
  :class:`KeyError`); a write below a file raises :class:`~etcdmap.errors.NotADirectory`; a
  stored value the codec cannot decode raises :class:`~etcdmap.errors.DecodeError` naming
  the key.

Thread-safety: an ``EtcdMap`` keeps no state but its settings, its optional cache (locked)
and :attr:`EtcdMap.index` (the index of its last request), so it is safe to share between
threads, like its clients. With several threads, :attr:`~EtcdMap.index` is that of whichever
request finished last (v2: the etcd index; v3: the store revision).
"""

from __future__ import annotations

from collections.abc import (
    ItemsView,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    ValuesView,
)
from typing import Any

from etcdmap._closing import Closing
from etcdmap.backend import Cond, TreeWrite
from etcdmap.errors import CompareFailed, KeyNotFound, NodeExists, NotAFile
from etcdmap.mapping import paths as _mappath
from etcdmap.mapping.codecs import codec_name
from etcdmap.mapping.emap_core import EncodedTree
from etcdmap.mapping.emap_ops import MapOps
from etcdmap.models import Node

__all__ = ["EtcdItemsView", "EtcdMap", "EtcdValuesView"]

_MISSING: Any = object()


class EtcdMap(MapOps, MutableMapping[str, Any], Closing):
    """A dict-like, live view of the etcd directory ``path``, on v2 or v3 (see the module
    docstring).

    Besides the :class:`~collections.abc.MutableMapping` API: :meth:`to_dict`, :meth:`node`,
    :meth:`set`, :meth:`create`, :meth:`replace`, :meth:`compare_and_swap`,
    :meth:`compare_and_delete`, :meth:`append`, :meth:`mkdir`, :meth:`ttl`, :meth:`refresh`,
    :meth:`keep_alive`, and the properties :attr:`path`, :attr:`client`, :attr:`codec`,
    :attr:`quorum`, :attr:`index`.

    :param client: the :class:`~etcdmap.v2.client.Client` or :class:`etcdmap.v3.Client` to use,
        or a store (:class:`~etcdmap.backend.Backend`, e.g. :class:`~etcdmap.MemoryBackend`).
    :param path: the directory, e.g. ``"/config"`` (``"/"``: the whole key space).
    :param codec: a :class:`~etcdmap.mapping.codecs.Codec` or a name (``"str"``, ``"json"``,
        ``"bytes"``); default: ``str`` values only.
    :param quorum: make every v2 read linearizable (``quorum=true``, through raft; slower; v3
        reads always are).
    :param cache: a read-through cache for leaf reads, any ``MutableMapping`` such as
        ``cachetools.TTLCache(maxsize=1024, ttl=5)``: reads may be up to its TTL stale when
        others write; writes through this map (and its nested views, which share the cache)
        are visible at once. Ignored when ``quorum=True``. See :mod:`etcdmap.mapping.cache`.
    :param owns_client: whether :meth:`close` (and the end of a ``with`` block) closes the
        client too. Whoever makes a client closes it: ``False`` (the default) for a client
        you pass in, which stays open for its other users (maps, watches, mirrors);
        :func:`etcdmap.connect` makes its own client and passes ``True``.
    :raises TypeError: ``path`` is not a ``str``, or ``codec`` is not a codec.
    :raises ValueError: a ``.``, ``..`` or control-character segment in ``path``; an unknown
        codec name.

    Thread-safety: safe to share between threads (see the module docstring).
    """

    # ------------------------------------------------------------------ Mapping

    def __getitem__(self, key: str) -> Any:
        """One GET: a leaf's decoded value, or a live :class:`EtcdMap` view of a directory.

        :raises KeyNotFound: no such key (a :class:`KeyError`).
        :raises DecodeError: the codec cannot decode the stored value.
        :raises TypeError, ValueError: an invalid key.
        """
        abs_key = self._key(key)
        return self._value_of(abs_key, self._get_node(abs_key))

    def __setitem__(self, key: str, value: Any) -> None:
        """Store a value (one PUT), or a mapping as a directory tree (not atomic: the old key
        or subtree is deleted first, then each key is written).

        :raises TypeError, ValueError: an invalid key, or a value the codec refuses (nothing
            is written then).
        :raises NotADirectory: the map's path runs through a file.
        """
        abs_key = self._key(key)
        self._write(abs_key, self._prepare(abs_key, value), ttl=None, create=False)

    def __delitem__(self, key: str) -> None:
        """Delete a key, or a directory with everything below it (one DELETE).

        :raises KeyNotFound: no such key.
        """
        self._delete(self._key(key), recursive=True)

    def __iter__(self) -> Iterator[str]:
        """The names of the direct children, sorted, from one GET (hidden keys excluded).

        It iterates over that snapshot, so changing the map meanwhile is fine (unlike a dict).
        ``list(m)`` also calls ``len()``: one more GET; :meth:`to_dict` reads everything once.
        """
        node = self._listing()
        return iter(sorted(c.name for c in node.nodes) if node else ())

    def __len__(self) -> int:
        """The number of direct (non-hidden) children, from one GET."""
        node = self._listing()
        return len(node.nodes) if node else 0

    def __contains__(self, key: object) -> bool:
        """One GET, no decoding. Anything that is not a valid key is not contained."""
        try:
            abs_key = self._key(key)
        except (TypeError, ValueError):
            return False
        try:
            self._get_node(abs_key)
        except KeyNotFound:
            return False
        return True

    def items(self) -> EtcdItemsView:
        """A set-like view; iterating it reads every direct child with one GET."""
        return EtcdItemsView(self)

    def values(self) -> EtcdValuesView:
        """A view; iterating it reads every direct child with one GET."""
        return EtcdValuesView(self)

    def _items(self) -> list[tuple[str, Any]]:
        """The direct children as ``(name, value)`` pairs, sorted, from one GET."""
        node = self._listing()
        if node is None:
            return []
        return [
            (c.name, self._value_of(_mappath.join(self._path, c.name), c))
            for c in sorted(node.nodes, key=lambda n: n.name)
        ]

    def __eq__(self, other: object) -> bool:
        """Compare a snapshot (:meth:`to_dict`) with any mapping, nested mappings as dicts."""
        if not isinstance(other, Mapping):
            return NotImplemented
        return self.to_dict() == _mappath.plain(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like dict

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(path={self._path!r}, {self._backend.describe()}, "
            f"api={self._backend.name!r}, codec={codec_name(self._codec)!r})"
        )

    # ------------------------------------------------------------------ MutableMapping,
    # overridden where the inherited read-then-write versions would race or cost N requests.

    def get(self, key: str, default: Any = None) -> Any:
        """``self[key]``, or ``default`` when the key does not exist (one GET)."""
        try:
            return self[key]
        except KeyNotFound:
            return default

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Return ``self[key]``; if it is missing, create it with ``default``, atomically.

        Concurrent callers agree: exactly one creates the key (``prevExist=false``), the others
        read the winner's value. A mapping ``default`` creates its directory atomically and
        its contents one key at a time.

        :returns: the existing value (a view for a directory), or ``default`` (a view if it
            is a mapping).
        :raises TypeError, ValueError: an invalid key, or the codec refuses ``default``
            (checked only when the key is missing).
        """
        abs_key = self._key(key)
        while True:
            try:
                return self._value_of(abs_key, self._get_node(abs_key))
            except KeyNotFound:
                pass
            prepared = self._prepare(abs_key, default)
            try:
                self._write(abs_key, prepared, ttl=None, create=True)
            except NodeExists:
                continue  # another writer won: read its value
            return self._view(abs_key) if isinstance(prepared, EncodedTree) else default

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        """Remove a key and return its value; atomic for a leaf.

        A leaf is removed by compare-and-delete on the ``modifiedIndex`` it was read at, and
        re-read if it changed meanwhile, so concurrent pops never both return one value. A
        directory is read (one recursive GET), then deleted (not atomic) and returned as a
        plain dict.

        :raises KeyNotFound: the key is missing and no ``default`` was given.
        :raises DecodeError: the value cannot be decoded (nothing is deleted then).
        """
        abs_key = self._key(key)
        while True:
            try:
                node = self._get_node(abs_key, fresh=True)
            except KeyNotFound:
                if default is _MISSING:
                    raise
                return default
            taken = self._take(abs_key, node)
            if taken is not _MISSING:
                return taken

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the first ``(key, value)`` in sorted order, atomically as in
        :meth:`pop`. With :meth:`append` keys that is the oldest: a FIFO queue.

        :raises KeyError: the map is empty.
        """
        while True:
            node = self._listing()
            if node is None or not node.nodes:
                raise KeyError(f"popitem(): {self._path} is empty")
            child = min(node.nodes, key=lambda n: n.name)
            taken = self._take(_mappath.join(self._path, child.name), child)
            if taken is not _MISSING:
                return child.name, taken

    def _take(self, key: str, node: Node) -> Any:
        """Delete ``node`` if unchanged: its value, or ``_MISSING`` if another writer was first."""
        if node.dir:
            snapshot = self._view(key).to_dict()
            try:
                self._delete(key, recursive=True)
            except KeyNotFound:
                return _MISSING
            return snapshot
        value = self._decode(node)
        try:
            self._delete(key, cond=Cond(revision=node.modified_index))
        except (CompareFailed, KeyNotFound, NotAFile):
            return _MISSING  # changed, deleted or replaced by a directory since the read
        return value

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        """Like :meth:`dict.update`; an :class:`EtcdMap` source is read with one GET.

        Every key and value is checked and encoded before the first write, so bad input
        writes nothing; the writes themselves are not atomic (one per key).

        :raises TypeError, ValueError: an invalid key or value.
        """
        pairs: Iterable[tuple[Any, Any]]
        if isinstance(other, Mapping):
            pairs = _mappath.plain(other).items() if isinstance(other, EtcdMap) else other.items()
        elif hasattr(other, "keys"):
            pairs = [(k, other[k]) for k in other.keys()]  # noqa: SIM118 - dict.update's protocol
        else:
            pairs = other
        prepared = []
        for key, value in [*pairs, *kwargs.items()]:
            abs_key = self._key(key)
            prepared.append((abs_key, self._prepare(abs_key, value)))
        if self._atomic_trees():
            if prepared:
                self._write_trees([_tree_write(k, v) for k, v in dict(prepared).items()])
            return
        for abs_key, value in prepared:
            self._write(abs_key, value, ttl=None, create=False)

    def clear(self) -> None:
        """Delete every listed child: one GET, then one DELETE each (not atomic). Hidden keys
        and the directory itself (with its TTL) stay."""
        node = self._listing()
        if node is not None and node.nodes and self._atomic_trees():
            self._write_trees([TreeWrite(_mappath.join(self._path, child.name), delete=True)
                               for child in node.nodes])
            return
        for child in node.nodes if node else ():
            self._remove(_mappath.join(self._path, child.name))

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Close the map: afterwards it, and every view of it, raises
        :class:`~etcdmap.errors.MapClosed` when used. The client is closed too only when the
        map owns it (made by :func:`etcdmap.connect`, or ``owns_client=True``); a client
        passed in stays open, with its other maps' watches and mirrors. A view
        (``m["db"]``) owns nothing: closing it (``with m["db"] as db: ...``) does nothing,
        and its parent stays usable. Closing twice is fine.

        The client's own ``close()`` is another matter: it releases the client's connections
        and ends its watches, and the client reconnects if used again (as a
        ``requests.Session`` does), so maps on a client closed by its owner keep working.
        """
        if self._is_view:
            return
        self._life.closed = True
        if self._owner:
            self._owner = False  # close the client once
            self._backend.close()


def _tree_write(key: str, prepared: str | EncodedTree) -> TreeWrite:
    if isinstance(prepared, str):
        return TreeWrite(key, prepared)
    return TreeWrite(key, None, prepared.entries)


class EtcdItemsView(ItemsView[str, Any]):
    """``EtcdMap.items()``: iteration is one GET of the directory (a consistent listing)."""

    def __init__(self, mapping: EtcdMap) -> None:
        super().__init__(mapping)
        self._map = mapping

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self._map._items())


class EtcdValuesView(ValuesView[Any]):
    """``EtcdMap.values()``: iteration is one GET of the directory (a consistent listing)."""

    def __init__(self, mapping: EtcdMap) -> None:
        super().__init__(mapping)
        self._map = mapping

    def __iter__(self) -> Iterator[Any]:
        return iter([value for _, value in self._map._items()])
