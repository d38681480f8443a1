"""python-etcd's watches: ``watch`` (wait for one change) and ``eternal_watch`` (a generator).

``watch`` is one long poll through etcdmap's v2 watcher (``timeout``: seconds; 0 or ``None``
with ``read_timeout`` 0: no limit). ``eternal_watch`` subscribes to a live ``stream=true``
watch on the client's watch hub, which reads it as events come and queues them until the
generator asks: a slow consumer loses nothing, where python-etcd's chain of long polls fell
out of etcd's 1,000-event history (``EtcdEventIndexCleared``, or missed events). Only a
start ``index`` that is already out of that history raises ``EtcdEventIndexCleared``.

Thread-safety: each generator belongs to the thread that iterates it.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

from etcdmap.compat.etcd.errors import reraise
from etcdmap.compat.etcd.result import EtcdResult, result_of, result_of_change
from etcdmap.models import Change

__all__ = ["Watching"]


class _QueueSink:
    """Receives a subscription's changes and history losses into a queue."""

    def __init__(self) -> None:
        self.items: queue.Queue[Any] = queue.Queue()

    def on_change(self, change: Change) -> None:
        self.items.put(change)

    def on_progress(self, index: int) -> None:
        """Nothing to do: the generator only yields changes."""

    def on_history_lost(self, error: BaseException) -> None:
        self.items.put(error)

    def on_error(self, error: BaseException) -> None:
        """Recovered by the subscription itself."""


class Watching:
    """``watch`` and ``eternal_watch``; mixed into the client."""

    _client: Any

    def _timeout(self, timeout: float | None) -> float | None:
        raise NotImplementedError

    def _sanitize_key(self, key: str) -> str:
        raise NotImplementedError

    def _wait(self, key: str, index: Any, timeout: float | None, recursive: bool) -> EtcdResult:
        after = int(index) - 1 if index else 0
        watcher = self._client.keys.watcher(key, after_index=max(after, 0), recursive=recursive)
        try:
            return result_of(watcher.next(timeout=timeout))
        except Exception as exc:
            reraise(exc, watching=True)
        finally:
            watcher.close()

    def watch(self, key: str, index: int | None = None, timeout: float | None = None,
              recursive: bool | None = None) -> EtcdResult:
        """Wait for the next change of ``key`` (from ``index`` on, when given).

        :raises EtcdWatchTimedOut: nothing within ``timeout`` (default ``read_timeout``).
        :raises EtcdEventIndexCleared: ``index`` is older than etcd's 1,000-event history.
        """
        return self._wait(self._sanitize_key(key), index, self._timeout(timeout), bool(recursive))

    def eternal_watch(self, key: str, index: int | None = None,
                      recursive: bool | None = None) -> Iterator[EtcdResult]:
        """Yield every change of ``key`` (from ``index`` on, when given), forever.

        :raises EtcdEventIndexCleared: ``index`` is older than etcd's history.
        """
        key = self._sanitize_key(key)
        backend = self._client.backend
        try:
            after = int(index) - 1 if index else backend.current_index(key)
        except Exception as exc:
            reraise(exc)
        sink = _QueueSink()
        subscription = backend.subscribe(key, sink, after=max(after, 0),
                                         recursive=bool(recursive))
        try:
            while True:
                item = sink.items.get()
                if isinstance(item, BaseException):
                    reraise(item)
                yield result_of_change(item, item.index)
        finally:
            subscription.close()
