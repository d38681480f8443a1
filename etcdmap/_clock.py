"""The monotonic clock of code that may be replayed (:mod:`etcdmap.aio.replay`).

A blocking method that reads the clock to spread one call's deadline over several requests
(:class:`~etcdmap.http.budget.Budget`) or to judge how long a request took reads it here.
Normally that is :func:`time.monotonic`; while :mod:`etcdmap.aio.replay` runs such a method
again with the answers it already has, the clock gives back the readings of the first runs,
so every run sees the same times up to the point where it stops -- and the deadline of the
whole call keeps counting from its real start.

Thread-safety: the override is a context variable: it applies to the thread (or task) that
set it only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["monotonic", "recorded"]

_CLOCK: ContextVar[Callable[[], float] | None] = ContextVar("etcdmap_clock", default=None)


def monotonic() -> float:
    """:func:`time.monotonic`, or the recorded clock of a replay (see the module docstring).

    :returns: seconds of a monotonic clock.
    """
    clock = _CLOCK.get()
    return time.monotonic() if clock is None else clock()


@contextmanager
def recorded(clock: Callable[[], float]) -> Iterator[None]:
    """Read ``clock`` instead of :func:`time.monotonic` inside the block (this context only).

    :param clock: the clock to read.
    """
    token = _CLOCK.set(clock)
    try:
        yield
    finally:
        _CLOCK.reset(token)
