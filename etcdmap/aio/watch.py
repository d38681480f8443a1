"""Watches for asyncio: ``m.changes()``, ``m.watch()`` (signals) and ``m.mirror()``, fed by the
one watch engine.

Nothing here reads a watch stream or decides anything about one. A watch of an
:class:`~etcdmap.aio.AsyncEtcdMap` is the blocking :class:`~etcdmap.mapping.watch.Watch` --
its tree, its resync after a lost history, its index -- on the client's **blocking twin**
(:attr:`etcdmap.aio.client_base.AsyncClient.blocking`), whose watch hub reads every stream on one
I/O thread (v3: every watch of the client on one WebSocket per member) with its failover,
backfill and member checks. Only where the watch sends what it saw differs: instead of the
signals, a :class:`~etcdmap.aio.feed.Feed` carries each event, resync, error and index onto the map's event
loop (``loop.call_soon_threadsafe`` into a queue). The first read of the subtree is the
blocking map's own, replayed on the asyncio client.

- :class:`AsyncChanges` (``async for event in m.changes()``) yields the events
  (:class:`etcdmap.signals.Event`, the signals' payload), loss-free: a lost history is
  re-read and its differences come as events with ``action="resync"``;
- :class:`AsyncWatch` (``async with m.watch()``) sends the :mod:`etcdmap.signals` with
  ``sender`` = the map, on the loop: a coroutine receiver is awaited, a plain one called
  (:func:`etcdmap.signals.send_async`);
- :class:`AsyncMirror` (``async with m.mirror() as live``) is the watch's tree: ``live[k]``
  is a dict read, ``await live.wait_for(index)`` waits on the loop.

**Backpressure**: at most :data:`etcdmap.aio.feed.QUEUED` items wait for a slow consumer; then the watch's
dispatcher lane waits (that watch only), as it does for a slow receiver of a blocking watch.

Thread-safety: these objects belong to their map's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from etcdmap.aio.feed import Feed, Item, LoopIndex
from etcdmap.aio.map_protocol import AsyncMapFace
from etcdmap.mapping.mirror import load_tree
from etcdmap.mapping.tree import MirrorDir, Tree
from etcdmap.mapping.watch import Watch
from etcdmap.signals import Event, emissions, error_payload, resynced, send_async, watch_error

if TYPE_CHECKING:
    from etcdmap.mapping.emap import EtcdMap

__all__ = ["AsyncChanges", "AsyncMirror", "AsyncWatch"]

log = logging.getLogger("etcdmap.watch")



def _start_index(after_index: int | None, seen: int, read: int) -> int:
    """Where a map's watch starts: after ``after_index``; else after the map's last index
    ``seen`` when it is older than the first read's ``read``; else after that read."""
    if after_index is None:
        return seen if 0 < seen < read else read
    if isinstance(after_index, bool) or not isinstance(after_index, int) or after_index < 0:
        raise ValueError(f"after_index must be an int >= 0, got {after_index!r}")
    return after_index


class _LoopWatch:
    """A blocking :class:`~etcdmap.mapping.watch.Watch` whose output comes to the loop.

    :param emap: the map watched.
    :param recursive: every key below (``False``: the directory itself only).
    :param after_index: deliver changes after this index (see :func:`_start_index`).
    :param idle_timeout: see :class:`~etcdmap.mapping.watch.Watch`.
    :param sender: what the signals are sent with (default: the map).
    :param from_read: start after the first read whatever the map's index (a mirror).
    """

    def __init__(self, emap: AsyncMapFace, *, recursive: bool = True,
                 after_index: int | None = None, idle_timeout: float = 1.0,
                 sender: object = None, from_read: bool = False) -> None:
        self._map = emap
        self._recursive = recursive
        self._after = after_index
        self._idle = idle_timeout
        self._sender = emap if sender is None else sender
        self._from_read = from_read
        self._feed: Feed | None = None
        self._watch: Watch | None = None
        self._tree: Tree | None = None
        self._index = LoopIndex()

    @property
    def sender(self) -> object:
        """What the signals are sent with (the map, or the mirror)."""
        return self._sender

    @property
    def index(self) -> int:
        """Every change up to this index has been delivered."""
        return self._index.index

    @property
    def watch(self) -> Watch | None:
        """The blocking watch (its ``endpoint``, ``mode``, ``resyncs``...), once started."""
        return self._watch

    async def _open(self) -> None:
        """Read the subtree (replayed), then start the blocking watch on the twin's hub."""
        if self._feed is not None:
            return
        emap = self._map
        feed = self._feed = Feed(asyncio.get_running_loop())
        sender = self.sender

        def decode_failed(exc: Exception) -> None:
            log.warning("watch on %s: cannot decode a value: %s", emap.path, exc)
            feed.error(sender, exc)

        try:
            tree, read = await emap.replay(_load, decode_failed)
            start = read if self._from_read else _start_index(self._after, emap.index, read)
            self._tree = tree
            self._index.advance(start)
            watch = Watch(emap.backend.watching(), tree, sender, after_index=start,
                          recursive=self._recursive, idle_timeout=self._idle,
                          on_index=feed.advanced, output=feed)
            self._watch = watch.start()
        except BaseException:
            feed.close()
            raise

    async def _next(self) -> Item | None:
        """The next item of the feed (an index item advances :attr:`index` first)."""
        feed = self._feed
        item = None if feed is None else await feed.get()
        if item is not None and item[0] == "index":
            self._index.advance(item[1])
        return item

    async def _signal(self, kind: str, value: Any) -> None:
        """Send what one item means as signals, on this loop."""
        sender = self.sender
        if kind == "event":
            for signal, payload in emissions(value):
                await send_async(signal, sender, payload)
        elif kind == "resynced":
            await send_async(resynced, sender, value)
        elif kind == "error":
            await send_async(watch_error, sender, error_payload(value))

    async def wait_for(self, index: int | None = None, timeout: float | None = 5.0) -> bool:
        """Wait until every change up to ``index`` was delivered (for a watch or a mirror:
        its signals sent): :meth:`etcdmap.mapping.watch.Watch.wait_for` on the loop.

        :param index: e.g. ``m.index`` after a write; ``None``: the store's current index
            (one linearizable read first).
        :param timeout: seconds at most (``None``: no limit).
        :returns: whether it got there in time.
        """
        if index is None:
            index = await self._map.backend.current_index(self._map.path)
        watch = self._watch
        return await self._index.wait_for(index, timeout,
                                          None if watch is None else watch.nudge)

    def close(self) -> None:
        """Stop delivering at once, without waiting for the watch's thread (see
        :meth:`aclose`). Idempotent."""
        feed, watch = self._feed, self._watch
        if feed is not None:
            feed.close()
        if watch is not None and watch.running:
            watch.stop(timeout=0)

    async def aclose(self) -> None:
        """Stop the watch and wait (in a worker thread) until its delivery in progress is
        over. Idempotent."""
        self.close()
        watch = self._watch
        if watch is not None:
            await asyncio.to_thread(watch.stop)


def _load(emap: EtcdMap, on_decode_error: Callable[[Exception], None]) -> tuple[Tree, int]:
    return load_tree(emap, on_decode_error)


class AsyncChanges(_LoopWatch):
    """``m.changes()``: the changes below a map as :class:`etcdmap.signals.Event` items
    (see the module docstring)::

        async with m.changes() as changes:
            async for event in changes:
                print(event.action, event.key, event.value)

    A plain ``async for event in m.changes()`` works too; the watch then ends when the
    iteration is finalized (by the loop, once the iterator is garbage).

    :attr:`resyncs` and :attr:`errors` count the resyncs and the failures the watch recovered
    from (each also logged on ``etcdmap.watch``).
    """

    resyncs = 0
    """How many times the watch re-read the subtree after a lost history."""
    errors = 0
    """How many failures the watch recovered from."""

    async def __anext__(self) -> Event:
        await self._open()
        while True:
            item = await self._next()
            if item is None:
                raise StopAsyncIteration
            kind, value = item
            if kind == "event":
                return value  # type: ignore[no-any-return]
            if kind == "resynced":
                self.resyncs += 1
            elif kind == "error":
                self.errors += 1

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        try:
            while True:
                try:
                    event = await self.__anext__()
                except StopAsyncIteration:
                    return
                yield event
        finally:
            await self.aclose()

    async def __aenter__(self) -> AsyncChanges:
        await self._open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


class AsyncWatch(_LoopWatch):
    """``async with m.watch():`` the :mod:`etcdmap.signals` of a map, sent on its event loop
    by one task per watch, in index order (see the module docstring)."""

    def __init__(self, emap: AsyncMapFace, *, recursive: bool = True,
                 after_index: int | None = None, idle_timeout: float = 1.0,
                 sender: object = None, from_read: bool = False) -> None:
        super().__init__(emap, recursive=recursive, after_index=after_index,
                         idle_timeout=idle_timeout, sender=sender, from_read=from_read)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> AsyncWatch:
        """Start (once). :returns: ``self``.

        :raises EtcdMapError: the first read failed.
        """
        await self._open()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())
        return self

    async def _pump(self) -> None:
        while (item := await self._next()) is not None:
            await self._signal(*item)

    def close(self) -> None:
        """Stop the watch and its task at once; no signal is sent after it returns."""
        task, self._task = self._task, None
        super().close()
        if task is not None:
            task.cancel()

    async def aclose(self) -> None:
        """:meth:`close`, then wait until the watch's delivery and the task are over."""
        task = self._task
        await super().aclose()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def __aenter__(self) -> AsyncWatch:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


class AsyncMirror(MirrorDir):
    """``async with m.mirror() as live``: a live copy of a map's directory, read at dict
    speed (``live["k"]`` is one dict lookup of a decoded value; nested directories are
    :class:`~etcdmap.mapping.tree.MirrorDir` views), kept current by a watch whose signals
    are sent with ``sender`` = this mirror, on the loop.

    :param emap: the map mirrored.
    """

    def __init__(self, emap: AsyncMapFace, *, idle_timeout: float = 1.0) -> None:
        super().__init__()
        self._loop_watch = AsyncWatch(emap, idle_timeout=idle_timeout, sender=self,
                                      from_read=True)

    @property
    def index(self) -> int:
        """The etcd index this copy is current to."""
        return self._loop_watch.index

    @property
    def watch(self) -> Watch | None:
        """The blocking watch keeping the copy current."""
        return self._loop_watch.watch

    async def start(self) -> AsyncMirror:
        """Read the directory and start following it. :returns: ``self``.

        :raises EtcdMapError: the first read failed.
        """
        await self._loop_watch.start()
        tree = self._loop_watch._tree
        assert tree is not None
        self._data = tree.view._data  # the tree's root dict: changed in place, never replaced
        return self

    async def wait_for(self, index: int | None = None, timeout: float | None = 5.0) -> bool:
        """Wait until the copy has every change up to ``index`` (see
        :meth:`etcdmap.mapping.mirror.Mirror.wait_for`). :returns: ``False`` on timeout."""
        return await self._loop_watch.wait_for(index, timeout)

    def close(self, timeout: float = 0.0) -> None:
        """Stop following etcd at once (the copy stays readable); :meth:`aclose` also waits
        for the delivery in progress.

        :param timeout: ignored (the blocking mirror's parameter): nothing waits here.
        """
        self._loop_watch.close()

    async def aclose(self) -> None:
        """Stop following etcd (the copy stays readable)."""
        await self._loop_watch.aclose()

    async def __aenter__(self) -> AsyncMirror:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncMirror index={self.index} {self.to_dict()!r:.60}>"
