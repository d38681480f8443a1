"""Typed live configuration for asyncio: ``m.bind(Model)`` of an
:class:`~etcdmap.aio.AsyncEtcdMap`::

    async with m.bind(AppConfig, seed=True) as cfg:
        cfg.current.db.port                  # a plain attribute read
        await m.child("db").set("port", "6432")
        await cfg.wait_for(m.child("db").index)

It is the blocking binding (:class:`etcdmap.mapping.typed.LiveConfig`: the validation, the
changed paths, the signals' payloads) over an :class:`~etcdmap.aio.watch.AsyncMirror`;
seeding is :func:`etcdmap.mapping.typed.seed_defaults` replayed on the asyncio map. The mirror
sends its events on the loop, so the handle revalidates there, and
:data:`~etcdmap.signals.config_changed` / :data:`~etcdmap.signals.config_invalid` are sent
there too (a coroutine receiver is awaited).

Needs pydantic (``pip install 'etcdmap[typed]'``).

Thread-safety: the handle belongs to its map's event loop (its properties may be read from
any thread).
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from types import TracebackType
from typing import Any, Generic, TypeVar

from etcdmap.aio.map_protocol import AsyncMapFace
from etcdmap.aio.watch import AsyncMirror
from etcdmap.mapping.typed import LiveConfig, seed_defaults
from etcdmap.mapping.typed_fields import is_model
from etcdmap.signals import send_async

__all__ = ["AsyncBinding", "AsyncLiveConfig"]

T = TypeVar("T")

log = logging.getLogger("etcdmap.typed")


class AsyncLiveConfig(LiveConfig[T]):
    """A model instance kept current with an etcd directory, for asyncio code: the blocking
    :class:`~etcdmap.mapping.typed.LiveConfig` (``current``, ``error``, ``index``,
    ``seeded``) whose :meth:`wait_for` and :meth:`aclose` are coroutines. Made by
    ``m.bind(Model)`` (:class:`AsyncBinding`).
    """

    _mirror: AsyncMirror

    async def _on_change(self, sender: object, **event: Any) -> None:  # type: ignore[override]
        # On the loop (the mirror's signals are sent there): the blocking handle's
        # revalidation, its signal sent on the loop.
        outcome = self._changed(event)
        if outcome is not None:
            await send_async(outcome[0], self, outcome[1])

    async def wait_for(self, index: int | None = None,  # type: ignore[override]
                       timeout: float | None = 5.0) -> bool:
        """See :meth:`etcdmap.mapping.typed.LiveConfig.wait_for`."""
        return await self._mirror.wait_for(index, timeout)

    async def aclose(self) -> None:
        """Stop following etcd (the mirror's watch ends); idempotent. :attr:`current` stays."""
        self.close()
        await self._mirror.aclose()

    async def __aenter__(self) -> AsyncLiveConfig[T]:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


class AsyncBinding(Generic[T]):
    """What ``m.bind(Model)`` returns: awaitable (the started :class:`AsyncLiveConfig`) and an
    async context manager (closed at the end).

    :param emap: the map of the directory.
    :param model: a pydantic model class or a dataclass type.
    :param seed: first write the model's defaults that etcd lacks.
    :raises TypeError: ``model`` is neither (at once).
    """

    def __init__(self, emap: AsyncMapFace, model: type[T], *, seed: bool = False) -> None:
        if not is_model(model):
            raise TypeError(
                f"bind() takes a pydantic BaseModel subclass or a dataclass type, got {model!r}")
        self._map = emap
        self._model = model
        self._seed = seed
        self._handle: AsyncLiveConfig[T] | None = None

    async def start(self) -> AsyncLiveConfig[T]:
        """Seed (if asked), read the directory and follow it.

        :raises ConfigValidationError: the content does not validate.
        :raises EtcdMapError: reading or seeding etcd failed.
        """
        emap = self._map
        seeded = await emap.replay(seed_defaults, self._model) if self._seed else ()
        if seeded:
            log.info("seeded %d default(s) into %s", len(seeded), emap.path)
        mirror = await AsyncMirror(emap).start()
        try:
            handle = AsyncLiveConfig(self._model, mirror, emap.path)
        except BaseException:
            await mirror.aclose()
            raise
        handle.seeded = seeded
        self._handle = handle
        return handle

    def __await__(self) -> Generator[Any, None, AsyncLiveConfig[T]]:
        return self.start().__await__()

    async def __aenter__(self) -> AsyncLiveConfig[T]:
        return await self.start()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._handle is not None:
            await self._handle.aclose()
