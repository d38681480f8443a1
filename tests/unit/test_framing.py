"""The sans-IO framing seam, without sockets: request heads, and both answer parsers (httptools
and h11) on the same bytes: events, reuse, and every refusal."""

from __future__ import annotations

import threading

import pytest

from etcdmap.http.framing import (
    END,
    MAX_HEAD,
    NEED_DATA,
    BoundedCache,
    FramingError,
    Head,
    HeadWriter,
    ResponseParser,
    body_length,
)
from etcdmap.http.framing_choice import available_framings, default_framing, parser_for


def parse(framing: str, *pieces: bytes, method: str = "GET") -> tuple[list[object], ResponseParser]:
    """Feed ``pieces`` one by one; every event up to END (or NEED_DATA once nothing is left)."""
    parser = parser_for(framing)(method)
    events: list[object] = []
    queue = list(pieces)
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            if not queue:
                return events, parser
            parser.feed(queue.pop(0))
            continue
        events.append(event)
        if event is END:
            return events, parser


def body(events: list[object]) -> bytes:
    return b"".join(e for e in events if isinstance(e, bytes))


# ------------------------------------------------------------------ answers


def test_content_length_answer(framing: str) -> None:
    events, parser = parse(framing, b"HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a:  2 \r\n"
                                    b"Content-Length: 5\r\n\r\nhello")
    head = events[0]
    assert isinstance(head, Head)
    assert (head.status, head.reason) == (200, "OK")
    assert head.headers["x-a"] == ("x-a", "1, 2")  # repeated names joined, blanks stripped
    assert head.headers["content-length"] == ("Content-Length", "5")
    assert body(events) == b"hello" and events[-1] is END
    assert parser.reusable


def test_answer_in_one_byte_pieces(framing: str) -> None:
    raw = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    events, parser = parse(framing, *(raw[i:i + 1] for i in range(len(raw))))
    assert isinstance(events[0], Head) and events[0].reason == "Created"
    assert body(events) == b"abcde" and events[-1] is END
    assert parser.reusable


def test_trailers_are_ignored(framing: str) -> None:
    events, parser = parse(framing, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    b"2\r\nok\r\n0\r\nX-Trailer: 1\r\n\r\n")
    assert isinstance(events[0], Head) and "x-trailer" not in events[0].headers
    assert body(events) == b"ok" and parser.reusable


@pytest.mark.parametrize("raw", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
                                 b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"])
def test_head_answer_has_no_body(framing: str, raw: bytes) -> None:
    events, parser = parse(framing, raw, method="HEAD")
    assert [type(e) for e in events] == [Head, type(END)]
    assert parser.reusable


@pytest.mark.parametrize("status", [204, 304])
def test_bodyless_statuses(framing: str, status: int) -> None:
    events, parser = parse(framing, b"HTTP/1.1 %d X\r\nContent-Length: 3\r\n\r\n" % status)
    assert [type(e) for e in events] == [Head, type(END)] and parser.reusable


def test_informational_answers_are_skipped(framing: str) -> None:
    events, parser = parse(framing, b"HTTP/1.1 100 Continue\r\n\r\n"
                                    b"HTTP/1.1 102 Processing\r\nX-A: 1\r\n\r\n"
                                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    head = events[0]
    assert isinstance(head, Head) and head.status == 200 and "x-a" not in head.headers
    assert body(events) == b"ok" and parser.reusable


@pytest.mark.parametrize("raw", [b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>",
                                 b"HTTP/1.1 200 OK\r\n\r\n<html>"], ids=["1.0", "1.1"])
def test_body_until_the_connection_closes(framing: str, raw: bytes) -> None:
    events, parser = parse(framing, raw, b"</html>", b"")
    assert body(events) == b"<html></html>" and events[-1] is END
    assert not parser.reusable  # the connection ended with the body


@pytest.mark.parametrize("raw", [b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                                 b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"],
                         ids=["close", "http/1.0"])
def test_no_keep_alive_is_not_reusable(framing: str, raw: bytes) -> None:
    events, parser = parse(framing, raw)
    assert body(events) == b"ok" and events[-1] is END
    assert not parser.reusable


@pytest.mark.parametrize(
    "extra",
    [b"EXTRA", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno", b"HTTP/1.1 2"],
    ids=["garbage", "pipelined", "partial"],
)
def test_bytes_after_the_answer_forbid_reuse(framing: str, extra: bytes) -> None:
    events, parser = parse(framing, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + extra)
    assert body(events) == b"ok" and events[-1] is END  # the answer itself is fine
    assert not parser.reusable


def test_bytes_after_a_204_forbid_reuse(framing: str) -> None:
    events, parser = parse(framing, b"HTTP/1.1 204 No Content\r\n\r\n"
                                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno")
    assert [type(e) for e in events] == [Head, type(END)]
    assert not parser.reusable


def test_body_of_a_head_answer_forbids_reuse(framing: str) -> None:
    events, parser = parse(framing, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", method="HEAD")
    assert [type(e) for e in events] == [Head, type(END)]
    assert not parser.reusable


@pytest.mark.parametrize(
    "raw",
    [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk",
     b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nokk",
     b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\nok\r\n0\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFF\r\nok",
     b"HTTP/1.1 abc OK\r\n\r\n",
     b"SSH-2.0-OpenSSH_9.6\r\n",
     b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nX-A: v\x00v\r\n\r\n",
     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"],
    ids=["two-lengths", "length-list", "length-not-digits", "chunked-not-final",
         "chunked-substring", "chunked-and-length", "negative-chunk", "chunk-not-hex",
         "chunk-overflow", "status", "not-http", "header-line", "nul-in-value", "101"],
)
def test_malformed_answers_are_refused(framing: str, raw: bytes) -> None:
    with pytest.raises(FramingError):
        parse(framing, raw, b"")


def test_events_before_a_fault_come_first(framing: str) -> None:
    parser = parser_for(framing)("GET")
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\n")
    assert isinstance(parser.next_event(), Head)
    assert parser.next_event() == b"ok"
    with pytest.raises(FramingError):
        parser.next_event()


def test_early_close_is_refused(framing: str) -> None:
    with pytest.raises(FramingError, match="closed"):
        parse(framing, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", b"")
    with pytest.raises(FramingError, match="closed"):
        parse(framing, b"HTTP/1.1 200 OK\r\nContent", b"")


def test_overlong_head_is_refused(framing: str) -> None:
    line = b"X-Long: " + b"a" * (MAX_HEAD + 10) + b"\r\n"
    raw = b"HTTP/1.1 200 OK\r\n" + line + b"Content-Length: 0\r\n\r\n"
    with pytest.raises(FramingError):
        parse(framing, *(raw[i:i + 16384] for i in range(0, len(raw), 16384)))


def test_head_just_under_the_limit_is_read(framing: str) -> None:
    line = b"X-Long: " + b"a" * (MAX_HEAD - 200) + b"\r\n"
    events, _ = parse(framing, b"HTTP/1.1 200 OK\r\n" + line + b"Content-Length: 0\r\n\r\n")
    assert isinstance(events[0], Head) and len(events[0].headers["x-long"][1]) == MAX_HEAD - 200


def test_next_answer_on_the_same_connection(framing: str) -> None:
    _, parser = parse(framing, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert parser.reusable
    second = parser.next_answer("HEAD")
    second.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")
    assert isinstance(second.next_event(), Head)
    assert second.next_event() is END and second.reusable


# ------------------------------------------------------------------ request heads


def test_request_head_is_formatted() -> None:
    head = HeadWriter().head("PUT", "/v2/keys/a%20b?x=1", "127.0.0.1:2379",
                             (("Accept", "application/json"), ("X-Bytes", b"v")), 7)
    assert head == (b"PUT /v2/keys/a%20b?x=1 HTTP/1.1\r\nHost: 127.0.0.1:2379\r\n"
                    b"Accept: application/json\r\nX-Bytes: v\r\nContent-Length: 7\r\n\r\n")
    assert HeadWriter().head("GET", "/", "h", [("Host", "ignored")], None) == \
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [("GET", "/a b", ()), ("GET", "/a\r\nX: 1", ()), ("GET", "/é", ()), ("GET", "", ()),
     ("G ET", "/", ()), ("GET\r\n", "/", ()),
     ("GET", "/", (("X-Bad", "v\r\nX-Injected: 1"),)), ("GET", "/", (("X-Bad", " v"),)),
     ("GET", "/", (("X-Bad", "v\x00"),)), ("GET", "/", (("Bad Name", "v"),)),
     ("GET", "/", (("X-A:", "v"),)), ("GET", "/", (("X-Snow", "☃"),)),
     ("GET", "/", (("Transfer-Encoding", "chunked"),)),
     ("GET", "/", (("Content-Length", "3"),))],
)
def test_invalid_request_parts_are_refused(method: str, target: str,
                                          headers: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(FramingError):
        HeadWriter().head(method, target, "h", headers, None)


def test_invalid_headers_are_refused_every_time() -> None:
    writer = HeadWriter()
    for _ in range(2):  # nothing invalid is ever cached
        with pytest.raises(FramingError):
            writer.head("GET", "/", "h", (("X-Bad", "a\nb"),), None)


def test_body_length() -> None:
    assert body_length("GET", None) is None and body_length("PUT", None) == 0
    assert body_length("POST", b"abc") == 3 and body_length("DELETE", b"") == 0


# ------------------------------------------------------------------ choosing a framing


def test_default_framing_follows_the_environment(framing: str) -> None:
    assert default_framing() == framing  # the fixture sets ETCDMAP_FRAMING
    assert framing in available_framings()


def test_unknown_framings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="unknown framing"):
        parser_for("picohttp")
    monkeypatch.setenv("ETCDMAP_FRAMING", "picohttp")
    with pytest.raises(ValueError, match="ETCDMAP_FRAMING"):
        default_framing()


def test_bounded_cache_under_threads() -> None:
    cache = BoundedCache(50)

    def fill(base: int) -> None:
        for i in range(2000):
            cache.put((base, i), i)
            assert cache.get((base, i)) in (i, None)  # another thread may have emptied it

    workers = [threading.Thread(target=fill, args=(t,)) for t in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(cache) <= 50
