"""The v3 call's pure decisions (``etcdmap.v3.caller``): when to authenticate, when a refused
call is sent once more, what a gateway answer means, which 5xx is not ambiguous."""

from __future__ import annotations

import json
import time

import pytest

from etcdmap.errors import (
    AmbiguousResultError,
    DeadlineExceeded,
    InvalidResponseError,
    ServerError,
)
from etcdmap.http.defaults import DEFAULT
from etcdmap.v3.caller import (
    TokenAuth,
    answer_of,
    call_deadline,
    refused_unapplied,
    time_left,
    unambiguous,
)
from etcdmap.v3.errors import (
    InvalidAuthToken,
    NoCredentials,
    PermissionDenied,
    UnhealthyCluster,
    V3Error,
    error_from_fields,
)


def _error(code: int, message: str) -> V3Error:
    return error_from_fields(code, message, 401)


INVALID = _error(16, "etcdserver: invalid auth token")
EMPTY = _error(3, "etcdserver: user name is empty")
DENIED = _error(7, "etcdserver: permission denied")


def test_the_errors_used_here_are_the_expected_classes() -> None:
    assert isinstance(INVALID, InvalidAuthToken)
    assert isinstance(EMPTY, NoCredentials)
    assert isinstance(DENIED, PermissionDenied)


def test_a_user_without_a_token_authenticates_first() -> None:
    auth = TokenAuth("alice", "pw")
    assert auth.needs_token()
    assert auth.credentials() == {"name": "alice", "password": "pw"}
    auth.token = auth.authenticated({"token": "t1", "header": {}})
    assert not auth.needs_token()
    assert TokenAuth.headers(auth.token, {"X": "1"}) == {"X": "1", "Authorization": "t1"}
    assert TokenAuth.headers(None) == {}


def test_no_user_never_authenticates_nor_retries() -> None:
    auth = TokenAuth(None, None)
    assert not auth.needs_token()
    assert not auth.retry(INVALID, None, 0)


def test_auth_off_sends_no_token_until_a_call_says_otherwise() -> None:
    auth = TokenAuth("alice", "pw")
    auth.disabled()
    assert not auth.needs_token()
    assert auth.retry(EMPTY, None, 0)  # auth was enabled meanwhile
    assert auth.needs_token()


def test_an_invalid_token_is_forgotten_and_the_call_sent_once_more() -> None:
    auth = TokenAuth("alice", "pw")
    auth.token = "old"
    assert auth.retry(INVALID, "old", 0)
    assert auth.token is None
    assert not auth.retry(INVALID, None, 1)  # only once


def test_a_token_refreshed_by_another_thread_is_kept() -> None:
    auth = TokenAuth("alice", "pw")
    auth.token = "new"
    assert auth.retry(INVALID, "old", 0)
    assert auth.token == "new"


@pytest.mark.parametrize(("error", "token"), [(DENIED, "t"), (EMPTY, "t")])
def test_other_refusals_are_final(error: V3Error, token: str) -> None:
    auth = TokenAuth("alice", "pw")
    auth.token = token
    assert not auth.retry(error, token, 0)
    assert auth.token == token


def test_an_authenticate_answer_without_a_token_is_invalid() -> None:
    with pytest.raises(InvalidResponseError, match="no token"):
        TokenAuth("a", "b").authenticated({"header": {}})


def test_answers_become_json_or_the_v3_error() -> None:
    assert answer_of(200, b'{"count": "1"}', "http://a:1", "/v3/kv/range") == {"count": "1"}
    body = json.dumps({"error": "etcdserver: permission denied", "code": 7,
                       "message": "etcdserver: permission denied"}).encode()
    with pytest.raises(PermissionDenied):
        answer_of(403, body, "http://a:1", "/v3/kv/range")
    with pytest.raises(InvalidResponseError, match="no /v3/auth/status route here"):
        answer_of(404, b"404 page not found", "http://a:1", "/v3/auth/status")


def _ambiguous(status: int, code: int, message: str) -> AmbiguousResultError:
    body = json.dumps({"error": message, "code": code, "message": message}).encode()
    server = ServerError("http://a:1", status, body, None)
    exc = AmbiguousResultError.after("http://a:1", server)
    exc.__cause__ = server
    return exc


def test_an_unhealthy_cluster_5xx_was_refused_unapplied() -> None:
    refused = refused_unapplied(_ambiguous(503, 14, "etcdserver: unhealthy cluster"))
    assert isinstance(refused, UnhealthyCluster)
    assert refused_unapplied(_ambiguous(503, 14, "etcdserver: request timed out")) is None
    plain = AmbiguousResultError.after("http://a:1", TimeoutError("no answer"))
    assert refused_unapplied(plain) is None


def test_unambiguous_is_the_refusal_chained_or_the_ambiguity_itself() -> None:
    ambiguous = _ambiguous(503, 14, "etcdserver: unhealthy cluster")
    refused = unambiguous(ambiguous)
    assert isinstance(refused, UnhealthyCluster)
    assert refused.__cause__ is ambiguous
    timed_out = _ambiguous(503, 14, "etcdserver: request timed out")
    assert unambiguous(timed_out) is timed_out


def test_the_deadline_covers_authentication() -> None:
    assert call_deadline(None, 5.0) is None
    assert call_deadline(DEFAULT, None) is None
    deadline = call_deadline(DEFAULT, 5.0)
    assert deadline is not None
    assert 4.9 < deadline - time.monotonic() <= 5.0
    assert time_left(None) is None
    with pytest.raises(DeadlineExceeded, match="while authenticating"):
        time_left(time.monotonic() - 0.001)
