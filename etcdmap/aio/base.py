"""``AsyncClient``: what both asyncio clients have (endpoints, ``aclose``, ``async with``)."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

from etcdmap.aio.transport import AsyncTransport
from etcdmap.http.client import ClientEndpoints

__all__ = ["AsyncClient"]

_C = TypeVar("_C", bound="AsyncClient")


class AsyncClient(ClientEndpoints):
    """Base of :class:`etcdmap.aio.Client` and :class:`etcdmap.aio.v3.Client`.

    Thread-safety: belongs to the event loop it is first used on.
    """

    transport: AsyncTransport

    async def aclose(self) -> None:
        """Release the pooled connections (the client reconnects if used again)."""
        self.transport.close()

    async def __aenter__(self: _C) -> _C:
        """:returns: the client itself."""
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        """:meth:`aclose`; an exception raised in the block is not suppressed."""
        await self.aclose()
