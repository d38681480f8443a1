"""A hub subscription read as an iterator: :class:`PulledChanges` is the
:class:`~etcdmap.backend.ChangeStream` of the v2 and v3 backends (``backend.changes()``, used
by consumers that pull, such as the CLI's ``watch``), on the same subscription as the
mapping-level watches, so both share one lifecycle.

Thread-safety: iterate from one thread; :meth:`PulledChanges.close` and
:meth:`PulledChanges.nudge` from any thread.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from etcdmap.backend import Progress

if TYPE_CHECKING:
    from etcdmap.backend import ChangeSink, Subscription
    from etcdmap.models import Change

__all__ = ["PulledChanges"]

_QUEUED = 10_000
"""Items waiting for the reader above which the subscription's lane waits (backpressure)."""


class _Lost:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


class PulledChanges:
    """The changes of a subscription, pulled (see the module docstring).

    Iterating yields :class:`~etcdmap.models.Change` and :class:`~etcdmap.backend.Progress`
    until :meth:`close`; a lost history raises :class:`~etcdmap.errors.HistoryLost` (the
    consumer re-reads and opens a new stream); failures the subscription recovered from go
    to ``on_error``.

    :param subscribe: starts the subscription with this object as its sink.
    :param on_error: called (on a dispatcher thread) with each recovered failure.
    """

    def __init__(self, subscribe: Callable[[ChangeSink], Subscription],
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self._queue: queue.Queue[object] = queue.Queue(_QUEUED)
        self._on_error = on_error
        self._closed = False
        self._sub = subscribe(self)

    @property
    def endpoint(self) -> str | None:
        """The member the stream reads from."""
        return self._sub.endpoint

    @property
    def probes(self) -> int:
        """How many probes the subscription sent."""
        return self._sub.probes

    @property
    def dropped(self) -> int:
        """How many times the subscription's stream was dropped (then reconnected)."""
        return self._sub.dropped

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __iter__(self) -> Iterator[Change | Progress]:
        while not self._closed:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Lost):
                self.close()
                raise item.error
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """End the iteration (any thread; idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._sub.close(timeout=0)
        while True:  # make room for the end mark
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(_END)

    def nudge(self) -> None:
        """Look for missed changes now."""
        self._sub.nudge()

    # ------------------------------------------------------------------ the sink

    def _put(self, item: object) -> None:
        while not self._closed:
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def on_change(self, change: Change) -> None:
        """See :class:`~etcdmap.backend.ChangeSink`."""
        self._put(change)

    def on_progress(self, index: int) -> None:
        """See :class:`~etcdmap.backend.ChangeSink`."""
        self._put(Progress(index))

    def on_history_lost(self, error: BaseException) -> None:
        """Raised from the iteration (the subscription stays paused until closed)."""
        self._put(_Lost(error))

    def on_error(self, error: BaseException) -> None:
        """Passed to ``on_error``."""
        if self._on_error is not None:
            self._on_error(error)
