"""``AsyncClient``: what both asyncio clients have (endpoints, the store of a map, the
blocking twin of the watch engine, ``aclose``, ``async with``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from etcdmap.aio.transport import AsyncTransport
from etcdmap.http.client import ClientEndpoints, TransportClient
from etcdmap.http.options import TransportOptions

if TYPE_CHECKING:
    from etcdmap.aio.backend import AsyncBackend

__all__ = ["AsyncClient"]

_C = TypeVar("_C", bound="AsyncClient")


class AsyncClient(ClientEndpoints):
    """Base of :class:`etcdmap.aio.Client` and :class:`etcdmap.aio.v3.Client`.

    Request/answer calls go through :attr:`transport`. Watches, keep-alives and held locks
    wait and keep state: they run on the client's **blocking twin** (:attr:`blocking`), made
    on first use with the same endpoints and settings, whose watch hub (one I/O thread) reads
    every watch stream and delivers onto the event loop (:mod:`etcdmap.aio.watch`).

    Thread-safety: belongs to the event loop it is first used on.
    """

    transport: AsyncTransport
    _options: TransportOptions
    _twin: TransportClient | None = None
    _store: AsyncBackend | None = None

    def _make_blocking(self) -> TransportClient:
        raise NotImplementedError

    def _make_backend(self) -> AsyncBackend:
        raise NotImplementedError

    @property
    def options(self) -> TransportOptions:
        """The client's settings, as given (credentials included)."""
        return self._options

    @property
    def blocking(self) -> TransportClient:
        """The blocking client on the same endpoints and settings (made on first use, closed
        by :meth:`aclose`): its watch hub carries this client's watches, mirrors,
        keep-alives and locks. Do not call its request methods from the event loop."""
        if self._twin is None:
            self._twin = self._make_blocking()
        return self._twin

    @property
    def backend(self) -> AsyncBackend:
        """This client as the store of an :class:`~etcdmap.aio.AsyncEtcdMap`
        (:class:`~etcdmap.aio.backend.AsyncBackend`)."""
        if self._store is None:
            self._store = self._make_backend()
        return self._store

    def set_endpoints(self, endpoints: str | Sequence[str]) -> None:
        """Replace the endpoints (of the blocking twin too) and pin a random one.

        :raises NoEndpointsError: an empty list (the old endpoints are kept).
        :raises ValueError: an invalid URL (the old endpoints are kept).
        """
        super().set_endpoints(endpoints)
        if self._twin is not None:
            self._twin.set_endpoints(endpoints)

    async def aclose(self) -> None:
        """Release the pooled connections and end the watches, keep-alives and locks of the
        blocking twin (the client reconnects if used again)."""
        self.transport.close()
        twin, self._twin = self._twin, None
        if twin is not None:
            await asyncio.to_thread(twin.close)  # it joins the hub's threads

    async def __aenter__(self: _C) -> _C:
        """:returns: the client itself."""
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        """:meth:`aclose`; an exception raised in the block is not suppressed."""
        await self.aclose()
