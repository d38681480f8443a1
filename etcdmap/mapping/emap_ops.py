"""What :class:`etcdmap.EtcdMap` adds to a dict: conditional writes, TTLs, in-order keys,
keep-alives and locks (single-key operations, atomic on the server), and its live views --
the watch that sends the signals, the mirror, the typed binding.

:class:`MapOps` is a base class of :class:`etcdmap.EtcdMap` (whose module holds the
``MutableMapping`` part) and documented there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from etcdmap._checks import check_ttl
from etcdmap.backend import Cond, HeldLock, SupportsLeaseRefresh
from etcdmap.errors import CompareFailed, DirectoryTTLUnsupported, NotAFile
from etcdmap.mapping import paths as _mappath
from etcdmap.mapping.emap_core import MapBase
from etcdmap.mapping.keepalive import HubOwner, KeepAlive
from etcdmap.mapping.lock import LOCKS_DIR, map_lock
from etcdmap.models import Node

if TYPE_CHECKING:
    from etcdmap.mapping.mirror import Mirror
    from etcdmap.mapping.typed import LiveConfig
    from etcdmap.mapping.watch import Watch

__all__ = ["MapOps"]

_M = TypeVar("_M", bound="MapOps")
_T = TypeVar("_T")


class MapOps(MapBase):
    """CAS, TTL, live views and other etcd-specific helpers (mixed into
    :class:`etcdmap.EtcdMap`).

    Thread-safety: as :class:`etcdmap.EtcdMap` (safe to share).
    """

    def node(self, key: str) -> Node:
        """The raw :class:`~etcdmap.models.Node` of a key (one GET; a directory lists its
        direct children).

        Always read from etcd (never from a ``cache=``), so ``ttl`` and the indexes are current.

        :raises KeyNotFound: no such key.
        """
        return self._get_node(self._key(key), fresh=True)

    def set(self, key: str, value: Any, ttl: int | None = None) -> Node:
        """``self[key] = value`` with an optional TTL (for a mapping: on its directory).

        A write without ``ttl`` makes the key permanent (etcd clears any previous TTL).

        :returns: the written node (for a mapping: the directory's node).
        :raises TypeError, ValueError: an invalid key, value or ``ttl`` (nothing is written).
        """
        abs_key = self._key(key)
        if ttl is not None:
            check_ttl(ttl)
        return self._write(abs_key, self._prepare(abs_key, value), ttl=ttl, create=False)

    def create(self, key: str, value: Any, ttl: int | None = None) -> Node:
        """Create a key that must not exist yet (``prevExist=false``). A mapping creates its
        directory atomically, then the contents one key at a time.

        :returns: the created node.
        :raises NodeExists: the key exists.
        """
        abs_key = self._key(key)
        if ttl is not None:
            check_ttl(ttl)
        return self._write(abs_key, self._prepare(abs_key, value), ttl=ttl, create=True)

    def replace(self, key: str, value: Any, ttl: int | None = None) -> Node:
        """Replace the value of an existing leaf (``prevExist=true``; keeps ``createdIndex``).

        :returns: the updated node.
        :raises KeyNotFound: the key does not exist.
        :raises NotAFile: the key is a directory (etcd 3.4 instead accepts an empty value on
            a directory and only resets its TTL).
        :raises TypeError: ``value`` is a mapping.
        """
        abs_key = self._key(key)
        text = self._encode(abs_key, _leaf(value, "replace"))
        try:
            return self._put(abs_key, text, ttl=ttl, cond=Cond(exists=True))
        except DirectoryTTLUnsupported as exc:  # etcd 3.5's answer to an update of a dir
            raise NotAFile("Not a file", abs_key, exc.index) from exc

    def compare_and_swap(
        self,
        key: str,
        new: Any,
        *,
        prev_value: Any = None,
        prev_index: int | None = None,
        ttl: int | None = None,
    ) -> bool:
        """Write ``new`` only if the current value equals ``prev_value`` (compared as encoded
        text) and/or the current ``modifiedIndex`` equals ``prev_index``.

        ``None`` means "not compared"; to compare with a JSON ``null``, use ``prev_index``.
        Without ``ttl`` the key becomes permanent, as with every etcd write.

        :returns: ``True`` if swapped, ``False`` if the comparison failed.
        :raises ValueError: neither ``prev_value`` nor ``prev_index``, or ``prev_index < 1``.
        :raises KeyNotFound: the key does not exist (CAS never creates one: see :meth:`create`
            and :meth:`~etcdmap.EtcdMap.setdefault`).
        :raises NotAFile: the key is a directory.
        :raises TypeError: ``new`` is a mapping or the codec refuses it.
        """
        abs_key = self._key(key)
        text = self._encode(abs_key, _leaf(new, "compare_and_swap"))
        if ttl is not None:
            check_ttl(ttl)
        cond = self._condition(abs_key, prev_value, prev_index)
        if cond is None:
            return False
        try:
            self._put(abs_key, text, ttl=ttl, cond=cond)
        except CompareFailed:
            return False
        return True

    def compare_and_delete(
        self, key: str, *, prev_value: Any = None, prev_index: int | None = None
    ) -> bool:
        """Delete a leaf only if its value (encoded) and/or ``modifiedIndex`` match.

        :returns: ``True`` if deleted, ``False`` if the comparison failed.
        :raises ValueError: neither ``prev_value`` nor ``prev_index``, or ``prev_index < 1``.
        :raises KeyNotFound: the key does not exist.
        :raises NotAFile: the key is a directory.
        """
        abs_key = self._key(key)
        cond = self._condition(abs_key, prev_value, prev_index)
        if cond is None:
            return False
        try:
            self._delete(abs_key, cond=cond)
        except CompareFailed:
            return False
        return True

    def _condition(
        self, key: str, prev_value: Any, prev_index: int | None
    ) -> Cond | None:
        """etcd's CAS/CAD parameters; ``None`` when the comparison is already known to fail."""
        if prev_value is None and prev_index is None:
            raise ValueError("give prev_value and/or prev_index (use set() to write blindly)")
        if prev_index is not None and (
            isinstance(prev_index, bool) or not isinstance(prev_index, int) or prev_index < 1
        ):
            raise ValueError(f"prev_index must be an int >= 1, got {prev_index!r}")
        text = None if prev_value is None else self._encode(key, prev_value)
        if text == "":
            # etcd cannot compare with an empty prevValue (error 201, etcd-io/etcd
            # release-3.4:Documentation/v2/api.md): read the key
            # and compare on the modifiedIndex it was read at instead (same atomicity).
            node = self._get_node(key, fresh=True)
            if node.dir:
                raise NotAFile("Not a file", key, self._index)
            if node.value or (prev_index is not None and node.modified_index != prev_index):
                return None
            return Cond(revision=node.modified_index)
        return Cond(value=text, revision=prev_index)

    def append(self, value: Any, ttl: int | None = None) -> str:
        """Store a value under a new in-order key (POST; etcd names it atomically).

        :returns: the new key's name: 20 zero-padded digits (names sort in creation order).
        :raises NotADirectory: the map's path is a file.
        :raises TypeError: ``value`` is a mapping or the codec refuses it.
        """
        text = self._encode(self._path, _leaf(value, "append"))
        return self._post(self._path, text, ttl).name

    def mkdir(self: _M, key: str, ttl: int | None = None) -> _M:
        """Create an empty directory (``prevExist=false``), optionally with a TTL.

        :returns: a live view of it.
        :raises NodeExists: the key exists.
        """
        abs_key = self._key(key)
        self._mkdir(abs_key, ttl=ttl, cond=Cond(exists=False))
        return self._view(abs_key)

    def ttl(self, key: str) -> int | None:
        """The remaining seconds to live, rounded up (0: expiring now); ``None`` if permanent.

        :raises KeyNotFound: no such key.
        """
        node = self.node(key)
        if node.ttl is None and node.expiration is not None:
            return 0
        return node.ttl

    def refresh(self, key: str, ttl: int) -> Node:
        """Reset a key's TTL without touching its value and without notifying watchers
        (``refresh=true`` with ``prevExist=true``, so ``createdIndex`` is kept; etcd-io/etcd
        release-3.4:Documentation/v2/api.md).

        :returns: the refreshed node.
        :raises KeyNotFound: the key does not exist (it may have expired).
        :raises DirectoryTTLUnsupported: the key is a directory and the server is etcd 3.5.x,
            which cannot update a directory's TTL (a server regression; give the directory its
            TTL when creating it, or keep the TTL on a leaf key instead).
        :raises ValueError: ``ttl`` is not a positive whole number of seconds.
        """
        abs_key = self._key(key)
        try:
            return self._refresh(abs_key, ttl)
        except DirectoryTTLUnsupported as exc:
            raise DirectoryTTLUnsupported(
                f"etcd 3.5 cannot update the TTL of the directory {abs_key!r} (a server "
                "regression); set the TTL when creating the directory, or keep it on a leaf key",
                exc.cause,
                exc.index,
            ) from exc

    def keep_alive(
        self,
        key: str,
        ttl: int,
        interval: float | None = None,
        *,
        on_error: Callable[[BaseException], object] | None = None,
    ) -> KeepAlive:
        """A context manager that refreshes ``key``'s TTL in the background (on the client's
        hub timers; a daemon thread on the memory backend)::

            m.set("leader", "me", ttl=10)
            with m.keep_alive("leader", 10) as ka:
                ...    # "leader" lives while the block runs (ka.alive, ka.error)
            # it expires about 10 s after the block; a failed keep-alive raises here

        Entering refreshes once in the calling thread (a missing key or a directory on
        etcd 3.5 raises at once). See :class:`~etcdmap.mapping.keepalive.KeepAlive` for the failure
        policy: the error is stored, logged, passed to ``on_error`` and raised on exit.

        :param interval: seconds between refreshes (default ``ttl / 3``).
        :param on_error: ``callable(exception)``, called in the thread if the keep-alive fails.
        :returns: an unstarted :class:`~etcdmap.mapping.keepalive.KeepAlive` (``with`` starts it).
        :raises ValueError: an invalid ``ttl`` or ``interval``.
        """
        abs_key = self._key(key)
        seconds = int(check_ttl(ttl))
        backend = self._backend
        hub = backend.hub()[0] if isinstance(backend, HubOwner) else None
        if isinstance(backend, SupportsLeaseRefresh):  # v3: later refreshes renew the lease only
            refresh = backend.lease_refresher(abs_key, seconds)
        else:
            refresh = lambda: self.refresh(key, seconds)  # noqa: E731
        return KeepAlive(
            refresh,
            seconds,
            interval=interval,
            on_error=on_error,
            name=abs_key,
            hub=hub,
        )


    def lock(self, name: str, ttl: int = 60, timeout: float | None = None) -> HeldLock:
        """A distributed lock named ``name``, kept in this map's hidden ``_locks`` directory
        (never listed): etcd's lock service on v3, the v2 lock recipe on v2 (see
        :mod:`etcdmap.mapping.lock`). Acquired by ``with``::

            with m.lock("migrations", ttl=30, timeout=10) as lk:
                ...   # lk.key, lk.revision (a fencing token), lk.held, lk.lost

        :param name: the lock's name (a key name: one path segment).
        :param ttl: seconds a holder that dies keeps the others waiting (its key or lease is
            kept alive meanwhile).
        :param timeout: how long to wait (``None``: for ever); then
            :class:`~etcdmap.errors.LockTimeout`, with nothing left behind.
        :returns: the lock, not acquired yet.
        :raises TypeError, ValueError: a bad name, TTL or timeout.

        Leaving the ``with`` of a lock lost while held (a paused process, a partition)
        raises :class:`~etcdmap.errors.LockLost`; :data:`etcdmap.signals.lock_lost` is sent
        as soon as the holder learns it.
        """
        self._key(name)  # a lock's name follows the rules of a key's
        key = _mappath.join(_mappath.join(self.path, LOCKS_DIR), name)
        return map_lock(self.backend, key, ttl=ttl, timeout=timeout)

    # ------------------------------------------------------------------ watch and mirror

    def watch(self, recursive: bool = True, after_index: int | None = None) -> Watch:
        """Watch this directory in a daemon thread that sends the :mod:`etcdmap.signals`
        with ``sender`` = this map (see :mod:`etcdmap.mapping.watch`)::

            signals.changed.connect(on_change, sender=m)
            with m.watch():
                ...

        :param recursive: every key below (``False``: events on the directory itself only).
        :param after_index: deliver events after this index (default: after this map's last
            read or write, :attr:`index`, or else from now).
        :returns: the started :class:`~etcdmap.mapping.watch.Watch` (a context manager; ``stop()``).
        :raises EtcdMapError: the initial read of the subtree failed.
        :raises MapClosed: the map is closed.
        """
        from etcdmap.mapping.mirror import watch_map  # noqa: PLC0415 - keeps the import graph acyclic

        self._check_open()
        return watch_map(self, recursive=recursive, after_index=after_index)

    def mirror(self, writable: bool = False) -> Mirror:
        """A live in-memory copy of this directory, kept current by a watch; reads at dict
        speed (see :mod:`etcdmap.mapping.mirror`).

        :param writable: let ``mirror[k] = v`` / ``del mirror[k]`` write through this map.
        :returns: the :class:`~etcdmap.mapping.mirror.Mirror` (a context manager; ``close()``).
        :raises EtcdMapError: the initial read of the subtree failed.
        """
        from etcdmap.mapping.mirror import mirror_map  # noqa: PLC0415

        self._check_open()
        return mirror_map(self, writable=writable)

    def bind(self, model: type[_T], *, seed: bool = False) -> LiveConfig[_T]:
        """A live, typed view: ``model`` (a pydantic model or a dataclass) validated against
        this directory and kept current by a mirror (see :mod:`etcdmap.mapping.typed`).

        :param seed: first write the model's defaults that etcd lacks (create-if-absent).
        :returns: the :class:`~etcdmap.mapping.typed.LiveConfig` (``.current``, ``.error``,
            ``wait_for()``; a context manager).
        :raises ImportError: pydantic is missing (``pip install 'etcdmap[typed]'``).
        :raises ConfigValidationError: the content does not validate (names the fields).
        """
        from etcdmap.mapping.typed import bind  # noqa: PLC0415 - pydantic is an optional extra

        self._check_open()
        return bind(self, model, seed=seed)



def _leaf(value: Any, what: str) -> Any:
    if isinstance(value, Mapping):
        raise TypeError(f"{what}() stores a single value, not a mapping")
    return value
