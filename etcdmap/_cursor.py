"""The pure index bookkeeping of a watch (no I/O), used by :class:`etcdmap.watch.Watch`.

Public through :mod:`etcdmap.watch` (``from etcdmap.watch import WatchCursor``). The rules
(spec §1.8, §4.8, §6 rows 7-12):

- a watch delivers events from ``after_index + 1`` on and resumes after each event's
  ``modifiedIndex`` (never after the response's ``X-Etcd-Index``: that is the watch's start);
- the live ``stream=true`` watch is opened without ``waitIndex`` (registered "from now", at
  its ``X-Etcd-Index`` ``S``); the events between the last delivered one and ``S`` are
  backfilled from history with long polls, each answered at once when history has a match;
- an empty ``200`` re-polls from the same index (with a capped backoff when it repeats);
- ``EventIndexCleared`` (401) or ``WatcherCleared`` (400) means the history is gone: re-read,
  then go on from the read's index + 1.
"""

from __future__ import annotations

import enum

from etcdmap.errors import EventIndexCleared, WatcherCleared

__all__ = ["Verdict", "WatchCursor"]


class Verdict(enum.Enum):
    """What to do with an event a backfill poll returned."""

    DELIVER = "deliver"
    """A new event: deliver it."""
    SKIP = "skip"
    """Already delivered (an older index): drop it."""
    DONE = "done"
    """Newer than the stream's start: the stream delivers it; the backfill is complete."""


class WatchCursor:
    """The pure index bookkeeping of a watch (no I/O; not thread-safe: one watch thread).

    :param after_index: every event up to this index is already known; the watch delivers
        events from ``after_index + 1`` on.

    :ivar next_index: the first index not delivered yet.
    :ivar stream_start: the ``X-Etcd-Index`` of the open stream: it delivers events above it.
    :ivar empty_polls: consecutive empty answers (used for the re-poll backoff).
    """

    __slots__ = ("empty_polls", "next_index", "stream_start")

    def __init__(self, after_index: int) -> None:
        if after_index < 0:
            raise ValueError(f"after_index must be >= 0, got {after_index}")
        self.next_index = after_index + 1
        self.stream_start = after_index
        self.empty_polls = 0

    @property
    def last_index(self) -> int:
        """Every event up to this index has been delivered (or proven not to concern us)."""
        return self.next_index - 1

    @staticmethod
    def stream_params(recursive: bool) -> list[tuple[str, str]]:
        """Query of the live stream: no ``waitIndex``, so etcd registers it at once."""
        base = [("recursive", "true")] if recursive else []
        return [*base, ("stream", "true"), ("wait", "true")]

    def poll_params(self, recursive: bool) -> list[tuple[str, str]]:
        """Query of a backfill long poll from :attr:`next_index`."""
        base = [("recursive", "true")] if recursive else []
        return [*base, ("wait", "true"), ("waitIndex", str(self.next_index))]

    def stream_opened(self, start: int) -> None:
        """A stream is registered at store index ``start`` (its ``X-Etcd-Index``)."""
        self.stream_start = start
        self.empty_polls = 0

    @property
    def needs_backfill(self) -> bool:
        """Whether events between :attr:`next_index` and :attr:`stream_start` may be missing."""
        return self.next_index <= self.stream_start

    def backfill_event(self, index: int) -> Verdict:
        """A backfill poll returned the event at ``index`` (its ``modifiedIndex``)."""
        self.empty_polls = 0
        if index > self.stream_start:
            # The first event >= next_index is newer than the stream's start: nothing in
            # [next_index, stream_start] concerns us and the stream delivers this one.
            self.next_index = max(self.next_index, self.stream_start + 1)
            return Verdict.DONE
        if index < self.next_index:
            return Verdict.SKIP
        self.next_index = index + 1
        return Verdict.DELIVER

    def backfill_idle(self, poll_start: int) -> None:
        """A poll registered at ``poll_start`` stayed silent for the idle window.

        etcd answers a poll whose range has a matching event in its history at once, so
        silence proves no event in ``[next_index, poll_start]`` concerns us.
        """
        self.empty_polls = 0
        self.next_index = max(self.next_index, poll_start + 1)

    def empty(self) -> float:
        """An empty ``200`` (the server ended the poll early): re-poll from the same index.

        :returns: seconds to wait first: 0 for the first three in a row, then a capped backoff.
        """
        self.empty_polls += 1
        if self.empty_polls <= 3:
            return 0.0
        return float(min(1.0, 0.05 * 2.0 ** (self.empty_polls - 4)))

    def stream_event(self, index: int) -> bool:
        """The stream delivered the event at ``index``; ``False`` if it was delivered already."""
        if index < self.next_index:
            return False
        self.next_index = index + 1
        return True

    def resynced(self, index: int) -> None:
        """The subtree was re-read at ``index``: go on from ``index + 1``."""
        self.empty_polls = 0
        self.next_index = max(self.next_index, index + 1)

    @staticmethod
    def needs_resync(error: BaseException) -> bool:
        """Whether ``error`` means the history is gone (401 EventIndexCleared, 400 cleared)."""
        return isinstance(error, (EventIndexCleared, WatcherCleared))
