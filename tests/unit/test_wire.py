"""Pure protocol tests for etcdmap.v2.wire: URL quoting, parameters, decoding, error mapping."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from requests.structures import CaseInsensitiveDict as Headers

from etcdmap.errors import (
    CompareFailed,
    DirectoryTTLUnsupported,
    EtcdError,
    EventIndexCleared,
    InvalidResponseError,
    KeyNotFound,
    RaftInternal,
    TTLNaN,
    V2DisabledError,
)
from etcdmap.models import Node
from etcdmap.v2 import wire as _wire

UTC = timezone.utc


# --------------------------------------------------------------------------- key quoting


@pytest.mark.parametrize(
    ("key", "path"),
    [
        # Go's pathutil.CanonicalURLPath (etcd-io/etcd release-3.5:client/pkg/pathutil/path.go)
        ("", "/v2/keys"),
        ("/", "/v2/keys/"),
        ("foo", "/v2/keys/foo"),
        ("/a/../b", "/v2/keys/b"),
        ("//a//b/", "/v2/keys/a/b/"),
        # Go's path escaping
        ("/a b", "/v2/keys/a%20b"),
        ("/q?x", "/v2/keys/q%3Fx"),
        ("/h#x", "/v2/keys/h%23x"),
        ("/x%2Fy", "/v2/keys/x%252Fy"),
        ("/p+&=$,:;@~-_.", "/v2/keys/p+&=$,:;@~-_."),
        ("/!*()'", "/v2/keys/%21%2A%28%29%27"),
        ("/é", "/v2/keys/%C3%A9"),
        ("/日本", "/v2/keys/%E6%97%A5%E6%9C%AC"),
        ("/a/./b/.", "/v2/keys/a/b"),
        # never above the keys root
        ("/../../etc", "/v2/keys/etc"),
        ("..", "/v2/keys/"),
    ],
)
def test_key_path(key: str, path: str) -> None:
    assert _wire.key_path(key) == path


def test_key_path_prefix_and_type() -> None:
    assert _wire.key_path("/baz/", "/bar") == "/bar/baz/"
    with pytest.raises(TypeError):
        _wire.key_path(b"/foo")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "canonical"),
    [("", ""), ("/", "/"), ("a", "/a"), ("//a", "/a"), ("///a//", "/a/"), ("/a/b/..", "/a")],
)
def test_canonical_key(key: str, canonical: str) -> None:
    assert _wire.canonical_key(key) == canonical


def test_encode_query_like_go_values_encode() -> None:
    assert _wire.encode_query([("prevValue", "bar baz")]) == "prevValue=bar+baz"
    assert _wire.encode_query([("v", "a+b&c/d=e~")]) == "v=a%2Bb%26c%2Fd%3De~"
    assert _wire.encode_query([("a", "1"), ("b", "2")]) == "a=1&b=2"
    long_value = "x y" * 40
    assert _wire.encode_query([("v", long_value)]) == "v=" + "x+y" * 40


def test_encode_form_sorts_keys() -> None:
    assert _wire.encode_form({"value": "", "ttl": "180", "refresh": "true"}) == (
        b"refresh=true&ttl=180&value="
    )
    assert _wire.encode_form({"value": "a b&c"}) == b"value=a+b%26c"
    assert _wire.encode_form({}) == b""


# --------------------------------------------------------------------------- argument checks


@pytest.mark.parametrize(("ttl", "wire"), [(1, "1"), (180, "180"), (5.0, "5"), (timedelta(minutes=1), "60")])
def test_check_ttl_accepts_whole_seconds(ttl: object, wire: str) -> None:
    assert _wire.check_ttl(ttl) == wire


@pytest.mark.parametrize("ttl", [0, -1, 0.5, 1.5, True, False, timedelta(milliseconds=500), 0.0])
def test_check_ttl_rejects_sub_second_zero_negative_and_bools(ttl: object) -> None:
    with pytest.raises(ValueError, match="ttl"):
        _wire.check_ttl(ttl)


@pytest.mark.parametrize("ttl", ["5", None, [5]])
def test_check_ttl_rejects_other_types(ttl: object) -> None:
    with pytest.raises(TypeError):
        _wire.check_ttl(ttl)


def test_check_value_and_index() -> None:
    assert _wire.check_value("x") == "x"
    for bad in (b"x", 1, None):
        with pytest.raises(TypeError):
            _wire.check_value(bad)
    assert _wire.check_index(12, "prev_index") == "12"
    with pytest.raises(ValueError):
        _wire.check_index(-1, "prev_index")
    for bad in (True, 1.0, "3"):
        with pytest.raises(TypeError):
            _wire.check_index(bad, "prev_index")


# --------------------------------------------------------------------------- expiration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-04-07T04:40:23.044979686Z", datetime(2015, 4, 7, 4, 40, 23, 44979, tzinfo=UTC)),
        ("2015-04-07T04:40:23Z", datetime(2015, 4, 7, 4, 40, 23, tzinfo=UTC)),
        ("2015-04-07T04:40:23.5Z", datetime(2015, 4, 7, 4, 40, 23, 500000, tzinfo=UTC)),
        ("2015-04-07T06:40:23.1+02:00", datetime(2015, 4, 7, 4, 40, 23, 100000, tzinfo=UTC)),
        ("2015-04-07T01:10:23-03:30", datetime(2015, 4, 7, 4, 40, 23, tzinfo=UTC)),
    ],
)
def test_parse_expiration(text: str, expected: datetime) -> None:
    parsed = _wire.parse_expiration(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["", "2015-04-07", "2015-04-07T04:40:23", "2015-04-07T04:40:23.1234567890Z",
     "2015-13-07T04:40:23Z", "2015-04-07 04:40:23Z", "garbage"],
)
def test_parse_expiration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        _wire.parse_expiration(text)


# --------------------------------------------------------------------------- decoding


def _decode(body: object, status: int = 200, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return _wire.decode_response(status, headers or {}, raw, "http://ep:1")


def test_decode_get_with_ttl_and_headers() -> None:
    body = {
        "action": "get",
        "node": {"key": "/foo", "value": "bar", "modifiedIndex": 7, "createdIndex": 5, "ttl": 30,
                 "expiration": "2015-04-07T04:40:23.044979686Z"},
    }
    resp = _decode(body, headers={"X-Etcd-Index": "9", "X-Etcd-Cluster-Id": "abc"})
    assert resp.action == "get"
    assert resp.index == 9
    assert resp.cluster_id == "abc"
    assert resp.node == Node(
        key="/foo", value="bar", created_index=5, modified_index=7, ttl=30,
        expiration=datetime(2015, 4, 7, 4, 40, 23, 44979, tzinfo=UTC),
    )
    assert resp.prev_node is None


def test_decode_root_directory_and_nested_nodes() -> None:
    body = {"action": "get", "node": {"dir": True, "nodes": [
        {"key": "/d", "dir": True, "modifiedIndex": 3, "createdIndex": 3,
         "nodes": [{"key": "/d/a", "value": "", "modifiedIndex": 4, "createdIndex": 4}]},
    ]}}
    resp = _decode(body)
    assert resp.node is not None
    assert resp.node.key == ""
    assert resp.node.dir
    assert resp.node.created_index == 0
    child = resp.node.nodes[0]
    assert child.dir and child.value is None
    assert child.nodes[0].value == ""
    assert _decode({"action": "get", "node": {"dir": True}}).node == Node(key="", dir=True)


def test_decode_no_value_on_success_and_prev_node_only() -> None:
    headers = Headers([("x-etcd-index", "3"), ("X-ETCD-CLUSTER-ID", "c")])
    resp = _decode({"action": "set"}, headers=headers)  # type: ignore[arg-type]
    assert (resp.index, resp.cluster_id, resp.node) == (3, "c", None)
    resp = _decode({"action": "delete", "prevNode": {"key": "/a", "value": "1"}})
    assert resp.node is None
    assert resp.prev_node == Node(key="/a", value="1")


def test_decode_is_case_sensitive() -> None:
    resp = _decode({"action": "get", "node": {"key": "/k", "Value": "x", "ModifiedIndex": 4}})
    assert resp.node is not None
    assert resp.node.value is None
    assert resp.node.modified_index == 0


def test_decode_bad_index_header() -> None:
    with pytest.raises(InvalidResponseError, match="X-Etcd-Index"):
        _decode({"action": "get"}, headers={"X-Etcd-Index": "poo"})


@pytest.mark.parametrize(
    ("code", "cls"),
    [(100, KeyNotFound), (101, CompareFailed), (202, TTLNaN), (300, RaftInternal),
     (401, EventIndexCleared)],
)
def test_decode_error_by_code_not_status(code: int, cls: type[EtcdError]) -> None:
    body = {"errorCode": code, "message": "m", "cause": "/foo", "index": 18}
    with pytest.raises(cls) as info:
        _decode(body, status=400)
    assert (info.value.code, info.value.message, info.value.cause, info.value.index) == (
        code, "m", "/foo", 18,
    )


def test_decode_unknown_code_and_error_on_200() -> None:
    with pytest.raises(EtcdError) as info:
        _decode({"errorCode": 999, "message": "new"}, status=418)
    assert type(info.value) is EtcdError
    assert info.value.code == 999


def test_decode_directory_ttl_regression() -> None:
    body = {"errorCode": 300, "message": "Raft Internal Error",
            "cause": "nodePath /1/dir : Not a file ()", "index": 0}
    with pytest.raises(DirectoryTTLUnsupported):
        _decode(body, status=500)


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, b""), (200, b"<html><body>hi</body></html>"), (200, b"[1, 2]"), (404, b"Not Found"),
     (200, b'{"foo": 1}'), (200, b'{"action": "get", "node": {"key": 5}}')],
)
def test_decode_not_etcd(status: int, body: bytes) -> None:
    with pytest.raises(InvalidResponseError, match="http://ep:1") as info:
        _decode(body, status=status)
    assert not isinstance(info.value, V2DisabledError)
    assert info.value.endpoint == "http://ep:1"


@pytest.mark.parametrize(
    "body",
    [
        {"action": None},
        {"action": 5, "node": {"key": "/a", "value": "v"}},
        {"action": "get", "node": 5},
        {"action": "get", "prevNode": "x"},
        {"action": "get", "node": {"key": None}},
        {"action": "get", "node": {"key": "/a", "value": 1}},
        {"action": "get", "node": {"key": "/a", "createdIndex": "1"}},
        {"action": "get", "node": {"key": "/a", "modifiedIndex": 1.0}},
        {"action": "get", "node": {"key": "/a", "modifiedIndex": True}},
        {"action": "get", "node": {"key": "/a", "ttl": "x"}},
        {"action": "get", "node": {"key": "/a", "ttl": False}},
        {"action": "get", "node": {"key": "/a", "dir": "true"}},
        {"action": "get", "node": {"key": "/a", "dir": 1}},
        {"action": "get", "node": {"key": "/a", "nodes": {"k": {}}}},
        {"action": "get", "node": {"key": "/a", "nodes": [5]}},
        {"action": "get", "node": {"dir": True, "nodes": [{"key": "/a", "createdIndex": None}]}},
        {"action": "get", "node": {"key": "/a", "expiration": 5}},
        {"action": "get", "node": {"key": "/a", "expiration": "0001-01-01T00:00:00+01:00"}},
    ],
    ids=repr,
)
def test_decode_wrongly_typed_fields(body: dict[str, object]) -> None:
    with pytest.raises(InvalidResponseError, match="malformed event") as info:
        _decode(body)
    assert info.value.endpoint == "http://ep:1"


def test_parse_node_types_are_exact() -> None:
    node = _wire.parse_node({"key": "/a", "value": "v", "dir": False, "createdIndex": 2,
                             "modifiedIndex": 3, "ttl": 0, "nodes": None, "value2": 1})
    assert node == Node(key="/a", value="v", created_index=2, modified_index=3)
    assert type(node.created_index) is int and node.ttl is None
    with pytest.raises(ValueError, match="not a JSON object"):
        _wire.parse_node([])  # type: ignore[arg-type]


def test_decode_v2_disabled() -> None:
    with pytest.raises(V2DisabledError, match="--enable-v2=true"):
        _decode(b"404 page not found\n", status=404)


def test_decode_error_helper() -> None:
    err = _wire.decode_error(500, b'{"errorCode":300,"message":"Raft Internal Error",'
                             b'"cause":"etcdserver: request timed out","index":0}')
    assert isinstance(err, RaftInternal)
    assert err.cause == "etcdserver: request timed out"
    assert _wire.decode_error(500, b"oops") is None
    assert _wire.decode_error(500, b'{"message": "x"}') is None


def test_parse_index() -> None:
    assert _wire.parse_index({}) == 0
    assert _wire.parse_index({"X-Etcd-Index": "42"}) == 42
    with pytest.raises(InvalidResponseError):
        _wire.parse_index({"X-Etcd-Index": "-1"})
