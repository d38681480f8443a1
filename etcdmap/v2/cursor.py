"""The pure index bookkeeping of a v2 watch (no I/O), used by the v2 subscriptions
(:mod:`etcdmap.v2.subscription_polls`) under :class:`etcdmap.mapping.watch.Watch`.

Internal: import it as ``from etcdmap.v2.cursor import WatchCursor`` (no other path). The rules
(etcd-io/etcd release-3.5:server/etcdserver/api/v2store/watcher_hub.go and
etcd-io/etcd release-3.4:Documentation/v2/api.md, "Waiting for a change"):

- a watch delivers events from ``after_index + 1`` on and resumes after each event's
  ``modifiedIndex`` (never after the response's ``X-Etcd-Index``: that is the watch's start);
- the live ``stream=true`` watch is opened without ``waitIndex`` (registered "from now", at
  its ``X-Etcd-Index`` ``S``); the events between the last delivered one and ``S`` are
  backfilled from history with long polls, each answered at once when history has a match;
- an empty ``200`` re-polls from the same index (with a capped backoff when it repeats);
- ``EventIndexCleared`` (401) or ``WatcherCleared`` (400) means the history is gone: re-read,
  then go on from the read's index + 1;
- etcd silently drops a stream whose 100-event buffer overflowed (it stops without ending), so
  a stream that goes quiet right after a busy period is probed (:class:`QuietProbe`): a long
  poll from ``next_index`` that etcd answers at once from history proves the stream missed an
  event (:meth:`WatchCursor.stream_missed`).
"""

from __future__ import annotations

import enum

from etcdmap.errors import EventIndexCleared, WatcherCleared

__all__ = ["QuietProbe", "Verdict", "WatchCursor"]


class Verdict(enum.Enum):
    """What to do with an event a backfill poll returned."""

    DELIVER = "deliver"
    """A new event: deliver it."""
    SKIP = "skip"
    """Already delivered (an older index): drop it."""
    DONE = "done"
    """Newer than the stream's start: the stream delivers it; the backfill is complete."""


class WatchCursor:
    """The pure index bookkeeping of a watch (no I/O; not thread-safe: one watch thread, or
    the holder of the hub subscription's lock).

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

    def stream_missed(self, index: int) -> bool:
        """A probe poll from :attr:`next_index` returned the event at ``index`` (from history).

        :returns: whether the live stream missed it: a live stream delivers every event, so an
            event at or above :attr:`next_index` it did not deliver (after a short grace)
            means etcd dropped the stream. The probe's event is never delivered itself: the
            reconnect's backfill delivers it, once and in order.
        """
        return index >= self.next_index

    def resynced(self, index: int) -> None:
        """The subtree was re-read at ``index``: go on from ``index + 1``."""
        self.empty_polls = 0
        self.next_index = max(self.next_index, index + 1)

    @staticmethod
    def needs_resync(error: BaseException) -> bool:
        """Whether ``error`` means the history is gone (401 EventIndexCleared, 400 cleared)."""
        return isinstance(error, (EventIndexCleared, WatcherCleared))


class QuietProbe:
    """When to probe a live stream that went quiet after a busy period (pure: times passed in).

    A stream etcd dropped (etcd-io/etcd release-3.5:server/etcdserver/api/v2store/watcher.go: its
    100-event buffer overflowed while the client or the
    server was busy) stays silent without ending. Only a busy stream can overflow, so a probe
    is due ``window`` seconds after the last event when nothing followed; an idle watch (no
    event since the last probe) is never probed.

    :param window: seconds of silence after the last event before a probe is due.

    :ivar last_event: when the last event not yet followed by a probe arrived (``None``: idle).

    Not thread-safe: callers serialise :meth:`event`, :meth:`due` and :meth:`reset`.
    """

    __slots__ = ("last_event", "window")

    def __init__(self, window: float) -> None:
        if window <= 0:
            raise ValueError(f"window must be > 0, got {window}")
        self.window = window
        self.last_event: float | None = None

    def event(self, now: float) -> None:
        """An event was delivered at time ``now`` (a busy period starts or goes on)."""
        self.last_event = now

    def due(self, now: float) -> float | None:
        """Whether to probe at time ``now``.

        :returns: ``None``: idle, nothing to probe; ``0.0``: probe now (the busy period counts
            as probed: the next probe needs a new event); else the seconds left to wait before
            asking again.
        """
        last = self.last_event
        if last is None:
            return None
        left = last + self.window - now
        if left > 0:
            return left
        self.last_event = None
        return 0.0

    def reset(self) -> None:
        """The stream was closed: forget the busy period (the reconnect backfills anyway)."""
        self.last_event = None
