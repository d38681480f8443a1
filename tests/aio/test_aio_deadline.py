"""``etcdmap.aio.deadline``: the attempt budget's scope, and its Python 3.10 form run here too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from etcdmap.aio.deadline import deadline, deadline_310

Scope = Callable[[float | None], AbstractAsyncContextManager[object]]
SCOPES = [deadline, deadline_310]


@pytest.mark.parametrize("scope", SCOPES, ids=["current", "3.10"])
async def test_the_block_ends_with_a_timeout_error_at_the_deadline(scope: Scope) -> None:
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with scope(loop.time() + 0.05):
            await asyncio.sleep(5)
    assert 0.04 < time.monotonic() - started < 1.0


@pytest.mark.parametrize("scope", SCOPES, ids=["current", "3.10"])
async def test_no_deadline_and_a_block_that_ends_in_time(scope: Scope) -> None:
    loop = asyncio.get_running_loop()
    async with scope(None):
        await asyncio.sleep(0.01)
    async with scope(loop.time() + 5):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.01)  # the expired handle of a finished block cancels nothing


@pytest.mark.parametrize("scope", SCOPES, ids=["current", "3.10"])
async def test_a_cancellation_from_outside_stays_a_cancellation(scope: Scope) -> None:
    loop = asyncio.get_running_loop()

    async def block() -> None:
        async with scope(loop.time() + 5):
            await asyncio.sleep(5)

    task = asyncio.ensure_future(block())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
