"""Answers parse the same with orjson (the ``fast`` extra) and with the standard json module."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from etcdmap.errors import InvalidResponseError, KeyNotFound, V2DisabledError
from etcdmap.v2 import wire as _wire

BACKENDS: list[Callable[[bytes], Any]] = [json.loads]
try:
    import orjson

    BACKENDS.append(orjson.loads)
except ImportError:  # pragma: no cover - the test extra installs orjson
    pass

EVENT = (
    b'{"action":"set","node":{"key":"/a/\\u00e9 ?#","value":"v\\n","modifiedIndex":7,'
    b'"createdIndex":7,"ttl":5,"expiration":"2030-01-01T00:00:00.123456789Z"},'
    b'"prevNode":{"key":"/a/\\u00e9 ?#","value":"old","modifiedIndex":6,"createdIndex":6}}\n'
)


@pytest.fixture(params=BACKENDS, ids=lambda f: f.__module__)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_wire, "_loads", request.param)


@pytest.mark.usefixtures("backend")
def test_event_parses_identically() -> None:
    r = _wire.decode_response(201, {"X-Etcd-Index": "7"}, EVENT, "http://ep:1")
    assert r.action == "set" and r.index == 7
    assert r.node is not None and r.node.key == "/a/é ?#" and r.node.value == "v\n"
    assert r.node.ttl == 5 and r.node.expiration is not None
    assert r.prev_node is not None and r.prev_node.value == "old"


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize(
    "body", [b"", b"<html>", b'{"action":', b"[1, 2]", b'{"action": null}', b"NaN"]
)
def test_garbage_is_an_invalid_response(body: bytes) -> None:
    with pytest.raises(InvalidResponseError):
        _wire.decode_response(200, {}, body, "http://ep:1")


@pytest.mark.usefixtures("backend")
def test_errors_and_v2_disabled() -> None:
    err = _wire.decode_error(
        404, b'{"errorCode":100,"message":"Key not found","cause":"/x","index":3}\n'
    )
    assert isinstance(err, KeyNotFound) and err.index == 3
    with pytest.raises(V2DisabledError):
        _wire.decode_response(404, {}, b"404 page not found\n", "http://ep:1")
