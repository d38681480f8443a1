"""The change streams of :class:`~etcdmap.mapping.memory.MemoryBackend`, and the history
of changes they read (:class:`ChangeHistory`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Protocol

from etcdmap.backend import Progress
from etcdmap.errors import HistoryLost
from etcdmap.mapping.memory_nodes import key_of, parts_of
from etcdmap.models import Change

__all__ = ["ChangeHistory", "MemoryChangeStream"]

_REMOVALS = frozenset({"delete", "compareAndDelete", "expire"})


class ChangeHistory:
    """The last ``size`` changes of a store, as etcd v2 keeps its last 1,000 events (the
    backend's lock guards it).

    :param size: how many changes are kept.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._changes: deque[Change] = deque()
        self._horizon = 0  # every change with an index above it is kept

    def record(self, change: Change) -> None:
        """Keep ``change`` (the newest), forgetting the oldest beyond ``size``."""
        self._changes.append(change)
        while len(self._changes) > self.size:
            self._horizon = self._changes.popleft().index

    def check(self, after: int) -> None:
        """:raises HistoryLost: changes above ``after`` are no longer kept."""
        if after < self._horizon:
            raise HistoryLost(
                f"the memory store keeps the last {self.size} changes: index {after + 1} is "
                f"gone (the oldest kept is {self._horizon + 1}); re-read and watch from the "
                "read's index"
            )

    def after(self, index: int, wants: Callable[[Change], bool]) -> list[Change]:
        """The kept changes above ``index`` that ``wants`` takes, oldest first."""
        batch: list[Change] = []
        for change in reversed(self._changes):
            if change.index <= index:
                break
            if wants(change):
                batch.append(change)
        batch.reverse()
        return batch


class ChangeLog(Protocol):
    """What a stream needs of its store (:class:`~etcdmap.mapping.memory.MemoryBackend`)."""

    def wait_changes(
        self, stream: MemoryChangeStream, after: int
    ) -> tuple[list[Change], int] | None:
        """Block until changes above ``after`` (``None``: the stream closed)."""

    def wake(self) -> None:
        """Wake every waiting stream."""


class MemoryChangeStream:
    """The changes below a key of a :class:`~etcdmap.mapping.memory.MemoryBackend`, in index order (see
    :class:`~etcdmap.backend.ChangeStream`): each batch of changes is followed by a
    :class:`~etcdmap.backend.Progress` with the store's index, so indexes without a change
    for this key (refreshes, writes elsewhere) are reported too.

    Between changes the iterating thread waits on the backend's condition (woken by writes,
    :meth:`close` and :meth:`nudge`, and when a TTL is due).

    Thread-safety: iterate from one thread; :meth:`close` and :meth:`nudge` from any thread.
    """

    def __init__(
        self, backend: ChangeLog, key: str, *, after: int, recursive: bool = True,
        idle_timeout: float = 1.0,
    ) -> None:
        self._backend = backend
        self._root = key_of(parts_of(key))
        self._after = after
        self._recursive = recursive
        self.idle_timeout = idle_timeout
        """The longest wait before TTLs are checked again (for a fake, jumping clock)."""
        self.closed = False
        """Whether :meth:`close` was called."""

    @property
    def endpoint(self) -> str | None:
        """``None``: no member behind it."""
        return None

    def __iter__(self) -> Iterator[Change | Progress]:
        while True:
            got = self._backend.wait_changes(self, self._after)
            if got is None:
                return
            batch, index = got
            for change in batch:
                yield change
                if self.closed:
                    return
            self._after = index
            yield Progress(index)

    def close(self) -> None:
        """End the iteration (from any thread; idempotent)."""
        self.closed = True
        self._backend.wake()

    def nudge(self) -> None:
        """Wake the stream to expire what is due and look again."""
        self._backend.wake()

    def wants(self, change: Change) -> bool:
        """Whether ``change`` concerns this stream: the key itself, a non-hidden key below it
        (``recursive``), or the removal of a directory above it (as etcd's watcher hub)."""
        key = change.node.key
        root = self._root
        if key == root:
            return True
        if root.startswith(key + "/"):
            return change.action in _REMOVALS
        if not self._recursive or not key.startswith(root + "/"):
            return False
        return "/_" not in key[len(root):]
