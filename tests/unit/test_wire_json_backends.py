"""Answers parse the same with orjson (the ``fast`` extra) and with the standard json module."""

from __future__ import annotations

import json

import pytest

from etcdmap.errors import InvalidResponseError, KeyNotFound, V2DisabledError
from etcdmap.http import json_codec
from etcdmap.v2 import wire as _wire
from etcdmap.v3 import wire as v3_wire


@pytest.fixture(params=sorted(json_codec.backends()))
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    loads, dumps = json_codec.backends()[request.param]
    monkeypatch.setattr(json_codec, "loads", loads)
    monkeypatch.setattr(json_codec, "dumps", dumps)


EVENT = (
    b'{"action":"set","node":{"key":"/a/\\u00e9 ?#","value":"v\\n","modifiedIndex":7,'
    b'"createdIndex":7,"ttl":5,"expiration":"2030-01-01T00:00:00.123456789Z"},'
    b'"prevNode":{"key":"/a/\\u00e9 ?#","value":"old","modifiedIndex":6,"createdIndex":6}}\n'
)


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


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("body", [b"", b"<html>", b'{"kvs":', b"[1, 2]", b"\xff\xfe", b"NaN"])
def test_v3_garbage_is_an_invalid_response(body: bytes) -> None:
    with pytest.raises(InvalidResponseError):
        v3_wire.decode_json(body)


BODIES: list[object] = [
    {"key": "L2E=", "range_end": "L2I=", "limit": "10", "keys_only": True},
    {"compare": [{"key": "a2V5", "target": "VALUE", "result": "EQUAL", "value": "dg=="}],
     "success": [{"request_put": {"key": "a2V5", "value": "bg=="}}]},
    {"name": "é \u2028 \"quoted\" \\ /", "n": -1, "none": None, "list": [1.5, False]},
    {"big": 2**70},  # beyond 64 bits: orjson refuses it, json takes it
]


@pytest.mark.parametrize("value", BODIES, ids=range(len(BODIES)))
def test_every_backend_encodes_the_same_json(value: object) -> None:
    encoded = {name: dumps(value) for name, (_, dumps) in json_codec.backends().items()}
    for name, data in encoded.items():
        assert isinstance(data, bytes), name
        assert json.loads(data) == value, name  # what the standard library reads back
        assert b", " not in data and b": " not in data, name  # compact


def test_the_fast_backend_is_the_default_when_it_imports() -> None:
    first = next(iter(json_codec.backends()))
    assert (json_codec.loads, json_codec.dumps) == json_codec.backends()[first]
    try:
        import orjson  # noqa: F401, PLC0415
    except ImportError:  # pragma: no cover - the test extra installs orjson
        assert first == "json"
    else:
        assert first == "orjson"
