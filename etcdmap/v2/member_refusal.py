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

So a 500 ``Internal Server Error`` that came back in less than :data:`REFUSAL_WINDOW` seconds,
with the member list (read back once) not showing the change, is a refusal: it becomes
:class:`~etcdmap.errors.MemberChangeRefused` (``maybe_applied`` ``False``). Anything else stays
the transport's :class:`~etcdmap.errors.AmbiguousResultError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from etcdmap import _clock
from etcdmap.errors import AmbiguousResultError, EtcdMapError, MemberChangeRefused
from etcdmap.v2.models import Member

__all__ = ["REFUSAL_WINDOW", "is_refusal_answer", "refusals"]

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


def refusal_message(what: str, endpoint: str) -> str:
    """The message of :class:`~etcdmap.errors.MemberChangeRefused`.

    :param what: the change, e.g. ``"add a member with peer URLs http://10.0.0.4:2380"``.
    :param endpoint: the member that refused.
    """
    return (
        f"etcd refused to {what}: {endpoint} answered at once 500 Internal Server Error, its "
        "answer when the strict reconfiguration check fails: a member (re)connected less than "
        "5 s ago, or the change would leave too few started members for quorum. The change "
        "was not applied (the member list confirms it); retry in a few seconds, once every "
        "member is up and connected"
    )


@contextmanager
def refusals(
    what: str,
    list_members: Callable[[], Sequence[Member]],
    applied: Callable[[Sequence[Member]], bool],
) -> Iterator[None]:
    """Around one member write: turn etcd's refusal into :class:`MemberChangeRefused`.

    :param what: the change in words, for the message.
    :param list_members: reads the member list (called only after a refusal-like answer).
    :param applied: whether a member list shows the change done.
    :raises MemberChangeRefused: the write was refused and did not apply.
    :raises AmbiguousResultError: any other ambiguous outcome (unchanged), or the member list
        could not be read, or it shows the change.
    """
    start = _clock.monotonic()
    try:
        yield
    except AmbiguousResultError as exc:
        if not is_refusal_answer(exc, _clock.monotonic() - start):
            raise
        try:
            done = applied(list_members())
        except EtcdMapError:
            raise exc from None  # cannot confirm: stay ambiguous
        if done:
            raise
        raise MemberChangeRefused(
            refusal_message(what, exc.endpoint), 500, endpoint=exc.endpoint
        ) from exc
