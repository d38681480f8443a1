"""``etcdmap.aio.replay``: blocking API methods run on asyncio I/O, without a server.

The blocking "API" here is a small class of the same shape as ``KeysAPI``/``KV`` (pure work
around calls of one I/O object); the asyncio I/O object records what it is asked.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from etcdmap.aio.replay import AsyncAPI, replayed


class Store:
    """The blocking API under test: its only I/O is ``self.io.fetch(...)``."""

    runs = itertools.count()

    def __init__(self, io: object) -> None:
        self.io = io

    def get(self, key: str, *, upper: bool = False) -> str:
        """Read a key."""
        next(Store.runs)
        if not isinstance(key, str):
            raise TypeError("key must be a str")
        value: str = self.io.fetch("GET", key)  # type: ignore[attr-defined]
        return value.upper() if upper else value

    def get_or_create(self, key: str) -> str:
        """Read a key, creating it when missing (two calls, the first may fail)."""
        try:
            return self.get(key)
        except KeyError:
            return f"{self.io.fetch('PUT', key)} in {self.io.name}"  # type: ignore[attr-defined]

    def stamp(self) -> str:
        """Not replayable: asks for another call on each run."""
        result: str = self.io.fetch("GET", str(next(Store.runs)))  # type: ignore[attr-defined]
        return result


class AsyncIO:
    """The asyncio I/O object: answers from a table, records each call."""

    name = "the-async-io"

    def __init__(self, table: dict[tuple[str, str], object]) -> None:
        self.table = table
        self.calls: list[tuple[str, str]] = []

    async def fetch(self, method: str, key: str) -> object:
        self.calls.append((method, key))
        await asyncio.sleep(0)
        answer = self.table.get((method, key), KeyError(key))
        if isinstance(answer, BaseException):
            raise answer
        return answer


class AsyncStore(AsyncAPI[Store]):
    def __init__(self, io: AsyncIO) -> None:
        super().__init__(io, Store, frozenset({"fetch"}))

    get = replayed(Store.get)
    get_or_create = replayed(Store.get_or_create)
    stamp = replayed(Store.stamp)


async def test_one_call_is_awaited_and_read_by_the_blocking_method() -> None:
    io = AsyncIO({("GET", "k"): "value"})
    assert await AsyncStore(io).get("k", upper=True) == "VALUE"
    assert io.calls == [("GET", "k")]


async def test_bad_arguments_raise_before_any_io() -> None:
    io = AsyncIO({})
    with pytest.raises(TypeError, match="key must be a str"):
        await AsyncStore(io).get(5)  # type: ignore[arg-type]
    assert io.calls == []


async def test_an_io_error_reaches_the_method_that_handles_it() -> None:
    io = AsyncIO({("PUT", "k"): "created"})
    assert await AsyncStore(io).get_or_create("k") == "created in the-async-io"
    assert io.calls == [("GET", "k"), ("PUT", "k")]  # each I/O call once


async def test_an_io_error_the_method_does_not_handle_propagates() -> None:
    io = AsyncIO({("GET", "k"): ConnectionResetError("gone")})
    with pytest.raises(ConnectionResetError, match="gone"):
        await AsyncStore(io).get_or_create("k")
    assert io.calls == [("GET", "k")]


async def test_a_method_asking_other_calls_on_a_rerun_is_refused() -> None:
    io = AsyncIO({("GET", str(n)): "x" for n in range(10_000)})
    with pytest.raises(RuntimeError, match="not replayable"):
        await AsyncStore(io).stamp()


async def test_cancellation_is_not_recorded_but_propagates() -> None:
    started = asyncio.Event()

    class Slow(AsyncIO):
        async def fetch(self, method: str, key: str) -> object:
            started.set()
            await asyncio.sleep(10)
            return "late"

    task = asyncio.create_task(AsyncStore(Slow({})).get("k"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_replayed_methods_keep_name_and_docstring() -> None:
    assert AsyncStore.get.__doc__ == "Read a key."
    method = AsyncStore(AsyncIO({})).get
    assert (method.__name__, method.__doc__) == ("get", "Read a key.")
    assert asyncio.iscoroutinefunction(method)
