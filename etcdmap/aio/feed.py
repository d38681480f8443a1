"""Carrying what a blocking watch sees onto an event loop: :class:`Feed` (a
:class:`~etcdmap.mapping.watch.WatchOutput`, thread to loop, with backpressure) and
:class:`LoopIndex` (an index awaited on the loop), for :mod:`etcdmap.aio.watch`.

Thread-safety: see each class.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from etcdmap._waiter import NUDGE_AFTER
from etcdmap.signals import Event, resynced_payload

__all__ = ["QUEUED", "Feed", "Item", "LoopIndex"]

QUEUED = 10_000
"""Items waiting for the loop above which a watch's delivery waits (backpressure)."""

Item = tuple[str, Any]


class Feed:
    """A :class:`~etcdmap.mapping.watch.WatchOutput` that carries what a watch sees onto an
    event loop, in order, with backpressure (see the module docstring).

    Thread-safety: the output methods from the delivering thread, :meth:`get` and
    :meth:`close` on the loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: deque[Item] = deque()
        self._room = threading.Semaphore(QUEUED)
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._incoming: list[Item] = []  # put, not yet moved onto the loop
        self._scheduled = False  # a move onto the loop is scheduled

    # ------------------------------------------------------------------ the watch's side

    def event(self, sender: object, event: Event) -> None:
        self._put(("event", event))

    def resynced(self, sender: object, *, index: int, created: int, updated: int,
                 deleted: int, reason: str) -> None:
        self._put(("resynced", resynced_payload(index=index, created=created, updated=updated,
                                                deleted=deleted, reason=reason)))

    def error(self, sender: object, error: BaseException) -> None:
        self._put(("error", error))

    def advanced(self, index: int) -> None:
        """Every change up to ``index`` was delivered (the watch's ``on_index``)."""
        self._put(("index", index))

    def _put(self, item: Item) -> None:
        while not self._room.acquire(timeout=0.1):
            if self._closed:
                return
        if self._closed:
            return
        with self._lock:  # one wake-up of the loop for a burst of items
            self._incoming.append(item)
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._move)
        except RuntimeError:  # the loop is closed: nobody reads any more
            self._closed = True

    # ------------------------------------------------------------------ the loop's side

    def _move(self) -> None:
        with self._lock:
            items, self._incoming = self._incoming, []
            self._scheduled = False
        self._items.extend(items)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Item | None:
        """The next item, in the order the watch delivered them; ``None`` once closed."""
        while not self._items:
            if self._closed:
                return None
            self._waiter = self._loop.create_future()
            await self._waiter
        item = self._items.popleft()
        self._room.release()
        return item

    def close(self) -> None:
        """No more items: a waiting :meth:`get` returns ``None``; the watch's delivery
        stops waiting for room."""
        self._closed = True
        self._wake()


class LoopIndex:
    """An index that only grows, and awaiting it (the loop's form of
    :class:`etcdmap._waiter.IndexWaiter`, with the same nudge)."""

    def __init__(self) -> None:
        self.index = 0
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []

    def advance(self, index: int) -> None:
        if index <= self.index:
            return
        self.index = index
        still = []
        for target, fut in self._waiting:
            if target <= index:
                if not fut.done():
                    fut.set_result(None)
            else:
                still.append((target, fut))
        self._waiting = still

    async def wait_for(self, index: int, timeout: float | None,
                       nudge: Callable[[], None] | None) -> bool:
        if self.index >= index:
            return True
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiting.append((index, fut))
        handle = loop.call_later(NUDGE_AFTER, nudge) if nudge is not None else None
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return False
        finally:
            if handle is not None:
                handle.cancel()
            self._waiting = [(t, f) for t, f in self._waiting if f is not fut]
        return True
