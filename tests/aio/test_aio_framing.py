"""The asyncio connections' framing seam (``etcdmap.aio.framing``), without sockets, on each
engine of the shared framing (:mod:`etcdmap.http.framing`)."""

from __future__ import annotations

import pytest

from etcdmap.aio.framing import END, FramingError, Head, new_framing
from etcdmap.http.framing_choice import ENV_FRAMING, available_framings

HOST = [("Host", "a:1")]


@pytest.fixture(autouse=True, params=available_framings())
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test on each framing engine that imports here (httptools and h11 in the suite)."""
    monkeypatch.setenv(ENV_FRAMING, request.param)
    return str(request.param)


def _answer(*pieces: bytes) -> list[object]:
    framing = new_framing()
    framing.request("GET", "/k", HOST, None)
    events: list[object] = []
    for piece in pieces:
        events.extend(framing.feed(piece))
    return events


def test_request_bytes_with_a_body() -> None:
    data = new_framing().request("PUT", "/v2/keys/a?x=1",
                                 [*HOST, ("Content-Length", "3")], b"v=1")
    assert data == b"PUT /v2/keys/a?x=1 HTTP/1.1\r\nHost: a:1\r\nContent-Length: 3\r\n\r\nv=1"


@pytest.mark.parametrize(("target", "headers"), [
    ("/a b", HOST), ("/a", [*HOST, ("X-Bad", "a\r\nInjected: 1")]), ("/a", [("X", "1")]),
])
def test_a_request_http_refuses_is_a_value_error(target: str, headers: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError, match="cannot send this request"):
        new_framing().request("GET", target, headers, None)


def test_content_length_answer_in_pieces_then_reusable() -> None:
    framing = new_framing()
    framing.request("GET", "/k", HOST, None)
    assert framing.feed(b"HTTP/1.1 200 OK\r\nContent-Le") == []
    events = framing.feed(b"ngth: 5\r\nX-Etcd-Index: 7\r\n\r\nhel")
    assert events == [Head(200, [("content-length", "5"), ("x-etcd-index", "7")]), b"hel"]
    assert framing.feed(b"lo") == [b"lo", END]
    assert framing.reusable()
    framing.request("GET", "/next", HOST, None)  # the next exchange on the same connection


def test_chunked_answer_and_informational_heads_skipped() -> None:
    events = _answer(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", b"0\r\n\r\n")
    assert events == [Head(200, [("transfer-encoding", "chunked")]), b"abc", END]


def test_a_body_until_close_ends_at_the_close() -> None:
    framing = new_framing()
    framing.request("GET", "/k", HOST, None)
    assert framing.feed(b"HTTP/1.0 200 OK\r\n\r\nall") == [Head(200, []), b"all"]
    assert framing.feed(b"") == [END]
    assert not framing.reusable()


@pytest.mark.parametrize("extra", [b"X", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
def test_bytes_after_the_answer_make_the_connection_unusable(extra: bytes) -> None:
    framing = new_framing()
    framing.request("GET", "/k", HOST, None)
    events = framing.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + extra)
    assert events[-1] is END
    assert not framing.reusable()


def test_connection_close_is_not_reused() -> None:
    framing = new_framing()
    framing.request("GET", "/k", HOST, None)
    framing.feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert not framing.reusable()


@pytest.mark.parametrize("raw", [
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000,
])
def test_invalid_answers_are_framing_errors(raw: bytes) -> None:
    framing = new_framing()
    framing.request("GET", "/k", HOST, None)
    with pytest.raises(FramingError, match="not a valid HTTP/1.1 answer"):
        framing.feed(raw)


@pytest.mark.parametrize("raw", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"])
def test_a_close_before_the_end_is_a_connection_error(raw: bytes) -> None:
    framing = new_framing()
    framing.request("GET", "/k", HOST, None)
    if raw:
        framing.feed(raw)
    with pytest.raises(ConnectionError, match="closed before the answer ended"):
        framing.feed(b"")


def test_an_answer_to_head_has_no_body_and_the_connection_goes_on() -> None:
    framing = new_framing()
    framing.request("HEAD", "/k", HOST, None)
    assert framing.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n") == [
        Head(200, [("content-length", "5")]), END]
    assert framing.reusable()

