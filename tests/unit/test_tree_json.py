"""The model-free bulk-read path: ``_wire.decode_event`` and ``json_to_dict``.

``EtcdMap.to_dict()`` walks etcd's parsed JSON directly instead of building ``Node`` objects
(3-4x faster for 10,000 keys); these pure tests pin that it yields exactly what the
``Node``-based walk yields, and raises the same errors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict as Headers

from etcdmap.errors import InvalidResponseError, KeyNotFound, V2DisabledError
from etcdmap.mapping import paths as _mappath
from etcdmap.v2 import wire as _wire
from etcdmap.v2.listing import json_to_dict

TREE: dict[str, Any] = {
    "key": "/cfg",
    "dir": True,
    "nodes": [
        {"key": "/cfg/a", "value": "1", "modifiedIndex": 5, "createdIndex": 5},
        {"key": "/cfg/empty", "value": "", "modifiedIndex": 6, "createdIndex": 6},
        {
            "key": "/cfg/db",
            "dir": True,
            "nodes": [
                {"key": "/cfg/db/host name?#%", "value": "h", "modifiedIndex": 7},
                {"key": "/cfg/db/ünï", "value": "ç", "modifiedIndex": 8},
                {"key": "/cfg/db/sub", "dir": True, "modifiedIndex": 9},
            ],
            "modifiedIndex": 7,
        },
    ],
    "modifiedIndex": 4,
}
EXPECTED = {
    "a": "1",
    "empty": "",
    "db": {"host name?#%": "h", "ünï": "ç", "sub": {}},
}


def _body(doc: object) -> bytes:
    return json.dumps(doc).encode() + b"\n"


def test_json_to_dict_matches_the_node_walk() -> None:
    assert json_to_dict(TREE, None) == EXPECTED
    node = _wire.parse_node(TREE)
    assert _mappath.node_to_dict(node, lambda n: n.value) == EXPECTED


def test_json_to_dict_keeps_etcds_order() -> None:
    assert list(json_to_dict(TREE, None)) == ["a", "empty", "db"]


def test_json_to_dict_decodes_with_the_absolute_key() -> None:
    seen: list[tuple[str, str]] = []

    def decode(key: str, text: str) -> str:
        seen.append((key, text))
        return text.upper()

    out = json_to_dict(TREE, decode)
    assert out["db"]["ünï"] == "Ç"
    assert ("/cfg/db/host name?#%", "h") in seen
    assert len(seen) == 4  # files only, never directories


def test_json_to_dict_of_the_key_space_root() -> None:
    root = {"dir": True, "nodes": [{"key": "/x", "value": "1"}, {"key": "/d", "dir": True}]}
    assert json_to_dict(root, None) == {"x": "1", "d": {}}
    assert json_to_dict({"dir": True}, None) == {}


def test_json_to_dict_of_a_file_without_value_reads_empty() -> None:
    assert json_to_dict({"key": "/k", "dir": True, "nodes": [{"key": "/k/v"}]}, None) == {
        "v": ""
    }


def test_decode_event_returns_the_parsed_event() -> None:
    doc = {"action": "get", "node": TREE}
    assert _wire.decode_event(200, Headers([]), _body(doc)) == doc


def test_decode_event_raises_the_errorcode_class() -> None:
    body = _body({"errorCode": 100, "message": "Key not found", "cause": "/cfg", "index": 9})
    with pytest.raises(KeyNotFound) as info:
        _wire.decode_event(404, Headers([]), body)
    assert info.value.index == 9


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, b"", InvalidResponseError),
        (200, b"<html>", InvalidResponseError),
        (200, b"[1, 2]", InvalidResponseError),
        (200, b'{"no": "action"}', InvalidResponseError),
        (404, b"404 page not found\n", V2DisabledError),
    ],
)
def test_decode_event_refuses_what_decode_response_refuses(
    status: int, body: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        _wire.decode_event(status, Headers([]), body)
    with pytest.raises(error):
        _wire.decode_response(status, Headers([]), body)
