"""Where a v3 watch resumes: the one copy of resume-by-revision (pure, no I/O).

A v3 watch never loses nor repeats an event when it remembers the last revision it
delivered completely and every (re)open asks for ``start_revision = last + 1``: the events of
one revision (a txn, a deleterange, a lease expiry) always come in one message, or in one run
of fragments (etcd-io/etcd release-3.5:server/etcdserver/api/v3rpc/watch.go ``sendFragments``),
so a message is taken whole or not at all. Events at or below the last revision are dropped
should a member send them again (a reopened stream on another member).

:class:`RevisionCursor` is that bookkeeping for one watch; :func:`scope` is which keys of a
watched range a mapping-level watch reports (its directory, its marker, the keys below it
but hidden ones). Used by the public :class:`~etcdmap.v3.watch.Watcher` and by the hub
subscriptions (:mod:`etcdmap.v3.subscription`).

Thread-safety: a cursor is not thread-safe; its owner serializes the calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from etcdmap.v3.errors import PermissionDenied, V3Error, error_from_fields
from etcdmap.v3.layout import is_hidden
from etcdmap.v3.models import Event, WatchResponse
from etcdmap.v3.wire import compacted_error

__all__ = ["RevisionCursor", "cancel_error", "scope"]

_MAX_FRAGMENTS = 100_000
"""Events of one fragmented message kept before the message is refused."""


def cancel_error(msg: WatchResponse) -> V3Error:
    """The error of a watch etcd canceled: compacted start revision
    (:class:`~etcdmap.v3.errors.RevisionCompacted`, a ``HistoryLost``), permission denied, or
    the server's reason."""
    if msg.compact_revision:
        return compacted_error(msg)
    reason = msg.cancel_reason or "the server canceled the watch"
    if "PermissionDenied" in reason or "permission denied" in reason:
        return PermissionDenied(reason, grpc_code=7)
    return error_from_fields(0, reason)


class RevisionCursor:
    """The resume point of one v3 watch (see the module docstring).

    :param after: the last revision already delivered (``-1``: none yet; the watch starts at
        the server's current revision, which the ``created`` message tells).
    """

    __slots__ = ("_fragments", "last")

    def __init__(self, after: int = -1) -> None:
        self.last = after
        """The last revision delivered completely."""
        self._fragments: list[Event] = []

    @property
    def start_revision(self) -> int:
        """The ``start_revision`` of the next (re)open (0: from now)."""
        return self.last + 1 if self.last >= 0 else 0

    def reopened(self) -> None:
        """A new stream starts: fragments of a message cut short are forgotten."""
        self._fragments = []

    def resynced(self, revision: int) -> None:
        """The consumer re-read the state at ``revision``: go on after it."""
        self.last = revision
        self._fragments = []

    def accept(self, msg: WatchResponse) -> WatchResponse | None:
        """Take one message of the watch.

        :returns: the message to act on, its events cut to the fresh ones (``None``: nothing
            new, or a fragment whose message is not complete yet). A ``created`` or progress
            message moves :attr:`last` when it tells a newer revision.
        :raises V3Error: etcd canceled the watch (:func:`cancel_error`).
        :raises ValueError: a fragmented message grew past 100,000 events.
        """
        if msg.canceled:
            raise cancel_error(msg)
        if msg.fragment:
            self._fragments += msg.events
            if len(self._fragments) > _MAX_FRAGMENTS:
                raise ValueError(f"a fragmented watch message has more than {_MAX_FRAGMENTS} events")
            return None
        if self._fragments:
            msg = replace(msg, events=(*self._fragments, *msg.events))
            self._fragments = []
        if msg.created:
            if self.last < 0:
                self.last = msg.header.revision
            return msg
        if msg.events:
            fresh = tuple(ev for ev in msg.events if ev.kv.mod_revision > self.last)
            if not fresh:
                return None
            self.last = max(ev.kv.mod_revision for ev in fresh)
            return msg if len(fresh) == len(msg.events) else replace(msg, events=fresh)
        if msg.is_progress and msg.header.revision > self.last:
            self.last = msg.header.revision
        return msg


def scope(root: str, recursive: bool) -> Callable[[str], bool]:
    """Which keys a mapping-level watch of ``root`` reports: the key itself and its directory
    marker, and (``recursive``) every key below it but hidden ones (``_name``)."""
    root = root.rstrip("/")
    below = root + "/"

    def wants(key: str) -> bool:
        if key in (root, below):
            return True
        if not recursive or not key.startswith(below):
            return False
        return not is_hidden(key[len(below):])

    return wants
