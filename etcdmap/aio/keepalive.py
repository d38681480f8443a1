"""``async with m.keep_alive(key, ttl)``: a key's TTL refreshed in the background, for an
:class:`~etcdmap.aio.AsyncEtcdMap`.

It is the blocking map's :class:`~etcdmap.mapping.keepalive.KeepAlive` -- its failure policy,
its v3 lease renewals on the lease stream -- on the client's blocking twin, whose hub timers
pace the refreshes (no thread per key); the first refresh and the final stop, which may wait
for a refresh in flight, run in a worker thread.

Thread-safety: the handle belongs to its map's event loop; its properties may be read from
any thread; ``on_error`` is called in a hub worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from etcdmap.aio.map_protocol import AsyncMapFace
from etcdmap.aio.replay import CLEANUP_SECONDS

if TYPE_CHECKING:
    from etcdmap.mapping.keepalive import KeepAlive

__all__ = ["AsyncKeepAlive"]


class AsyncKeepAlive:
    """``async with m.keep_alive(key, ttl) as ka``: the blocking map's
    :class:`~etcdmap.mapping.keepalive.KeepAlive` on the twin (see the module docstring):
    ``ka.alive``, ``ka.error``; leaving the block stops it and raises its error, if any.

    :param emap: the map; ``key``, ``ttl``, ``interval``, ``on_error``: see
        :meth:`etcdmap.EtcdMap.keep_alive` (``on_error`` is called in a hub worker thread).
    :raises ValueError: an invalid ``ttl`` or ``interval``.
    """

    def __init__(self, emap: AsyncMapFace, key: str, ttl: int, *, interval: float | None = None,
                 on_error: Callable[[BaseException], object] | None = None) -> None:
        twin = _blocking_map(emap)
        self._keepalive: KeepAlive = twin.keep_alive(key, ttl, interval, on_error=on_error)

    @property
    def blocking(self) -> KeepAlive:
        """The blocking keep-alive (``alive``, ``error``, ``refreshes``)."""
        return self._keepalive

    @property
    def alive(self) -> bool:
        """Running, and no refresh failed for good."""
        return self._keepalive.alive

    @property
    def error(self) -> BaseException | None:
        """The exception that ended it, or ``None``."""
        return self._keepalive.error

    async def start(self) -> AsyncKeepAlive:
        """Refresh once (in a worker thread), then go on in the background.

        :raises EtcdMapError: the first refresh failed (nothing is started then).
        """
        keepalive = self._keepalive
        starting = asyncio.ensure_future(asyncio.to_thread(keepalive.start))
        try:
            await asyncio.shield(starting)
        except asyncio.CancelledError:  # once started, it is stopped at once
            await asyncio.wait({starting}, timeout=CLEANUP_SECONDS)
            if starting.done() and not starting.cancelled() and starting.exception() is None:
                await asyncio.to_thread(keepalive.__exit__, asyncio.CancelledError, None, None)
            raise
        return self

    async def stop(self) -> None:
        """Stop refreshing. :raises BaseException: what ended the keep-alive, if anything."""
        await asyncio.to_thread(self._keepalive.stop)

    async def __aenter__(self) -> AsyncKeepAlive:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await asyncio.to_thread(self._keepalive.__exit__, exc_type, exc, tb)


def _blocking_map(emap: AsyncMapFace) -> Any:
    """The blocking map of ``emap``'s directory on the watch engine's backend."""
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415 - keeps the import graph acyclic

    return EtcdMap(emap.backend.watching(), emap.path, codec=emap.codec, quorum=emap.quorum)
