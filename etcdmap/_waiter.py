"""An index that only grows, and a way to wait for it: shared by watches of every layer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["NUDGE_AFTER", "IndexWaiter"]

NUDGE_AFTER = 0.05
"""Seconds a waiter waits before it nudges the watch to look for missed changes (once)."""


class IndexWaiter:
    """An index that only grows, and a way to wait for it (thread-safe).

    The watch thread calls :meth:`advance`; any thread may :meth:`wait_for` an index.
    """

    __slots__ = ("_cond", "_index")

    def __init__(self, index: int = 0) -> None:
        self._index = index
        self._cond = threading.Condition()

    @property
    def index(self) -> int:
        """The current index."""
        return self._index

    def advance(self, index: int) -> None:
        """Raise the index to ``index`` (never lowers it) and wake the waiters."""
        if index > self._index:
            with self._cond:
                if index > self._index:
                    self._index = index
                    self._cond.notify_all()

    def wait_for(
        self, index: int, timeout: float | None, nudge: Callable[[], None] | None = None
    ) -> bool:
        """Wait until the index reaches ``index``.

        :param index: the index to reach.
        :param timeout: seconds at most (``None``: no limit).
        :param nudge: called once if the index is not reached within :data:`NUDGE_AFTER`.
        :returns: whether it was reached.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        nudge_at: float | None = time.monotonic() + NUDGE_AFTER
        with self._cond:
            while self._index < index:
                now = time.monotonic()
                if nudge_at is not None and now >= nudge_at:
                    nudge_at = None
                    if nudge is not None:
                        nudge()
                remaining = None if deadline is None else deadline - now
                if remaining is not None and remaining <= 0:
                    return False
                if nudge_at is not None and (remaining is None or remaining > 0.05):
                    remaining = 0.05
                self._cond.wait(remaining)
        return True

