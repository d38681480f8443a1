"""``etcdmap.aio.replay``: blocking API methods run on asyncio I/O, without a server.

The blocking "API" here is a small class of the same shape as ``KeysAPI``/``KV`` (pure work
around calls of one I/O object); the asyncio I/O object records what it is asked.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from etcdmap.aio.replay import AsyncAPI, replayed
from etcdmap.http.budget import Budget


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


# ---------------------------------------------------------------------- what a run records


class Budgeted:
    """Two calls under one deadline (as ``Budget`` spreads a call's ``timeout=``)."""

    def __init__(self, io: object) -> None:
        self.io = io

    def two(self) -> list[float]:
        budget = Budget(1.0, None)
        first = budget.left()
        self.io.fetch("GET", "slow")  # type: ignore[attr-defined]
        second = budget.left()
        self.io.fetch("GET", "fast")  # type: ignore[attr-defined]
        assert first is not None and second is not None
        return [first, second]

    def counted(self) -> str:
        """Reads a changing attribute and calls a method that is not I/O around a call."""
        seen = self.io.counter  # type: ignore[attr-defined]
        self.io.bump()  # type: ignore[attr-defined]
        try:
            return f"{seen} {self.io.fetch('GET', 'k')}"  # type: ignore[attr-defined]
        finally:
            self.io.cleanup()  # type: ignore[attr-defined]

    def undoing(self) -> str:
        """Undoes its first call when interrupted there (as a lock withdraws its waiter)."""
        try:
            result: str = self.io.fetch("GET", "wait")  # type: ignore[attr-defined]
        except BaseException:
            self.io.fetch("DELETE", "waiter")  # type: ignore[attr-defined]
            raise
        return result


class Recording(AsyncIO):
    """Slow answers for some keys, and state that changes while a call awaits."""

    def __init__(self, table: dict[tuple[str, str], object], slow: float = 0.0) -> None:
        super().__init__(table)
        self.slow = slow
        self.counter = 0
        self.bumps = 0
        self.cleanups = 0
        self.reached = asyncio.Event()

    async def fetch(self, method: str, key: str) -> object:
        self.counter += 100  # changes between the runs of a replayed call
        if key in ("slow", "wait"):
            self.calls.append((method, key))
            self.reached.set()
            await asyncio.sleep(self.slow)
            return self.table[method, key]
        return await super().fetch(method, key)

    def bump(self) -> None:
        self.bumps += 1

    def cleanup(self) -> None:
        self.cleanups += 1


class AsyncBudgeted(AsyncAPI[Budgeted]):
    def __init__(self, io: AsyncIO) -> None:
        super().__init__(io, Budgeted, frozenset({"fetch"}))

    two = replayed(Budgeted.two)
    counted = replayed(Budgeted.counted)
    undoing = replayed(Budgeted.undoing)


async def test_the_clock_of_a_deadline_keeps_its_first_readings() -> None:
    io = Recording({("GET", "slow"): "s", ("GET", "fast"): "f"}, slow=0.2)
    first, second = await AsyncBudgeted(io).two()
    assert 0.95 < first <= 1.0
    assert 0.6 < second < 0.81  # the slow call's 0.2 s counted, though the runs repeat


async def test_attributes_are_read_once_and_other_methods_run_once() -> None:
    io = Recording({("GET", "k"): "v"})
    assert await AsyncBudgeted(io).counted() == "0 v"  # the counter as the first run saw it
    assert (io.bumps, io.cleanups) == (1, 1)  # not on the abandoned run's way out either


async def test_a_cancelled_call_runs_the_codes_own_cleanup_shielded() -> None:
    io = Recording({("GET", "wait"): "got", ("DELETE", "waiter"): "gone"}, slow=10)
    task = asyncio.ensure_future(AsyncBudgeted(io).undoing())
    await io.reached.wait()
    task.cancel()
    await asyncio.sleep(0.01)
    task.cancel()  # a second cancellation does not cut the cleanup short
    with pytest.raises(asyncio.CancelledError):
        await task
    assert io.calls == [("GET", "wait"), ("DELETE", "waiter")]
