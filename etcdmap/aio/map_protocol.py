"""What the watches, bindings, locks and keep-alives of :mod:`etcdmap.aio` need of an
:class:`~etcdmap.aio.AsyncEtcdMap`: a protocol, so that those modules stay below the map
that builds them (no import circle)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from etcdmap.aio.backend import AsyncBackend
from etcdmap.mapping.codecs import Codec

__all__ = ["AsyncMapFace"]

R = TypeVar("R")


class AsyncMapFace(Protocol):
    """The parts of :class:`~etcdmap.aio.AsyncEtcdMap` its watches and holds use."""

    @property
    def path(self) -> str:
        """The map's directory."""

    @property
    def index(self) -> int:
        """The index of the map's last read or write."""

    @property
    def codec(self) -> Codec:
        """The value codec."""

    @property
    def quorum(self) -> bool:
        """Whether reads are linearizable."""

    @property
    def backend(self) -> AsyncBackend:
        """The store, as coroutines."""

    async def replay(self, method: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run a blocking map function on the map's store (see :mod:`etcdmap.aio.emap`)."""
