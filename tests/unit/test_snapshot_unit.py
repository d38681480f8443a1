"""The snapshot stream's checks, on answers etcd never sends (a scripted loopback peer): a
wrong digest, a missing digest, a stream cut short, an error line. Nothing is ever left at
the destination."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path

import pytest

from etcdmap.errors import InvalidResponseError
from etcdmap.v3 import Client
from etcdmap.v3 import errors as e
from tests.unit.scripted import ScriptedServer, ok


def _line(blob: bytes, remaining: int) -> bytes:
    result: dict[str, object] = {"blob": base64.b64encode(blob).decode()}
    if remaining:
        result["remaining_bytes"] = str(remaining)
    return json.dumps({"result": result}).encode() + b"\n"


def _stream(chunks: list[bytes], digest: bytes | None) -> bytes:
    total = sum(map(len, chunks))
    sent, body = 0, b""
    for chunk in chunks:
        sent += len(chunk)
        body += _line(chunk, total - sent)
    if digest is not None:
        body += _line(digest, 0)
    return ok(body, b"Content-Type: application/json\r\n")


DATA = [b"a" * 1000, b"b" * 1000, b"c" * 10]


def _snapshot(answer: bytes, dest: object) -> int:
    with ScriptedServer([answer]) as server, Client(server.url, timeout=5) as client:
        return client.maintenance.snapshot(dest)  # type: ignore[arg-type]


def test_a_good_stream_is_written_with_its_digest(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"".join(DATA)).digest()
    dest = tmp_path / "s.db"
    assert _snapshot(_stream(DATA, digest), dest) == 2010 + 32
    assert dest.read_bytes() == b"".join(DATA) + digest
    assert os.listdir(tmp_path) == ["s.db"]


def _cut_short() -> bytes:
    """The first two of three chunks, then a clean end of the body."""
    body = _line(DATA[0], 1010) + _line(DATA[1], 10)
    return ok(body)


@pytest.mark.parametrize(("answer", "match"), [
    (_stream(DATA, hashlib.sha256(b"other").digest()), "does not match its SHA-256"),
    (_stream(DATA, None), "without its SHA-256"),
    (_stream(DATA, b"short"), "without its SHA-256"),
    (_cut_short(), "ended after 2000 bytes, before its end"),
    (ok(_line(b"x", 0) + _line(hashlib.sha256(b"x").digest(), 0) + _line(b"y", 0)),
     "sent more after the snapshot's digest"),
    (ok(b'{"nothing": 1}\n'), "has no result"),
    (ok(b"not json\n"), "not JSON"),
])
def test_a_bad_stream_leaves_nothing(tmp_path: Path, answer: bytes, match: str) -> None:
    dest = tmp_path / "s.db"
    dest.write_bytes(b"old")
    with pytest.raises(InvalidResponseError, match=match):
        _snapshot(answer, dest)
    assert dest.read_bytes() == b"old" and os.listdir(tmp_path) == ["s.db"]
    sink = io.BytesIO()
    with pytest.raises(InvalidResponseError, match=match):
        _snapshot(answer, sink)
    assert sink.getvalue() == b""  # a file object gets nothing either


def test_an_error_line_is_the_v3_error(tmp_path: Path) -> None:
    line = json.dumps({"error": {"grpc_code": 14, "http_code": 503,
                                 "message": "etcdserver: server stopped"}}).encode()
    answer = ok(_line(DATA[0], 99) + line + b"\n")
    with pytest.raises(e.ServerStopped):
        _snapshot(answer, tmp_path / "s.db")
    assert os.listdir(tmp_path) == []
