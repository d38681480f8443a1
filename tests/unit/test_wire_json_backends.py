"""Answers parse the same with orjson (the ``fast`` extra) and with the standard json module:
the v2 wire module as imported here (orjson installed by the test extra) and a second copy of
it loaded where ``import orjson`` fails, as on an install without the extra."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from etcdmap.errors import InvalidResponseError, KeyNotFound, V2DisabledError
from etcdmap.v2 import wire as wire_with_orjson

EVENT = (
    b'{"action":"set","node":{"key":"/a/\\u00e9 ?#","value":"v\\n","modifiedIndex":7,'
    b'"createdIndex":7,"ttl":5,"expiration":"2030-01-01T00:00:00.123456789Z"},'
    b'"prevNode":{"key":"/a/\\u00e9 ?#","value":"old","modifiedIndex":6,"createdIndex":6}}\n'
)


def wire_without_orjson(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of ``etcdmap.v2.wire`` imported while ``import orjson`` fails."""
    monkeypatch.setitem(sys.modules, "orjson", None)
    spec = importlib.util.find_spec("etcdmap.v2.wire")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["orjson", "json"])
def wire(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    if request.param == "orjson":
        pytest.importorskip("orjson")  # the test extra installs it
        return wire_with_orjson
    return wire_without_orjson(monkeypatch)


def test_event_parses_identically(wire: ModuleType) -> None:
    r = wire.decode_response(201, {"X-Etcd-Index": "7"}, EVENT, "http://ep:1")
    assert r.action == "set" and r.index == 7
    assert r.node is not None and r.node.key == "/a/é ?#" and r.node.value == "v\n"
    assert r.node.ttl == 5 and r.node.expiration is not None
    assert r.prev_node is not None and r.prev_node.value == "old"


@pytest.mark.parametrize(
    "body", [b"", b"<html>", b'{"action":', b"[1, 2]", b'{"action": null}', b"NaN"]
)
def test_garbage_is_an_invalid_response(wire: ModuleType, body: bytes) -> None:
    with pytest.raises(InvalidResponseError):
        wire.decode_response(200, {}, body, "http://ep:1")


def test_errors_and_v2_disabled(wire: ModuleType) -> None:
    err = wire.decode_error(
        404, b'{"errorCode":100,"message":"Key not found","cause":"/x","index":3}\n'
    )
    assert isinstance(err, KeyNotFound) and err.index == 3
    with pytest.raises(V2DisabledError):
        wire.decode_response(404, {}, b"404 page not found\n", "http://ep:1")
