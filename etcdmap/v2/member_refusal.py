"""Telling etcd's refusal of a membership change from an ambiguous failure.

etcd's v2 members handler answers ``500 {"message":"Internal Server Error"}`` for every error
it has no HTTP status for (``writeError`` in ``etcd-io/etcd
release-3.5:server/etcdserver/api/v2http/http.go``). Two kinds share that answer:

- the strict reconfiguration check (``--strict-reconfig-check``, on by default) refuses the
  change *before* proposing it: ``ErrNotEnoughStartedMembers`` (the change would leave too few
  started members for quorum) or ``ErrUnhealthy`` (a member connected less than 5 s ago,
  ``HealthInterval``; e.g. right after a cluster starts). Nothing was applied; the answer is
  immediate.
- a proposal that timed out (``ErrTimeout``, ``ErrTimeoutDueToLeaderFail`` ...): it may still
  be applied. etcd gives up only after its request timeout (5 s + 2 election timeouts).

- an add refused with ``membership: ID removed`` (``ErrIDRemoved``): etcd derives a new
  member's ID from its peer URLs and the current second (``computeMemberId`` in
  ``etcd-io/etcd release-3.5:server/etcdserver/api/membership/member.go``) and never reuses
  the ID of a removed member, so peer URLs added again within the very second in which they
  were added before -- and removed since -- are refused. Nothing was applied either.

So a 500 ``Internal Server Error`` that came back in less than :data:`REFUSAL_WINDOW` seconds,
with the member list (read back once) not showing the change, is a refusal: it becomes
:class:`~etcdmap.errors.MemberChangeRefused` (``maybe_applied`` ``False``), whose message says
``ID removed`` when the add would have got the ID of a member this client removed
(:class:`RecentRemovals`), else the strict reconfiguration check. Anything else stays the
transport's :class:`~etcdmap.errors.AmbiguousResultError`.

Thread-safety: :class:`RecentRemovals` is thread-safe; the functions are pure or per call.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from etcdmap import _clock
from etcdmap.errors import AmbiguousResultError, EtcdMapError, MemberChangeRefused
from etcdmap.v2.models import Member

__all__ = ["REFUSAL_WINDOW", "RecentRemovals", "is_refusal_answer", "new_member_id", "refusals"]

REFUSAL_WINDOW = 5.0
"""Seconds: etcd's request timeout is at least 5 s, so a 500 sooner is not a timed-out proposal."""


def is_refusal_answer(error: AmbiguousResultError, elapsed: float) -> bool:
    """Whether ``error`` is the answer etcd gives when its strict reconfig check refuses.

    :param error: the transport's error for a member write.
    :param elapsed: seconds from sending the request to the answer.
    :returns: ``True`` for a 500 ``{"message": "Internal Server Error"}`` within the window.
    """
    if error.status != 500 or elapsed >= REFUSAL_WINDOW:
        return False
    try:
        obj = json.loads(error.body)
    except ValueError:
        return False
    return isinstance(obj, dict) and obj.get("message") == "Internal Server Error"


def new_member_id(peer_urls: Sequence[str], unix_second: int) -> int:
    """The ID etcd gives a member added with ``peer_urls`` during ``unix_second`` (of the
    server's clock): the first 8 bytes of SHA-1 over the sorted URLs, the cluster name (empty
    for an added member) and the second (etcd-io/etcd
    release-3.5:server/etcdserver/api/membership/member.go ``computeMemberId``)."""
    digest = hashlib.sha1(("".join(sorted(peer_urls)) + str(unix_second)).encode(),
                          usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big")


class RecentRemovals:
    """The members a client removed in the last few seconds (their IDs), to tell an add that
    etcd refused for ``membership: ID removed`` (see the module docstring).

    :param keep: how many seconds a removal is remembered.
    """

    def __init__(self, keep: float = 10.0) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._removed: OrderedDict[int, float] = OrderedDict()

    def note(self, member_id: int) -> None:
        """``member_id`` was removed now."""
        now = time.monotonic()
        with self._lock:
            self._removed[member_id] = now
            while self._removed and next(iter(self._removed.values())) < now - self._keep:
                self._removed.popitem(last=False)

    def reused(self, peer_urls: Sequence[str], sent: float, answered: float) -> int | None:
        """The removed member whose ID an add of ``peer_urls`` sent at ``sent`` and answered
        at ``answered`` (wall clock, ``time.time()``) got, if any (a second of slack each side
        for the server's clock)."""
        with self._lock:
            removed = set(self._removed)
        for second in range(int(sent) - 1, int(answered) + 2):
            candidate = new_member_id(peer_urls, second)
            if candidate in removed:
                return candidate
        return None


def refusal_message(what: str, endpoint: str) -> str:
    """The message of :class:`~etcdmap.errors.MemberChangeRefused` for a strict
    reconfiguration refusal.

    :param what: the change, e.g. ``"add a member with peer URLs http://10.0.0.4:2380"``.
    :param endpoint: the member that refused.
    """
    return (
        f"etcd refused to {what}: {endpoint} answered at once 500 Internal Server Error, its "
        "answer when the strict reconfiguration check fails: a member (re)connected less than "
        "5 s ago, or the change would leave too few started members for quorum (an add is "
        "also refused so when its peer URLs were added and removed again within the same "
        "second: etcd never reuses the ID it derives from them). The change was not applied "
        "(the member list confirms it); retry in a few seconds, once every member is up and "
        "connected"
    )


def id_removed_message(what: str, endpoint: str, removed: int) -> str:
    """The message of :class:`~etcdmap.errors.MemberChangeRefused` for an add that got the ID
    of a removed member.

    :param removed: that member's ID.
    """
    return (
        f"etcd refused to {what}: {endpoint} answered 500 Internal Server Error, which here "
        f"is etcd's \"membership: ID removed\": etcd derives a new member's ID from its peer "
        f"URLs and the current second, and these URLs were added within this same second "
        f"before, as member {removed:x}, which this client has removed since; etcd never "
        "reuses a removed member's ID. The member was not added (the member list confirms "
        "it); add it again after a second"
    )


@contextmanager
def refusals(
    what: str,
    list_members: Callable[[], Sequence[Member]],
    applied: Callable[[Sequence[Member]], bool],
    reused: Callable[[float, float], int | None] | None = None,
) -> Iterator[None]:
    """Around one member write: turn etcd's refusal into :class:`MemberChangeRefused`.

    :param what: the change in words, for the message.
    :param list_members: reads the member list (called only after a refusal-like answer).
    :param applied: whether a member list shows the change done.
    :param reused: for an add: ``reused(sent, answered)`` (wall clock) is the removed
        member whose ID the add got, if any (:meth:`RecentRemovals.reused`).
    :raises MemberChangeRefused: the write was refused and did not apply.
    :raises AmbiguousResultError: any other ambiguous outcome (unchanged), or the member list
        could not be read, or it shows the change.
    """
    start, sent = _clock.monotonic(), time.time()  # sent: the wall clock etcd derives IDs from
    try:
        yield
    except AmbiguousResultError as exc:
        if not is_refusal_answer(exc, _clock.monotonic() - start):
            raise
        removed = reused(sent, time.time()) if reused is not None else None
        try:
            done = applied(list_members())
        except EtcdMapError:
            raise exc from None  # cannot confirm: stay ambiguous
        if done:
            raise
        message = refusal_message(what, exc.endpoint) if removed is None else \
            id_removed_message(what, exc.endpoint, removed)
        raise MemberChangeRefused(message, 500, endpoint=exc.endpoint) from exc
