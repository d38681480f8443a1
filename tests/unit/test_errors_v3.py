"""One error tree for both APIs: v3 answers (etcd 3.5 and 3.6 shapes, canned here as etcd
sends them) map to classes that are EtcdErrors, and a meaning shared with v2 is the v2 class."""

from __future__ import annotations

import json
import pickle

import pytest

import etcdmap
from etcdmap import errors
from etcdmap.v3 import errors as e


def _bodies(code: int, text: str) -> list[bytes]:
    """The same error as etcd 3.5 (grpc-gateway v1) and 3.6 (v2) answer it, unary and stream."""
    return [
        json.dumps({"error": text, "code": code, "message": text}).encode(),  # 3.5 unary
        json.dumps({"code": code, "message": text, "details": []}).encode(),  # 3.6 unary
        json.dumps({"error": {"grpc_code": code, "http_code": 503, "message": text,
                              "http_status": "Service Unavailable"}}).encode(),  # 3.5 stream
        json.dumps({"error": {"code": code, "message": text}}).encode(),  # 3.6 stream
    ]


SAME_MEANING = [
    (9, "etcdserver: user name not found", errors.UserNotFound),
    (9, "etcdserver: role name not found", errors.RoleNotFound),
    (9, "etcdserver: user name already exists", errors.UserExists),
    (9, "etcdserver: role name already exists", errors.RoleExists),
    (5, "etcdserver: member not found", errors.MemberNotFound),
    (9, "etcdserver: member ID already exist", errors.MemberExists),
    (9, "etcdserver: Peer URLs already exists", errors.MemberExists),
    (14, "etcdserver: no leader", errors.NoLeaderError),
    (14, "etcdserver: unhealthy cluster", errors.MemberChangeRefused),
    (9, "etcdserver: re-configuration failed due to not enough started members",
     errors.MemberChangeRefused),
    (7, "etcdserver: permission denied", errors.Unauthorized),
    (3, "etcdserver: authentication failed, invalid user ID or password",
     errors.InsufficientCredentials),
    (16, "etcdserver: invalid auth token", errors.InsufficientCredentials),
    (11, "etcdserver: mvcc: required revision has been compacted", errors.EventIndexCleared),
    (3, "etcdserver: key not found", errors.KeyNotFound),
    (5, "etcdserver: requested lease not found", KeyError),
]


@pytest.mark.parametrize(("code", "text", "v2_class"), SAME_MEANING)
def test_a_v3_error_is_the_v2_class_of_the_same_meaning(
    code: int, text: str, v2_class: type[Exception]
) -> None:
    for body in _bodies(code, text):
        err = e.error_from_body(400, body)
        assert isinstance(err, v2_class) and isinstance(err, errors.EtcdError)
        assert isinstance(err, etcdmap.EtcdError) and err.grpc_code == code
        assert text in str(err)


NEW_CLASSES = [
    (8, "etcdserver: mvcc: database space exceeded", e.NoSpace, e.ResourceExhausted),
    (8, "etcdserver: too many requests", e.TooManyRequests, e.ResourceExhausted),
    (14, "etcdserver: leader changed", e.LeaderChanged, e.Unavailable),
    (14, "etcdserver: request timed out, possibly due to previous leader failure",
     e.RequestTimedOut, e.Unavailable),
    (14, "etcdserver: server stopped", e.ServerStopped, e.Unavailable),
    (9, "etcdserver: bad leader transferee", e.BadLeaderTransferee, e.FailedPrecondition),
    (9, "etcdserver: no inflight downgrade job", e.NoDowngradeInProgress, e.FailedPrecondition),
    (9, "etcdserver: can only promote a learner member", e.MemberNotLearner,
     e.FailedPrecondition),
    (3, "etcdserver: given member URLs are invalid", e.MemberBadURLs, ValueError),
    (3, "etcdserver: invalid downgrade target version", e.InvalidDowngradeVersion, ValueError),
    (15, "etcdserver: corrupt cluster", e.CorruptCluster, e.V3Error),
    (1, "etcdserver: request canceled", e.Canceled, e.V3Error),
    (13, "some internal failure", e.Internal, e.V3Error),
    (2, "election: not leader", e.ElectionNotLeader, e.V3Error),
    (4, "etcdserver: context deadline exceeded", e.ServerTimeout, TimeoutError),
]


@pytest.mark.parametrize(("code", "text", "cls", "family"), NEW_CLASSES)
def test_each_etcd_text_has_its_class(code: int, text: str, cls: type[Exception],
                                      family: type[Exception]) -> None:
    for body in _bodies(code, text):
        err = e.error_from_body(500, body)
        assert type(err) is cls and isinstance(err, family)


def test_nospace_says_the_runbook() -> None:
    err = e.error_from_body(429, _bodies(8, "etcdserver: mvcc: database space exceeded")[1])
    assert isinstance(err, e.NoSpace) and err.status == 429
    text = str(err)
    assert "database space exceeded" in text and "NOSPACE" in text
    for step in ("kv.compact", "maintenance.defragment", "maintenance.disarm()"):
        assert step in text
    assert text.index("compact") < text.index("defragment") < text.index("disarm")


@pytest.mark.parametrize(("status", "cls"), [
    (400, e.InvalidArgument), (401, e.InvalidAuthToken), (403, e.PermissionDenied),
    (404, e.NotFound), (429, e.ResourceExhausted), (499, e.Canceled), (503, e.Unavailable),
    (504, e.ServerTimeout),
])
def test_a_body_without_code_is_classified_by_its_status(status: int, cls: type[Exception]) -> None:
    err = e.error_from_body(status, b'{"message": "from a proxy"}')
    assert type(err) is cls and err is not None and err.status == status


def test_texts_refine_a_status_only_body_too() -> None:
    err = e.error_from_body(429, b'{"message": "etcdserver: mvcc: database space exceeded"}')
    assert type(err) is e.NoSpace


def test_bodies_that_are_not_errors() -> None:
    for body in (b"404 page not found\n", b"[]", b'{"code": "3", "message": "x"}',
                 b'{"x": 1}', b'{"code": 3}', b"\xff\xfe"):
        assert e.error_from_body(404 if body != b'{"x": 1}' else 200, body) is None
    assert e.error_from_body(500, b'{"message": "x"}') is None  # 500 names no single code


def test_every_v3_class_pickles_with_its_attributes() -> None:
    for code, text, cls, _ in NEW_CLASSES:
        err = e.error_from_fields(code, text, 503)
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is cls and back.message == text
        assert (back.grpc_code, back.status) == (code, 503) and str(back) == str(err)
    refused = pickle.loads(pickle.dumps(e.error_from_fields(14, "etcdserver: unhealthy cluster")))
    assert isinstance(refused, errors.MemberChangeRefused) and refused.maybe_applied is False
    member = pickle.loads(pickle.dumps(errors.MemberChangeRefused("no", endpoint="http://a:1")))
    assert (member.endpoint, member.status, str(member)) == ("http://a:1", 500, "no (HTTP 500)")


def test_server_error_hook_keeps_the_v3_error_and_fixes_election_answers() -> None:
    error, final = e.server_error(503, _bodies(14, "etcdserver: no leader")[0], "http://a:1")
    assert isinstance(error, e.NoLeaderV3) and final is False  # another member may have one
    error, final = e.server_error(500, _bodies(2, "election: no leader")[0], "http://a:1")
    assert error is not None and final is True  # every member answers alike
    assert e.server_error(502, b"<html>bad gateway</html>", "http://a:1") == (None, False)


def test_v2_member_and_auth_errors_are_etcd_errors() -> None:
    for err in (errors.MemberNotFound("gone", 404), errors.UserNotFound("u", 404),
                errors.NoLeaderError("During election", 503)):
        assert isinstance(err, errors.EtcdError)
        assert (err.code, err.grpc_code, err.cause, err.index) == (0, 0, "", 0)
        assert str(err) == f"{err.message} (HTTP {err.status})"
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)
    unauthorized = errors.error_for_code(110, "The request requires user authentication")
    assert isinstance(unauthorized, errors.AuthError) and unauthorized.status == 401


def test_every_public_name_of_the_v3_errors_module_stays_importable() -> None:
    for name in ("V3Error", "InvalidArgument", "NotFound", "FailedPrecondition", "OutOfRange",
                 "ResourceExhausted", "Unavailable", "ServerTimeout", "LeaseNotFound",
                 "MemberNotFoundV3", "UserExistsV3", "RoleExistsV3", "MemberExistsV3",
                 "NoLeaderV3", "UnhealthyCluster", "RevisionCompacted", "PermissionDenied",
                 "error_from_body", "error_from_fields"):
        assert hasattr(e, name), name
        if name[0].isupper():
            assert getattr(etcdmap, name) is getattr(e, name)
