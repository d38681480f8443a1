"""The v3 gateway's JSON mapping (etcdmap.v3.wire, .txn, .errors): pure, no server.

The answers below are the shapes observed on etcd 3.5.1 (grpc-gateway v1.16 JSON of
etcd-io/etcd release-3.5:api/etcdserverpb/rpc.proto).
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etcdmap.errors import (
    AuthError,
    EventIndexCleared,
    InsufficientCredentials,
    InvalidResponseError,
    MemberExists,
    MemberNotFound,
    NoLeaderError,
    UserExists,
)
from etcdmap.v3 import Compare, Op, prefix_end, wire, wire_admin
from etcdmap.v3 import errors as e
from etcdmap.v3.txn import txn_body

H = {"cluster_id": "15118495548433857066", "member_id": "13668033151171901709",
     "revision": "26", "raft_term": "2"}


def b(text: bytes) -> str:
    return base64.b64encode(text).decode()


# ------------------------------------------------------------------ encoding


def test_prefix_end_increments_the_last_byte_and_strips_ff() -> None:
    assert prefix_end(b"dir/") == b"dir0"
    assert prefix_end(b"a\xff\xff") == b"b"
    assert prefix_end(b"\xff\xff") == b"\0"
    assert prefix_end(b"") == b"\0"


@given(st.binary(min_size=1, max_size=20), st.binary(max_size=5))
def test_prefix_end_bounds_every_key_with_the_prefix(prefix: bytes, rest: bytes) -> None:
    end = prefix_end(prefix)
    key = prefix + rest
    assert key >= prefix
    assert end == b"\0" or key < end


def test_keys_and_values_accept_str_and_bytes_only() -> None:
    assert wire.to_bytes("é") == "é".encode()
    assert wire.to_bytes(bytearray(b"\x00")) == b"\x00"
    with pytest.raises(TypeError, match="key must be str or bytes, not int"):
        wire.key_bytes(1)
    with pytest.raises(TypeError):
        wire.to_bytes(None)
    with pytest.raises(ValueError, match="not valid Unicode"):
        wire.to_bytes("\ud800")
    with pytest.raises(e.KeyNotProvided, match="must not be empty"):
        wire.key_bytes(b"")
    assert issubclass(e.KeyNotProvided, ValueError)


def test_int_arguments_refuse_bools_floats_and_negatives() -> None:
    assert wire.check_int(3, "ttl", 1) == 3
    for bad in (True, 1.0, "1", None):
        with pytest.raises(TypeError, match="ttl must be an int"):
            wire.check_int(bad, "ttl")
    with pytest.raises(ValueError, match="ttl must be >= 1"):
        wire.check_int(0, "ttl", 1)


def test_compare_always_names_its_target_and_operator() -> None:
    c = Compare.value("cas", "==", "v1").fields
    assert c == {"key": b(b"cas"), "target": "VALUE", "result": "EQUAL", "value": b(b"v1")}
    assert Compare.version(b"k", "==", 0).fields["version"] == "0"
    assert Compare.mod("k", "<", 16).fields == {"key": b(b"k"), "target": "MOD",
                                                "result": "LESS", "mod_revision": "16"}
    assert Compare.create("k", ">", 1).fields["target"] == "CREATE"
    assert Compare.lease("k", "!=", 0).fields["result"] == "NOT_EQUAL"
    assert Compare.value("r/", "==", "", prefix=True).fields["range_end"] == b(b"r0")
    with pytest.raises(ValueError, match="compare operator"):
        Compare.value("k", "=", "v")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Compare.mod("k", "==", "16")  # type: ignore[arg-type]


def test_ops_and_txn_body() -> None:
    put = Op.put("k", b"\x00", lease=7, prev_kv=True)
    assert put.is_write and put.fields == {"request_put": {
        "key": b(b"k"), "value": b(b"\x00"), "lease": "7", "prev_kv": True}}
    get = Op.get("d/", prefix=True, limit=2, keys_only=True)
    assert not get.is_write
    assert get.fields["request_range"] == {"key": b(b"d/"), "range_end": b(b"d0"),
                                           "limit": "2", "keys_only": True}
    delete = Op.delete("d/", prefix=True)
    assert delete.is_write and "range_end" in delete.fields["request_delete_range"]
    nested = Op.txn([Compare.version("k", "==", 0)], [put])
    assert nested.is_write and nested.fields["request_txn"]["success"] == [put.fields]
    assert txn_body([], [], []) == {}
    with pytest.raises(TypeError, match="success items must be Op"):
        txn_body([], [Compare.version("k", "==", 0)], [])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="sequence"):
        txn_body([], put, [])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not both"):
        Op.get("a", prefix=True, range_end="b")
    with pytest.raises(TypeError, match="prev_kv must be a bool"):
        Op.put("k", "v", prev_kv=1)  # type: ignore[arg-type]


# ------------------------------------------------------------------ answers


def test_range_answer_with_int64_strings_and_omitted_zeroes() -> None:
    r = wire.parse_range({"header": H, "kvs": [
        {"key": b(b"dir/a"), "create_revision": "4", "mod_revision": "4", "version": "1",
         "value": b("é".encode())},
        {"key": b(b"dir/empty"), "create_revision": "5", "mod_revision": "5", "version": "1"},
    ], "more": True, "count": "3"})
    assert r.header.revision == 26 and r.header.cluster_id == 15118495548433857066
    assert r.kvs[0].value_text == "é" and r.kvs[0].key_text == "dir/a"
    assert r.kvs[1].value == b"" and r.kvs[1].lease == 0
    assert r.more and r.count == 3
    missing = wire.parse_range({"header": H})
    assert missing.kvs == () and missing.count == 0 and not missing.more


def test_failed_txn_has_no_succeeded_and_carries_the_failure_ops() -> None:
    t = wire.parse_txn({"header": H, "responses": [{"response_range": {
        "header": {"revision": "16"}, "kvs": [{"key": b(b"cas"), "version": "2",
                                             "value": b(b"v2")}], "count": "1"}}]})
    assert not t.succeeded
    assert t.responses[0].kvs[0].value == b"v2"  # type: ignore[union-attr]
    ok = wire.parse_txn({"header": H, "succeeded": True, "responses": [
        {"response_put": {"header": {"revision": "16"}, "prev_kv": {"key": b(b"cas")}}},
        {"response_delete_range": {"header": {}, "deleted": "1"}},
        {"response_txn": {"header": {}, "succeeded": True}},
    ]})
    assert ok.succeeded and [type(r).__name__ for r in ok.responses] == [
        "PutResponse", "DeleteResponse", "TxnResponse"]
    with pytest.raises(InvalidResponseError, match="unknown txn response"):
        wire.parse_txn({"responses": [{"response_frobnicate": {}}]})


def test_watch_lines() -> None:
    created = wire.parse_watch_line(b'{"result":{"header":{"revision":"26"},"created":true}}')
    assert created.created and created.watch_id == 0 and not created.is_progress
    events = wire.parse_watch_line(
        b'{"result":{"header":{"revision":"29"},"watch_id":"1","events":['
        b'{"kv":{"key":"dy9h","mod_revision":"28","version":"2","value":"Mg=="},'
        b'"prev_kv":{"key":"dy9h","value":"MQ=="}},'
        b'{"type":"DELETE","kv":{"key":"dy9h","mod_revision":"29"}}]}}'
    )
    assert [(ev.type, ev.revision) for ev in events.events] == [("PUT", 28), ("DELETE", 29)]
    assert events.events[0].prev_kv is not None and events.events[0].prev_kv.value == b"1"
    assert events.watch_id == 1
    progress = wire.parse_watch_line(b'{"result":{"header":{"revision":"3"}}}')
    assert progress.is_progress and progress.header.revision == 3
    compacted = wire.parse_watch_line(
        b'{"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"34"}}')
    err = wire.compacted_error(compacted)
    assert isinstance(err, e.RevisionCompacted) and err.compact_revision == 34
    assert "34" in str(err)


def test_a_stream_error_line_raises_the_v3_error() -> None:
    line = (b'{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader",'
            b'"http_status":"Service Unavailable"}}')
    with pytest.raises(e.NoLeaderV3) as info:
        wire.parse_watch_line(line)
    assert isinstance(info.value, NoLeaderError) and info.value.grpc_code == 14


@pytest.mark.parametrize("line", [b"", b"[]", b"not json", b'{"x":1}',
                                  b'{"result":{"events":[{"type":"PATCH","kv":{}}]}}',
                                  b'{"result":{"header":{"revision":"x"}}}',
                                  b'{"result":{"events":[{"kv":{"key":"%%%"}}]}}',
                                  b'{"result":{"created":"yes"}}'])
def test_malformed_watch_lines_are_invalid_responses(line: bytes) -> None:
    with pytest.raises(InvalidResponseError, match="not an etcd v3 gateway answer"):
        wire.parse_watch_line(line)


def test_lease_member_status_and_auth_answers() -> None:
    ttl = wire_admin.parse_timetolive({"header": H, "ID": "4111120330739461699", "TTL": "4",
                                 "grantedTTL": "5", "keys": [b(b"lk1")]})
    assert ttl.id == 4111120330739461699 and ttl.keys == (b"lk1",) and ttl.granted_ttl == 5
    assert wire_admin.parse_keepalive({"header": H, "ID": "9"}).ttl == 0  # lease gone
    add = wire_admin.parse_member_add({"header": H, "member": {"ID": "81", "peerURLs": ["http://p"],
                                                         "isLearner": True}, "members": []})
    assert add.member.is_learner and add.member.name == "" and add.member.peer_urls == ("http://p",)
    status = wire_admin.parse_status({"header": H, "version": "3.5.1", "dbSize": "20480",
                                "leader": "13668033151171901709", "raftIndex": "8"})
    assert status.is_leader and status.db_size == 20480
    assert not wire_admin.parse_status({"header": H}).is_leader  # no leader: the field is absent
    perm = wire_admin.parse_permission({"key": b(b"shared")})
    assert perm.perm_type == "READ" and perm.range_end == b""
    assert wire_admin.parse_auth_status({"header": H, "enabled": True, "authRevision": "9"}).enabled


def test_bad_scalars_are_invalid_responses() -> None:
    for value in (1.5, "12a", [], True):
        with pytest.raises(InvalidResponseError):
            wire.as_int(value, "revision")
    assert wire.as_int(None, "revision") == 0
    assert wire.as_int(4111120330785460185, "ID") == 4111120330785460185  # exact, no float
    with pytest.raises(InvalidResponseError, match="base64"):
        wire.unb64("YT8-", "key")  # URL-safe alphabet: not what the gateway sends
    with pytest.raises(InvalidResponseError):
        wire_admin.parse_permission({"permType": ["READ"]})
    with pytest.raises(InvalidResponseError):
        wire.decode_json(b"\xff")


# ------------------------------------------------------------------ errors

_CASES: list[tuple[int, int, str, type[Exception], tuple[type[BaseException], ...]]] = [
    (400, 3, "etcdserver: key is not provided", e.KeyNotProvided, (ValueError,)),
    (400, 3, "etcdserver: too many operations in txn request", e.TooManyTxnOps, (ValueError,)),
    (400, 3, "etcdserver: duplicate key given in txn request", e.DuplicateKey, (ValueError,)),
    (400, 3, "etcdserver: authentication failed, invalid user ID or password",
     e.AuthenticationFailed, (InsufficientCredentials, AuthError)),
    (400, 3, "etcdserver: user name is empty", e.NoCredentials, (AuthError,)),
    (400, 3, "illegal base64 data at input byte 0", e.InvalidArgument, (ValueError,)),
    (401, 16, "etcdserver: invalid auth token", e.InvalidAuthToken, (AuthError,)),
    (403, 7, "etcdserver: permission denied", e.PermissionDenied, (AuthError,)),
    (404, 5, "etcdserver: requested lease not found", e.LeaseNotFound, (KeyError,)),
    (404, 5, "etcdserver: member not found", e.MemberNotFoundV3, (MemberNotFound,)),
    (400, 9, "etcdserver: member ID already exist", e.MemberExistsV3, (MemberExists,)),
    (400, 9, "etcdserver: user name already exists", e.UserExistsV3, (UserExists,)),
    (400, 9, "etcdserver: authentication is not enabled", e.AuthNotEnabled, (AuthError,)),
    (400, 9, "etcdserver: root user does not exist", e.RootUserMissing, (AuthError,)),
    (400, 11, "etcdserver: mvcc: required revision has been compacted", e.RevisionCompacted,
     (EventIndexCleared, ValueError)),
    (400, 11, "etcdserver: mvcc: required revision is a future revision", e.FutureRevision,
     (ValueError,)),
    (400, 11, "etcdserver: too large lease TTL", e.LeaseTTLTooLarge, (ValueError,)),
    (503, 14, "etcdserver: request timed out", e.RequestTimedOut, (e.Unavailable,)),
    (500, 2, "context deadline exceeded", e.ServerTimeout, (TimeoutError,)),
    (429, 8, "etcdserver: mvcc: database space exceeded", e.NoSpace, (e.ResourceExhausted,)),
    (500, 99, "something new", e.V3Error, ()),
]


@pytest.mark.parametrize(("status", "code", "text", "cls", "also"), _CASES)
def test_error_bodies_map_on_code_and_text(
    status: int, code: int, text: str, cls: type[Exception], also: tuple[type[Exception], ...]
) -> None:
    body35 = f'{{"error":"{text}","code":{code},"message":"{text}"}}'.encode()
    body36 = f'{{"code":{code},"message":"{text}"}}'.encode()
    for body in (body35, body36):
        err = e.error_from_body(status, body)
        assert type(err) is cls
        assert isinstance(err, e.V3Error) and err.grpc_code == code and err.status == status
        for base in also:
            assert isinstance(err, base)
        assert text in str(err) and f"gRPC code {code}" in str(err)
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is cls and again.message == err.message


def test_non_error_bodies_give_none() -> None:
    for body in (b"404 page not found\n", b"[]", b'{"code":"3","message":"x"}', b'{"x":1}'):
        assert e.error_from_body(404, body) is None


def test_compacted_error_pickles_with_its_revision() -> None:
    err = e.RevisionCompacted(compact_revision=34)
    again: Any = pickle.loads(pickle.dumps(err))
    assert again.compact_revision == 34 and again.index == 34
