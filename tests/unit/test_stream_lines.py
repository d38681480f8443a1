"""``etcdmap.http.lines``: a stream's JSON lines cut as they arrive, and what a failed read is."""

from __future__ import annotations

import pytest

from etcdmap.errors import ClusterError, DeadlineExceeded
from etcdmap.http.attempt import AttemptError
from etcdmap.http.lines import LineBuffer, stream_failure


def test_lines_split_anywhere_come_out_whole() -> None:
    lines = LineBuffer("http://a:1")
    assert lines.feed(b'{"a"') == []
    assert lines.feed(b':1}\r\n\n{"b":2}\n{"c"') == [b'{"a":1}', b'{"b":2}']
    assert lines.feed(b":3}") == []
    assert lines.end() == b'{"c":3}'
    assert lines.end() is None


def test_blank_lines_are_dropped() -> None:
    lines = LineBuffer("http://a:1")
    assert lines.feed(b"\n \n\r\nx\n") == [b"x"]
    assert lines.end() is None


def test_an_endless_line_is_refused() -> None:
    lines = LineBuffer("http://a:1", limit=8)
    assert lines.feed(b"12345") == []
    with pytest.raises(ClusterError, match="longer than") as info:
        lines.feed(b"6789")
    assert info.value.errors[0][0] == "http://a:1"


def test_a_failed_read_is_silence_or_a_broken_stream() -> None:
    silence = stream_failure("http://a:1", 2.0, AttemptError(TimeoutError(), sent=True,
                                                              timed_out=True))
    assert isinstance(silence, DeadlineExceeded)
    assert "sent nothing for 2.0 s" in str(silence)
    broken = stream_failure("http://a:1", 2.0, ConnectionResetError("reset"))
    assert isinstance(broken, ClusterError)
    assert broken.errors[0][0] == "http://a:1"
    assert "the stream broke" in str(broken)
