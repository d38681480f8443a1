"""The mapping contract (``tests/mapping_contract.py``) run on ``AsyncEtcdMap`` over v2, v3
and the memory backend.

The contract is written for a ``MutableMapping``; :class:`Blocking` presents an
``AsyncEtcdMap`` as one, each operation being one of the map's coroutines awaited on an event
loop in another thread (``m[k]`` is ``await m.getitem(k)``, ``len(m)`` is ``await m.len()``,
``m.items()`` iterates ``await m.items()``...), so every assertion of the contract is about
what the asyncio map's own methods return.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Iterator, MutableMapping
from typing import Any, TypeVar

import pytest
from mapping_contract import MappingContract

import etcdmap.aio
from etcdmap import MemoryBackend
from etcdmap.aio import AsyncEtcdMap
from etcdmap.testing import EtcdServer

T = TypeVar("T")
_MISSING: Any = object()


class Loop:
    """An event loop running in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, aw: Awaitable[T]) -> T:
        async def wrap() -> T:
            return await aw

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class Blocking(MutableMapping[str, Any]):
    """An ``AsyncEtcdMap`` as a ``MutableMapping`` (see the module docstring)."""

    def __init__(self, amap: AsyncEtcdMap, loop: Loop) -> None:
        self.amap = amap
        self.loop = loop

    def _out(self, value: Any) -> Any:
        return Blocking(value, self.loop) if isinstance(value, AsyncEtcdMap) else value

    def __getitem__(self, key: str) -> Any:
        return self._out(self.loop.run(self.amap.getitem(key)))

    def __setitem__(self, key: str, value: Any) -> None:
        self.loop.run(self.amap.set(key, value))

    def __delitem__(self, key: str) -> None:
        self.loop.run(self.amap.delete(key))

    def __iter__(self) -> Iterator[str]:
        async def keys() -> list[str]:
            return [key async for key in self.amap]

        return iter(self.loop.run(keys()))

    def __len__(self) -> int:
        return self.loop.run(self.amap.len())

    def __contains__(self, key: object) -> bool:
        return self.loop.run(self.amap.contains(key))

    def get(self, key: str, default: Any = None) -> Any:
        return self._out(self.loop.run(self.amap.get(key, default)))

    def items(self) -> Any:
        return [(k, self._out(v)) for k, v in self.loop.run(self.amap.items())]

    def values(self) -> Any:
        return [self._out(v) for v in self.loop.run(self.amap.values())]

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        if default is _MISSING:
            return self._out(self.loop.run(self.amap.pop(key)))
        return self._out(self.loop.run(self.amap.pop(key, default)))

    def popitem(self) -> tuple[str, Any]:
        return self.loop.run(self.amap.popitem())

    def setdefault(self, key: str, default: Any = None) -> Any:
        return self._out(self.loop.run(self.amap.setdefault(key, default)))

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        if isinstance(other, Blocking):
            other = other.amap
        self.loop.run(self.amap.update(other, **kwargs))

    def clear(self) -> None:
        self.loop.run(self.amap.clear())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Blocking):
            other = other.amap
        return self.loop.run(self.amap.equals(other))

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return self.loop.run(self.amap.to_dict())


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


class TestMemory(MappingContract):
    @pytest.fixture
    def mapping(self, loop: Loop) -> Blocking:
        return Blocking(AsyncEtcdMap(MemoryBackend(), "/contract"), loop)


class TestV2(MappingContract):
    @pytest.fixture
    def mapping(self, loop: Loop, etcd_server: EtcdServer,
                etcd_prefix: str) -> Iterator[Blocking]:
        client = etcdmap.aio.Client(etcd_server.client_url)
        yield Blocking(AsyncEtcdMap(client, etcd_prefix), loop)
        loop.run(client.aclose())


class TestV3(MappingContract):
    @pytest.fixture
    def mapping(self, loop: Loop, etcd_server: EtcdServer,
                etcd_prefix: str) -> Iterator[Blocking]:
        client = etcdmap.aio.v3.Client(etcd_server.client_url)
        yield Blocking(AsyncEtcdMap(client, etcd_prefix), loop)
        loop.run(client.aclose())
