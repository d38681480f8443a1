"""Issue 12's pure logic (no server): raft headers, the leader's start time, what a 5xx
answer to a write says, and telling etcd's member-change refusal from an ambiguous failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import pytest

from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    MemberChangeRefused,
    RaftInternal,
    ServerError,
)
from etcdmap.v2.member_refusal import (
    REFUSAL_WINDOW,
    RecentRemovals,
    is_refusal_answer,
    new_member_id,
    refusals,
)
from etcdmap.v2.models import Member
from etcdmap.v2.stats import parse_self_stats
from etcdmap.v2.wire import decode_response

EVENT = b'{"action":"get","node":{"key":"/a","value":"1","modifiedIndex":3,"createdIndex":3}}'
REFUSAL_BODY = b'{"message":"Internal Server Error"}\n'
EP = "http://127.0.0.1:2379"


# --------------------------------------------------------------------------- raft headers


def test_raft_headers_parsed() -> None:
    r = decode_response(200, {"X-Etcd-Index": "3", "X-Raft-Index": "120", "X-Raft-Term": "2"}, EVENT)
    assert (r.raft_index, r.raft_term) == (120, 2)


@pytest.mark.parametrize("value", [None, "", "x", "-1", "1.5"])
def test_raft_headers_absent_or_malformed_are_none(value: str | None) -> None:
    headers = {"X-Etcd-Index": "3"}
    if value is not None:
        headers |= {"X-Raft-Index": value, "X-Raft-Term": value}
    r = decode_response(200, headers, EVENT)
    assert (r.raft_index, r.raft_term) == (None, None)


# --------------------------------------------------------------------------- self stats


def test_leader_start_time_is_aware_utc() -> None:
    stats = parse_self_stats({
        "id": "1", "state": "StateLeader",
        "leaderInfo": {"leader": "1", "uptime": "1s", "startTime": "2014-10-24T13:15:51.186620747-07:00"},
    })
    assert stats.leader_start_time == datetime(2014, 10, 24, 20, 15, 51, 186620, tzinfo=timezone.utc)


@pytest.mark.parametrize("info", [{}, {"startTime": 5}, {"startTime": "yesterday"}])
def test_leader_start_time_missing_or_bad_is_none(info: dict[str, object]) -> None:
    stats = parse_self_stats({"id": "1", "state": "StateFollower", "leaderInfo": info})
    assert stats.leader_start_time is None


# --------------------------------------------------------------------------- 5xx on a write


def test_ambiguous_after_a_5xx_says_what_the_member_answered() -> None:
    err = AmbiguousResultError.after(EP, ServerError(EP, 500, REFUSAL_BODY, None))
    assert (err.endpoint, err.status, err.body, err.maybe_applied) == (EP, 500, REFUSAL_BODY, True)
    text = str(err)
    assert f"{EP}, which answered HTTP 500" in text and "Internal Server Error" in text
    assert "no answer came" not in text and "may or may not have been applied" in text


def test_ambiguous_after_a_5xx_with_an_etcd_error() -> None:
    etcd_error = RaftInternal("Raft Internal Error", "etcdserver: request timed out", 9)
    err = AmbiguousResultError.after(EP, ServerError(EP, 500, b"{}", etcd_error))
    assert "etcdserver: request timed out" in str(err)


def test_ambiguous_without_an_answer() -> None:
    err = AmbiguousResultError.after(EP, TimeoutError("timed out"))
    assert (err.status, err.body) == (None, b"")
    assert "no answer came (timed out)" in str(err)


# --------------------------------------------------------------------------- refusals


def _ambiguous(status: int = 500, body: bytes = REFUSAL_BODY) -> AmbiguousResultError:
    return AmbiguousResultError.after(EP, ServerError(EP, status, body, None))


@pytest.mark.parametrize(
    ("error", "elapsed", "expected"),
    [
        (_ambiguous(), 0.01, True),
        (_ambiguous(), REFUSAL_WINDOW, False),  # late: could be etcd's request timeout
        (_ambiguous(503), 0.01, False),
        (_ambiguous(body=b'{"message":"other"}'), 0.01, False),
        (_ambiguous(body=b"<html>"), 0.01, False),
        (AmbiguousResultError.after(EP, OSError("reset")), 0.01, False),
    ],
)
def test_is_refusal_answer(error: AmbiguousResultError, elapsed: float, expected: bool) -> None:
    assert is_refusal_answer(error, elapsed) is expected


MEMBERS = [Member("a1", "m0", ("http://127.0.0.1:1",))]


def _run(error: BaseException, members: Sequence[Member] | BaseException, applied: bool) -> None:
    def list_members() -> Sequence[Member]:
        if isinstance(members, BaseException):
            raise members
        return members

    with refusals("add a member with peer URLs x", list_members, lambda ms: applied):
        raise error


def test_refusal_that_did_not_apply_becomes_member_change_refused() -> None:
    with pytest.raises(MemberChangeRefused) as info:
        _run(_ambiguous(), MEMBERS, applied=False)
    assert info.value.maybe_applied is False and info.value.endpoint == EP
    assert str(info.value).startswith("etcd refused to add a member with peer URLs x: ")
    assert str(info.value).endswith("(HTTP 500)")


def test_refusal_shape_but_the_change_is_visible_stays_ambiguous() -> None:
    with pytest.raises(AmbiguousResultError):
        _run(_ambiguous(), MEMBERS, applied=True)


def test_refusal_shape_but_the_list_cannot_be_read_stays_ambiguous() -> None:
    with pytest.raises(AmbiguousResultError) as info:
        _run(_ambiguous(), ClusterError([]), applied=False)
    assert not isinstance(info.value, MemberChangeRefused)


def test_other_ambiguous_failures_pass_through() -> None:
    original = AmbiguousResultError.after(EP, OSError("reset"))
    with pytest.raises(AmbiguousResultError) as info:
        _run(original, MEMBERS, applied=False)
    assert info.value is original


def test_an_add_that_got_a_removed_members_id_is_told_apart() -> None:
    urls = ["http://127.0.0.1:7001"]
    now = 1_764_900_000.4
    removals = RecentRemovals()
    removals.note(new_member_id(urls, int(now)))  # added and removed in this second
    assert removals.reused(urls, now, now + 0.05) == new_member_id(urls, int(now))
    assert removals.reused(urls, now + 5, now + 5.05) is None  # a later second: a new ID
    assert removals.reused(["http://127.0.0.1:7002"], now, now) is None
    with pytest.raises(MemberChangeRefused) as info, \
            refusals("add a member with peer URLs x", lambda: MEMBERS, lambda ms: False,
                     lambda sent, answered: 0xABC):
        raise _ambiguous()
    assert '"membership: ID removed"' in str(info.value) and "as member abc," in str(info.value)
    assert "strict reconfiguration" not in str(info.value)
    assert info.value.maybe_applied is False
