"""``deadline(when)``: bound the awaits of a block by an absolute event-loop time.

Python 3.11's :func:`asyncio.timeout_at`; on 3.10 an equivalent that cancels the task at
``when`` and turns that cancellation into :class:`TimeoutError` (without
``Task.uncancel``, a cancellation from outside that lands in the same instant may be reported
as the timeout).

Both forms are public so that the 3.10 one is tested on every Python. Thread-safety: each
call belongs to the running event loop's current task.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

__all__ = ["deadline", "deadline_310"]


@asynccontextmanager
async def deadline_310(when: float | None) -> AsyncIterator[None]:
    """The 3.10 form of :func:`deadline` (tested on every version).

    :param when: the loop time at which the block is cancelled (``None``: never).
    :raises TimeoutError: ``when`` came before the block ended.
    """
    if when is None:
        yield
        return
    task = asyncio.current_task()
    assert task is not None, "deadline() needs a task"
    fired = False

    def expire() -> None:
        nonlocal fired
        fired = True
        task.cancel()

    handle = asyncio.get_running_loop().call_at(when, expire)
    try:
        yield
    except asyncio.CancelledError as exc:
        if fired:
            raise TimeoutError("timed out (attempt deadline)") from exc
        raise
    finally:
        handle.cancel()


def deadline(when: float | None) -> AbstractAsyncContextManager[object]:
    """``async with deadline(when):`` -- the block's awaits end with :class:`TimeoutError` at
    loop time ``when`` (``None``: no limit).

    :param when: an absolute ``loop.time()``.
    """
    if sys.version_info >= (3, 11):
        return asyncio.timeout_at(when)
    return deadline_310(when)  # pragma: no cover - Python 3.10
