"""The exact requests of the keys API (etcd-io/etcd release-3.5:client/v2/keys.go
and its keys_test.go), no server."""

from __future__ import annotations

import pytest

from etcdmap.v2 import wire as _wire
from etcdmap.v2.key_requests import (
    KeyRequest,
    create_in_order_request,
    delete_request,
    get_request,
    refresh_request,
    set_request,
)
from etcdmap.v2.watcher import watch_params


def _url(key: str, req: KeyRequest) -> str:
    query = _wire.encode_query(req.params)
    return "http://example.com" + _wire.key_path(key) + ("?" + query if query else "")


def _body(req: KeyRequest) -> bytes | None:
    return None if req.form is None else _wire.encode_form(req.form)


@pytest.mark.parametrize(
    ("options", "url", "body"),
    [
        ({}, "http://example.com/v2/keys/foo", b"value="),
        ({"prev_exist": False}, "http://example.com/v2/keys/foo?prevExist=false", b"value="),
        ({"prev_exist": True}, "http://example.com/v2/keys/foo?prevExist=true", b"value="),
        ({"prev_value": "bar baz"}, "http://example.com/v2/keys/foo?prevValue=bar+baz", b"value="),
        ({"prev_index": 12}, "http://example.com/v2/keys/foo?prevIndex=12", b"value="),
        ({"prev_index": 0}, "http://example.com/v2/keys/foo", b"value="),
        ({"ttl": 180}, "http://example.com/v2/keys/foo", b"ttl=180&value="),
        ({"ttl": 180, "refresh": True}, "http://example.com/v2/keys/foo",
         b"refresh=true&ttl=180&value="),
        ({"dir": True}, "http://example.com/v2/keys/foo?dir=true", b""),
        ({"dir": True, "prev_exist": True}, "http://example.com/v2/keys/foo?dir=true&prevExist=true",
         b""),
        ({"dir": True, "ttl": 5}, "http://example.com/v2/keys/foo?dir=true", b"ttl=5"),
        ({"no_value_on_success": True}, "http://example.com/v2/keys/foo?noValueOnSuccess=true",
         b"value="),
        ({"prev_value": "a", "prev_index": 3, "prev_exist": True},
         "http://example.com/v2/keys/foo?prevExist=true&prevIndex=3&prevValue=a", b"value="),
    ],
)
def test_set_requests(options: dict[str, object], url: str, body: bytes) -> None:
    req = set_request("", **options)  # type: ignore[arg-type]
    assert req.method == "PUT"
    assert (_url("/foo", req), _body(req)) == (url, body)


def test_set_value_goes_in_the_body() -> None:
    req = set_request("a b&c")
    assert _body(req) == b"value=a+b%26c"
    assert req.params == []


@pytest.mark.parametrize(
    ("options", "idempotent"),
    [
        ({}, True),
        ({"ttl": 5}, True),
        ({"ttl": 5, "refresh": True}, True),
        ({"no_value_on_success": True}, True),
        ({"dir": True}, False),
        ({"prev_exist": False}, False),
        ({"prev_exist": True}, False),
        ({"prev_value": "x"}, False),
        ({"prev_index": 4}, False),
    ],
)
def test_set_idempotency(options: dict[str, object], idempotent: bool) -> None:
    assert set_request("", **options).idempotent is idempotent  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "query"),
    [
        ({}, "quorum=false&recursive=false&sorted=false"),
        ({"recursive": True}, "quorum=false&recursive=true&sorted=false"),
        ({"sort": True}, "quorum=false&recursive=false&sorted=true"),
        ({"quorum": True}, "quorum=true&recursive=false&sorted=false"),
        ({"recursive": True, "sort": True, "quorum": True}, "quorum=true&recursive=true&sorted=true"),
    ],
)
def test_get_requests(options: dict[str, bool], query: str) -> None:
    req = get_request(**options)
    assert (req.method, req.form, req.idempotent) == ("GET", None, True)
    assert _url("/foo/bar", req) == "http://example.com/v2/keys/foo/bar?" + query


@pytest.mark.parametrize(
    ("options", "query", "idempotent"),
    [
        ({}, "", True),
        ({"recursive": True}, "?recursive=true", True),
        ({"dir": True}, "?dir=true", True),
        ({"prev_value": "bar baz"}, "?prevValue=bar+baz", False),
        ({"prev_index": 12}, "?prevIndex=12", False),
        ({"dir": True, "recursive": True, "prev_index": 1, "prev_value": "v"},
         "?dir=true&prevIndex=1&prevValue=v&recursive=true", False),
    ],
)
def test_delete_requests(options: dict[str, object], query: str, idempotent: bool) -> None:
    req = delete_request(**options)  # type: ignore[arg-type]
    assert (req.method, req.form, req.idempotent) == ("DELETE", None, idempotent)
    assert _url("/foo", req) == "http://example.com/v2/keys/foo" + query


def test_create_in_order_and_refresh_requests() -> None:
    req = create_in_order_request("")
    assert (req.method, req.params, _body(req), req.idempotent) == ("POST", [], b"value=", False)
    assert _body(create_in_order_request("", ttl=180)) == b"ttl=180&value="
    req = refresh_request(60)
    assert (req.method, _url("/k", req), _body(req), req.idempotent) == (
        "PUT", "http://example.com/v2/keys/k?prevExist=true", b"refresh=true&ttl=60", True,
    )


def test_watch_query() -> None:
    assert _wire.encode_query(watch_params(recursive=False, wait_index=0)) == (
        "recursive=false&wait=true&waitIndex=0"
    )
    assert _wire.encode_query(watch_params(recursive=True, wait_index=20)) == (
        "recursive=true&wait=true&waitIndex=20"
    )


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: set_request(5), TypeError),  # type: ignore[arg-type]
        (lambda: set_request("v", dir=True), ValueError),
        (lambda: set_request("", dir=True, prev_value="x"), ValueError),
        (lambda: set_request("v", ttl=0.5), ValueError),
        (lambda: set_request("v", prev_exist="yes"), TypeError),  # type: ignore[arg-type]
        (lambda: set_request("v", prev_index=-1), ValueError),
        (lambda: set_request("v", prev_value=1), TypeError),  # type: ignore[arg-type]
        (lambda: get_request(recursive=1), TypeError),  # type: ignore[arg-type]
        (lambda: delete_request(prev_index="3"), TypeError),  # type: ignore[arg-type]
        (lambda: refresh_request(0), ValueError),
        (lambda: create_in_order_request(b"x"), TypeError),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_never_reach_the_wire(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()  # type: ignore[operator]
