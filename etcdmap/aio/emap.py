"""``AsyncEtcdMap``: :class:`~etcdmap.EtcdMap` for asyncio code.

::

    async with etcdmap.aio.connect("http://127.0.0.1:2379", "/config") as m:
        await m.set("db", {"host": "h", "port": "5432"})   # a mapping becomes a directory tree
        await m.child("db").get("host")                    # "h"
        await m.to_dict()                                  # the whole subtree, one read
        async for key in m: ...

**The same map, not a copy of it.** Every method here that talks to etcd is
:class:`~etcdmap.EtcdMap`'s own method -- its key checks, codecs, tree writes, CAS loops,
read-your-writes rule and errors -- run by :func:`~etcdmap.aio.replay.replay` over the map's
store as coroutines (:class:`~etcdmap.aio.backend.AsyncBackend`): each run works on a fresh
copy of the blocking map (so every run starts from the same :attr:`AsyncEtcdMap.index`), whose
store is a :class:`~etcdmap.aio.replay.ReplayPort` and whose read-through cache is read once
per call (:class:`TapedCache`). The methods keep their names where a dunder cannot be a
coroutine: ``m[k]`` is ``await m.getitem(k)``, ``m[k] = v`` is ``await m.set(k, v)``, ``del
m[k]`` is ``await m.delete(k)``, ``k in m`` is ``await m.contains(k)``, ``len(m)`` is ``await
m.len()``, ``m == other`` is ``await m.equals(other)``, and a directory is a view made without
I/O by :meth:`AsyncEtcdMap.child` (a directory read by ``get`` comes back as such a view).

Watches, the mirror, ``bind``, ``keep_alive`` and ``lock`` are in :mod:`etcdmap.aio.watch`,
:mod:`etcdmap.aio.typed`, :mod:`etcdmap.aio.keepalive` and :mod:`etcdmap.aio.holds`.

Thread-safety: an ``AsyncEtcdMap`` belongs to the event loop of its client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from etcdmap.aio.backend import AsyncBackend
from etcdmap.aio.client_base import AsyncClient
from etcdmap.aio.replay import ReplayPort, current_tape, replay, replayed
from etcdmap.backend import Backend
from etcdmap.mapping import paths as _mappath
from etcdmap.mapping.cache import ReadCache
from etcdmap.mapping.codecs import Codec
from etcdmap.mapping.emap import EtcdMap

if TYPE_CHECKING:
    from etcdmap.aio.holds import AsyncHold
    from etcdmap.aio.keepalive import AsyncKeepAlive
    from etcdmap.aio.typed import AsyncBinding
    from etcdmap.aio.watch import AsyncChanges, AsyncMirror, AsyncWatch

__all__ = ["AsyncEtcdMap", "TapedCache"]

P = ParamSpec("P")
R = TypeVar("R")
_T = TypeVar("_T")

_STORE_CALLS = frozenset({"read", "read_tree", "put", "make_dir", "delete", "append",
                          "refresh", "current_index", "write_trees"})
"""The I/O methods of a store (:class:`~etcdmap.backend.Backend`)."""

_MISSING: Any = object()


class TapedCache(ReadCache):
    """The read-through cache of an :class:`AsyncEtcdMap`: a
    :class:`~etcdmap.mapping.cache.ReadCache` whose lookups are read once per replayed call,
    so that every run of the call sees the same hits and misses (other tasks may change the
    cache while it awaits). Thread-safe, as a ``ReadCache``.
    """

    __slots__ = ()

    def lookup(self, path: str) -> tuple[bool, Any]:
        """See :meth:`etcdmap.mapping.cache.ReadCache.lookup`."""
        tape = current_tape()
        if tape is None:
            return super().lookup(path)
        return tape.once("cache.lookup", ReadCache.lookup, (self, path))


class _Store:
    """What :class:`~etcdmap.EtcdMap` takes as its client: something with a ``backend``."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend


class AsyncEtcdMap:
    """A dict-like view of the etcd directory ``path`` for asyncio code (see the module
    docstring; :class:`~etcdmap.EtcdMap` documents each method's semantics and errors).

    :param client: an :class:`etcdmap.aio.Client`, an :class:`etcdmap.aio.v3.Client`, or a
        blocking store that does no I/O (:class:`~etcdmap.MemoryBackend`).
    :param path: the directory, e.g. ``"/config"``.
    :param codec: the value codec (a :class:`~etcdmap.mapping.codecs.Codec` or a name).
    :param quorum: linearizable reads (v3 reads always are).
    :param cache: a read-through cache for leaf reads, any ``MutableMapping`` such as
        ``cachetools.TTLCache(maxsize=1024, ttl=5)`` (see :mod:`etcdmap.mapping.cache`).
    :param owns_client: whether :meth:`close` closes the client too
        (:func:`etcdmap.aio.connect` passes ``True``).
    :raises TypeError: a blocking client (use :class:`etcdmap.aio.Client`), a ``path`` that
        is not a ``str``, a codec that is not one, a cache that is not a ``MutableMapping``.
    :raises ValueError: a bad path or codec name.

    Thread-safety: belongs to the event loop of its client.
    """

    def __init__(
        self,
        client: AsyncClient | Backend,
        path: str = "/",
        *,
        codec: Codec | str | None = None,
        quorum: bool = False,
        cache: MutableMapping[str, Any] | None = None,
        owns_client: bool = False,
    ) -> None:
        if isinstance(client, AsyncClient):
            store = client.backend
            blocking: Any = _Store(ReplayPort(store, _STORE_CALLS))
        elif isinstance(client, Backend) and client.name == "memory":
            store = AsyncBackend.of_memory(client)
            blocking = client
        else:
            raise TypeError(f"AsyncEtcdMap takes an etcdmap.aio client or a MemoryBackend, not "
                            f"{type(client).__name__}: use etcdmap.aio.Client or "
                            "etcdmap.aio.v3.Client (or etcdmap.aio.connect)")
        taped = None if cache is None or isinstance(cache, TapedCache) else TapedCache(cache)
        self._store = store
        self._client = client
        self._template = EtcdMap(blocking, path, codec=codec, quorum=quorum, cache=taped)
        self._owner = owns_client
        self._is_view = False
        self._index = 0

    # ------------------------------------------------------------------ properties

    @property
    def path(self) -> str:
        """The absolute directory path, normalised (``"/config"``, ``"/"``)."""
        return self._template.path

    @property
    def client(self) -> AsyncClient | Backend:
        """The asyncio client (or the memory backend) this map talks through."""
        return self._client

    @property
    def backend(self) -> AsyncBackend:
        """The store, as coroutines (:class:`~etcdmap.aio.backend.AsyncBackend`)."""
        return self._store

    @property
    def codec(self) -> Codec:
        """The value codec."""
        return self._template.codec

    @property
    def quorum(self) -> bool:
        """Whether reads are quorum (linearizable) reads."""
        return self._template.quorum

    @property
    def index(self) -> int:
        """The etcd index of this map's last read or write (see :attr:`etcdmap.EtcdMap.index`)."""
        return self._index

    @property
    def closed(self) -> bool:
        """Whether the map (or the map this view belongs to) was closed."""
        return bool(self._template._life.closed)

    # ------------------------------------------------------------------ replaying

    def _run_copy(self, index: int) -> EtcdMap:
        """A fresh copy of the blocking map for one run, at ``index`` (see the module
        docstring): it shares the settings, cache and lifetime, not the index."""
        run = object.__new__(EtcdMap)
        run.__dict__.update(self._template.__dict__)
        run._index = index
        return run

    async def replay(self, method: Callable[Concatenate[EtcdMap, P], R], *args: P.args,
                     **kwargs: P.kwargs) -> R:
        """Run the blocking map's ``method`` on this map's store (see the module docstring);
        a view of a directory it returns becomes an :class:`AsyncEtcdMap` view.

        :returns: what ``method`` returns.
        :raises Exception: what ``method`` raises.
        """
        start = self._index
        last: list[EtcdMap] = []

        def run(*a: P.args, **k: P.kwargs) -> R:
            copy = self._run_copy(start)
            last[:] = [copy]
            return method(copy, *a, **k)

        try:
            result = await replay(run, *args, **kwargs)
        finally:
            if last:
                self._index = last[0].index
        return cast(R, self._outward(result))

    def _outward(self, value: Any) -> Any:
        if isinstance(value, EtcdMap):
            return self._view(value.path)
        if isinstance(value, list):
            return [self._outward(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._outward(v) for v in value)
        return value

    def _view(self, path: str) -> AsyncEtcdMap:
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._template = self._template._view(path)
        view._index = 0
        view._owner = False
        view._is_view = True
        return view

    def child(self, name: str) -> AsyncEtcdMap:
        """A view of the subdirectory ``name`` (no I/O; it may not exist yet: the first
        write creates it). ``name`` may be nested: ``"db/replica"``.

        :raises TypeError, ValueError: an invalid name.
        """
        path = self.path
        for part in name.split("/") if isinstance(name, str) else [name]:
            path = _mappath.join(path, _mappath.validate_key(part))
        return self._view(path)

    # ------------------------------------------------------------------ the mapping

    getitem = replayed(EtcdMap.__getitem__)
    """``m[key]``: a leaf's decoded value, or a view of a directory."""
    get = replayed(EtcdMap.get)
    set = replayed(EtcdMap.set)
    delete = replayed(EtcdMap.__delitem__)
    """``del m[key]`` (:class:`~etcdmap.errors.KeyNotFound`, a ``KeyError``, when absent)."""
    contains = replayed(EtcdMap.__contains__)
    """``key in m``."""
    len = replayed(EtcdMap.__len__)
    """``len(m)``: the number of direct (non-hidden) children."""
    setdefault = replayed(EtcdMap.setdefault)
    pop = replayed(EtcdMap.pop)
    popitem = replayed(EtcdMap.popitem)
    clear = replayed(EtcdMap.clear)
    to_dict = replayed(EtcdMap.to_dict)
    copy = replayed(EtcdMap.copy)
    node = replayed(EtcdMap.node)
    create = replayed(EtcdMap.create)
    replace = replayed(EtcdMap.replace)
    compare_and_swap = replayed(EtcdMap.compare_and_swap)
    compare_and_delete = replayed(EtcdMap.compare_and_delete)
    append = replayed(EtcdMap.append)
    ttl = replayed(EtcdMap.ttl)
    refresh = replayed(EtcdMap.refresh)

    async def mkdir(self, key: str, ttl: int | None = None) -> AsyncEtcdMap:
        """See :meth:`etcdmap.EtcdMap.mkdir`. :returns: a view of the new directory."""
        return cast(AsyncEtcdMap, await self.replay(EtcdMap.mkdir, key, ttl))

    async def keys(self) -> list[str]:
        """The names of the direct children, sorted (one read; hidden keys excluded)."""
        return await self.replay(_keys)

    async def items(self) -> list[tuple[str, Any]]:
        """The direct children as ``(name, value)`` pairs, sorted (one read; a directory's
        value is a view)."""
        return await self.replay(_items)

    async def values(self) -> list[Any]:
        """The direct children's values, in name order (one read)."""
        return [value for _, value in await self.items()]

    async def __aiter__(self) -> AsyncIterator[str]:
        """``async for key in m``: the names of a snapshot of the direct children (one read)."""
        for key in await self.keys():
            yield key

    async def update(self, other: Any = (), /, **kwargs: Any) -> None:
        """Like :meth:`etcdmap.EtcdMap.update` (another :class:`AsyncEtcdMap` is read first)."""
        if isinstance(other, AsyncEtcdMap):
            other = await other.to_dict()
        await self.replay(EtcdMap.update, other, **kwargs)

    async def equals(self, other: object) -> bool:
        """``m == other``: a snapshot (:meth:`to_dict`) compared with any mapping."""
        if isinstance(other, AsyncEtcdMap):
            other = await other.to_dict()
        if not isinstance(other, Mapping):
            return False
        return bool(await self.replay(EtcdMap.__eq__, other))

    # ------------------------------------------------------------------ watches, holds

    def changes(self, *, recursive: bool = True, after_index: int | None = None,
                idle_timeout: float = 1.0) -> AsyncChanges:
        """``async for event in m.changes()``: every change below this directory as an
        :class:`etcdmap.signals.Event`, loss-free (see :mod:`etcdmap.aio.watch`)."""
        from etcdmap.aio.watch import AsyncChanges  # noqa: PLC0415 - keeps the import graph acyclic

        return AsyncChanges(self, recursive=recursive, after_index=after_index,
                            idle_timeout=idle_timeout)

    def watch(self, *, recursive: bool = True, after_index: int | None = None) -> AsyncWatch:
        """``async with m.watch():`` the :mod:`etcdmap.signals` of this directory, sent on
        this map's event loop (coroutine receivers are awaited; see :mod:`etcdmap.aio.watch`)."""
        from etcdmap.aio.watch import AsyncWatch  # noqa: PLC0415

        return AsyncWatch(self, recursive=recursive, after_index=after_index)

    def mirror(self) -> AsyncMirror:
        """``async with m.mirror() as live``: a live copy read at dict speed (see
        :mod:`etcdmap.aio.watch`; writes go through the map)."""
        from etcdmap.aio.watch import AsyncMirror  # noqa: PLC0415

        return AsyncMirror(self)

    def bind(self, model: type[_T], *, seed: bool = False) -> AsyncBinding[_T]:
        """``async with m.bind(Model) as cfg`` (or ``cfg = await m.bind(Model)``): a live,
        typed view (see :mod:`etcdmap.aio.typed`; needs pydantic).

        :raises TypeError: ``model`` is neither a pydantic model nor a dataclass.
        """
        from etcdmap.aio.typed import AsyncBinding  # noqa: PLC0415 - pydantic is optional

        return AsyncBinding(self, model, seed=seed)

    def keep_alive(self, key: str, ttl: int, interval: float | None = None, *,
                   on_error: Callable[[BaseException], object] | None = None) -> AsyncKeepAlive:
        """``async with m.keep_alive(key, ttl)``: refresh the key's TTL in the background (see
        :meth:`etcdmap.EtcdMap.keep_alive` and :mod:`etcdmap.aio.keepalive`)."""
        from etcdmap.aio.keepalive import AsyncKeepAlive  # noqa: PLC0415

        return AsyncKeepAlive(self, key, ttl, interval=interval, on_error=on_error)

    def lock(self, name: str, ttl: int = 60, timeout: float | None = None) -> AsyncHold:
        """``async with m.lock(name, ttl=60)``: a distributed lock in this map's hidden
        ``_locks`` directory (see :meth:`etcdmap.EtcdMap.lock` and :mod:`etcdmap.aio.holds`)."""
        from etcdmap.aio.holds import map_lock  # noqa: PLC0415

        return map_lock(self, name, ttl=ttl, timeout=timeout)

    # ------------------------------------------------------------------ lifetime

    async def close(self) -> None:
        """Close the map (and its views): see :meth:`etcdmap.EtcdMap.close`; an owned client
        is closed too (``await client.aclose()``)."""
        if self._is_view:
            return
        self._template._life.closed = True
        if self._owner:
            self._owner = False
            client = self._client
            if isinstance(client, AsyncClient):
                await client.aclose()
            else:
                client.close()

    async def __aenter__(self) -> AsyncEtcdMap:
        """:returns: the map."""
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        """:meth:`close`."""
        await self.close()

    def __repr__(self) -> str:
        return f"Async{self._template!r}"


def _keys(m: EtcdMap) -> list[str]:
    return list(iter(m))


def _items(m: EtcdMap) -> list[tuple[str, Any]]:
    return list(m.items())
