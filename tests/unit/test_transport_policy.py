"""The transport's pure policy (``etcdmap.http.policy``): endpoint order and pinning, budgets,
the failure table, 5xx decoding, the cluster-id check and redirect decisions, on a fake clock."""

from __future__ import annotations

import json

import pytest

from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    DeadlineExceeded,
    DirectoryTTLUnsupported,
    InvalidResponseError,
    RaftInternal,
    ServerError,
    TooManyRedirectsError,
)
from etcdmap.http.attempt import AttemptError
from etcdmap.http.options import TransportOptions
from etcdmap.http.policy import Attempt, Plan, Policy, Redirects, encode_call
from etcdmap.v2 import wire as _wire

A, B, C = "http://a:1", "http://b:2", "http://c:3"
NO_HEADERS: dict[str, str] = {}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The fake clock; endpoints keep the order given (no shuffle) so that A, B, C is the ring."""
    monkeypatch.setattr("etcdmap.http.pinning.random.shuffle", lambda endpoints: None)
    return Clock()


def policy(clock: Clock, *, server_error: bool = False, **settings: object) -> Policy:
    p = Policy([A, B, C], TransportOptions.build("test", None, settings),
               _wire.server_error if server_error else None, clock=clock)
    assert p.order() == [A, B, C]
    return p


def refused() -> AttemptError:
    return AttemptError(ConnectionRefusedError("refused"), sent=False)


def reset() -> AttemptError:
    return AttemptError(ConnectionResetError("reset"), sent=True)


def timed_out() -> AttemptError:
    return AttemptError(TimeoutError("timed out"), sent=True, timed_out=True)


def judge(plan: Plan, attempt: Attempt, status: int, headers: dict[str, str],
          body: bytes | None) -> bool:
    """What a shell does with an answer: ``True``: the call's answer; ``False``: recorded as
    a failed attempt (which may raise)."""
    failure = plan.check(attempt, status, headers, body)
    if failure is None:
        return True
    plan.failed(attempt, failure)
    return False


def walk(plan: Plan, failures: list[AttemptError]) -> list[str]:
    """Fail one attempt per entry of ``failures``; returns the endpoints tried."""
    tried = []
    for failure in failures:
        attempt = plan.next_attempt()
        tried.append(attempt.endpoint)
        plan.failed(attempt, failure)
    return tried


# ---------------------------------------------------------------------- order and pinning


def test_the_pinned_endpoint_goes_first_then_the_ring(clock: Clock) -> None:
    p = policy(clock)
    order = p.endpoints
    p.pin(order[1])
    assert p.order() == order[1:] + order[:1]
    assert p.order("http://x:9/") == ["http://x:9"]


def test_every_endpoint_once_then_a_cluster_error_with_each(clock: Clock) -> None:
    plan = policy(clock).plan("/v2/keys/k", idempotent=True)
    assert walk(plan, [refused(), reset(), refused()]) == [A, B, C]
    with pytest.raises(ClusterError) as info:
        plan.next_attempt()
    assert [ep for ep, _ in info.value.errors] == [A, B, C]
    assert info.value.maybe_applied  # the reset on B may have reached it


def test_never_sent_everywhere_is_not_maybe_applied(clock: Clock) -> None:
    plan = policy(clock).plan("/k", idempotent=False)
    walk(plan, [refused()] * 3)
    with pytest.raises(ClusterError) as info:
        plan.next_attempt()
    assert not info.value.maybe_applied


def test_success_on_another_endpoint_pins_it(clock: Clock) -> None:
    p = policy(clock)
    plan = p.plan("/k", idempotent=True)
    walk(plan, [refused()])
    attempt = plan.next_attempt()
    assert judge(plan, attempt, 200, NO_HEADERS, b"{}")
    assert p.pinned == B


def test_an_explicit_endpoint_is_the_only_one_and_never_pinned(clock: Clock) -> None:
    p = policy(clock)
    plan = p.plan("/k", idempotent=True, endpoint=C)
    attempt = plan.next_attempt()
    assert attempt.endpoint == C
    assert judge(plan, attempt, 200, NO_HEADERS, b"")
    assert p.pinned == A
    plan = p.plan("/k", idempotent=True, endpoint=C)
    walk(plan, [refused()])
    with pytest.raises(ClusterError):
        plan.next_attempt()


# ---------------------------------------------------------------------- idempotency


def test_a_sent_non_idempotent_write_is_ambiguous_and_unpins(clock: Clock) -> None:
    p = policy(clock)
    plan = p.plan("/k", idempotent=False)
    attempt = plan.next_attempt()
    with pytest.raises(AmbiguousResultError) as info:
        plan.failed(attempt, reset())
    assert info.value.endpoint == A
    assert isinstance(info.value.__cause__, ConnectionResetError)
    assert p.pinned == B  # the next call starts at the next member


def test_a_never_sent_write_goes_to_the_next_endpoint(clock: Clock) -> None:
    plan = policy(clock).plan("/k", idempotent=False)
    assert walk(plan, [refused()]) == [A]
    assert plan.next_attempt().endpoint == B


def test_idempotent_calls_fail_over_after_a_sent_failure(clock: Clock) -> None:
    plan = policy(clock).plan("/k", idempotent=True)
    walk(plan, [reset()])
    assert plan.next_attempt().endpoint == B


def test_the_failure_hook_sees_every_failed_attempt(clock: Clock) -> None:
    p = policy(clock)
    seen: list[tuple[str, str]] = []
    p.on_failure = lambda ep, err: seen.append((ep, type(err).__name__))
    walk(p.plan("/k", idempotent=True), [refused(), reset()])
    assert seen == [(A, "ConnectionRefusedError"), (B, "ConnectionResetError")]


# ---------------------------------------------------------------------- 5xx and cluster id


def _raft_500() -> bytes:
    return json.dumps({"errorCode": 300, "message": "Raft Internal Error",
                       "cause": "etcdserver: request timed out", "index": 7}).encode()


def test_a_5xx_fails_over_and_keeps_the_decoded_etcd_error(clock: Clock) -> None:
    plan = policy(clock, server_error=True).plan("/k", idempotent=True)
    attempt = plan.next_attempt()
    assert not judge(plan, attempt, 500, NO_HEADERS, _raft_500())
    (ep, error), = plan.errors
    assert ep == A
    assert isinstance(error, ServerError)
    assert isinstance(error.etcd_error, RaftInternal)
    assert plan.sent
    assert plan.next_attempt().endpoint == B


def test_a_5xx_on_a_non_idempotent_write_is_ambiguous_with_its_status(clock: Clock) -> None:
    plan = policy(clock, server_error=True).plan("/k", idempotent=False)
    attempt = plan.next_attempt()
    with pytest.raises(AmbiguousResultError) as info:
        judge(plan, attempt, 503, NO_HEADERS, _raft_500())
    assert info.value.status == 503
    assert b"request timed out" in info.value.body


def test_a_final_5xx_is_the_answer(clock: Clock) -> None:
    body = json.dumps({"errorCode": 300, "message": "Raft Internal Error",
                       "cause": "Not a file", "index": 1}).encode()
    assert isinstance(_wire.server_error(500, body, A)[0], DirectoryTTLUnsupported)
    plan = policy(clock, server_error=True).plan("/k", idempotent=False)
    assert judge(plan, plan.next_attempt(), 500, NO_HEADERS, body)


def test_without_a_decoder_the_raw_5xx_body_is_kept(clock: Clock) -> None:
    plan = policy(clock).plan("/k", idempotent=True)
    assert not judge(plan, plan.next_attempt(), 502, NO_HEADERS, b"bad gateway")
    error = plan.errors[0][1]
    assert isinstance(error, ServerError)
    assert error.etcd_error is None
    assert error.detail == "bad gateway"


def test_a_member_of_another_cluster_counts_as_never_reached(clock: Clock) -> None:
    p = policy(clock)
    plan = p.plan("/k", idempotent=False)
    assert judge(plan, plan.next_attempt(), 200, {"X-Etcd-Cluster-Id": "ours"}, b"")
    plan = p.plan("/k", idempotent=False)
    plan.next_attempt()
    attempt = plan.next_attempt()
    assert not judge(plan, attempt, 200, {"X-Etcd-Cluster-Id": "theirs"}, b"")
    assert not plan.sent  # a write may still go to the next member
    assert "belongs to cluster theirs, not ours" in str(plan.errors[0][1])
    assert p.cluster_id == "ours"


# ---------------------------------------------------------------------- deadlines


def test_each_attempt_gets_the_smaller_of_its_budget_and_what_is_left(clock: Clock) -> None:
    plan = policy(clock, timeout=5.0, request_timeout=2.0).plan("/k", idempotent=True)
    assert plan.next_attempt().budget == 2.0
    clock.now += 4.0
    assert plan.next_attempt().budget == pytest.approx(1.0)


def test_no_deadline_leaves_the_per_attempt_budget(clock: Clock) -> None:
    p = policy(clock, timeout=None)
    assert p.plan("/k", idempotent=True).next_attempt().budget is None
    assert p.plan("/k", idempotent=True, request_timeout=0.5).next_attempt().budget == 0.5


def test_a_stream_head_comes_within_its_read_timeout(clock: Clock) -> None:
    plan = policy(clock, timeout=5.0).plan("/k", idempotent=True, stream=True, read_timeout=1.0)
    attempt = plan.next_attempt()
    assert (attempt.budget, attempt.stream) == (1.0, True)
    assert not attempt.reads_body(200)
    assert attempt.reads_body(503)


def test_the_deadline_ends_the_call_before_the_next_attempt(clock: Clock) -> None:
    plan = policy(clock, timeout=1.0).plan("/k", idempotent=True)
    attempt = plan.next_attempt()
    clock.now += 0.5
    plan.failed(attempt, reset())
    clock.now += 0.6
    with pytest.raises(DeadlineExceeded) as info:
        plan.next_attempt()
    assert info.value.maybe_applied
    assert A in str(info.value)


def test_an_attempt_timing_out_at_the_deadline_ends_the_call(clock: Clock) -> None:
    plan = policy(clock, timeout=1.0).plan("/k", idempotent=True)
    attempt = plan.next_attempt()
    clock.now += 0.999
    with pytest.raises(DeadlineExceeded):
        plan.failed(attempt, timed_out())


def test_a_timeout_with_time_left_fails_over(clock: Clock) -> None:
    plan = policy(clock, timeout=1.0, request_timeout=0.2).plan("/k", idempotent=True)
    attempt = plan.next_attempt()
    clock.now += 0.2
    plan.failed(attempt, timed_out())
    assert plan.next_attempt().budget == 0.2


def test_a_target_that_is_not_quoted_is_refused(clock: Clock) -> None:
    with pytest.raises(ValueError, match="percent-quoted"):
        policy(clock).plan("/a key", idempotent=True)


# ---------------------------------------------------------------------- redirects


def test_a_relative_redirect_stays_on_the_origin_with_credentials(clock: Clock) -> None:
    hops = Redirects("http://a:1/v2/keys/k?x=1", 3, 2.0, clock=clock)
    assert hops.is_redirect(307, "/v2/keys/k2")
    hops.follow("/v2/keys/k2")
    assert (hops.url, hops.authorize) == ("http://a:1/v2/keys/k2", True)
    clock.now += 1.5
    assert hops.budget() == pytest.approx(0.5)
    clock.now += 1.0
    assert hops.budget() == 0.001


@pytest.mark.parametrize(("status", "location"), [(200, "/x"), (307, None), (307, ""), (404, "/x")])
def test_only_a_3xx_with_a_location_is_a_redirect(status: int, location: str | None) -> None:
    assert not Redirects.is_redirect(status, location)


def test_credentials_never_follow_to_another_origin(clock: Clock) -> None:
    hops = Redirects("https://a:1/k", 3, None, clock=clock)
    hops.follow("http://a:1/k")  # another scheme is another origin
    assert not hops.authorize
    hops.follow("https://a:1/k")  # and they do not come back
    assert not hops.authorize
    assert hops.budget() is None


@pytest.mark.parametrize("location", ["gopher://a:1/", "file:///etc/passwd", "javascript:x"])
def test_a_redirect_that_is_not_http_is_refused(clock: Clock, location: str) -> None:
    with pytest.raises(InvalidResponseError, match="only http"):
        Redirects("http://a:1/k", 3, None, clock=clock).follow(location)


def test_more_than_max_redirects_is_an_error(clock: Clock) -> None:
    hops = Redirects("http://a:1/k", 2, None, clock=clock)
    hops.follow("/1")
    hops.follow("/2")
    with pytest.raises(TooManyRedirectsError, match=r"more than 2 redirects \(last: http://a:1/3\)"):
        hops.follow("/3")


def test_the_plan_gives_each_attempt_its_redirects(clock: Clock) -> None:
    plan = policy(clock, max_redirects=0, timeout=3.0).plan("/k?a=b", idempotent=True)
    hops = plan.redirects(plan.next_attempt())
    assert hops.url == A + "/k?a=b"
    with pytest.raises(TooManyRedirectsError):
        hops.follow("/elsewhere")


# ---------------------------------------------------------------------- request building


def test_encode_call_builds_target_and_body() -> None:
    assert encode_call("/k", params=[("b", "2"), ("a", "1")]) == ("/k?b=2&a=1", None, None)
    target, body, ctype = encode_call("/k", form={"value": "a b", "ttl": "5"})
    assert (target, body, ctype) == ("/k", b"ttl=5&value=a+b",
                                     "application/x-www-form-urlencoded")
    assert encode_call("/k", json={"x": 1}) == ("/k", b'{"x":1}', "application/json")  # compact
    assert encode_call("/k", params=[], body=b"raw", content_type="text/plain") == \
        ("/k", b"raw", "text/plain")
