"""The v3 resume point (etcdmap.v3.cursor): fresh events only, whole fragmented messages,
canceled watches as errors, and which keys a mapping-level watch reports."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from etcdmap.errors import ClusterError, HistoryLost
from etcdmap.http.watch_lifecycle import backoff, open_avoiding
from etcdmap.v3.cursor import RevisionCursor, scope
from etcdmap.v3.errors import PermissionDenied, RevisionCompacted
from etcdmap.v3.models import WatchResponse
from etcdmap.v3.wire import parse_watch_line


def msg(revision: int, *keys_revs: tuple[str, int], **fields: Any) -> WatchResponse:
    events = [{"kv": {"key": base64.b64encode(k.encode()).decode(), "mod_revision": str(r),
                      "create_revision": str(r), "version": "1"}} for k, r in keys_revs]
    result: dict[str, Any] = {"header": {"revision": str(revision)}, **fields}
    if events:
        result["events"] = events
    return parse_watch_line(json.dumps({"result": result}).encode())


def test_events_at_or_below_the_last_revision_are_dropped() -> None:
    cursor = RevisionCursor(5)
    assert cursor.start_revision == 6
    assert cursor.accept(msg(5, ("a", 4), ("b", 5))) is None
    got = cursor.accept(msg(7, ("b", 5), ("c", 6), ("d", 7)))
    assert got is not None and [e.kv.key_text for e in got.events] == ["c", "d"]
    assert cursor.last == 7 and cursor.start_revision == 8


def test_created_fixes_now_and_progress_moves_forward_only() -> None:
    cursor = RevisionCursor()
    assert cursor.start_revision == 0  # "from now"
    cursor.accept(msg(10, created=True))
    assert cursor.last == 10
    cursor.accept(msg(12))
    assert cursor.last == 12
    cursor.accept(msg(11))
    assert cursor.last == 12


def test_fragments_are_one_message() -> None:
    cursor = RevisionCursor(1)
    assert cursor.accept(msg(3, ("a", 2), fragment=True)) is None
    assert cursor.last == 1  # nothing delivered from half a message
    got = cursor.accept(msg(3, ("b", 2), ("c", 3)))
    assert got is not None and [e.kv.key_text for e in got.events] == ["a", "b", "c"]
    assert cursor.last == 3
    cursor.accept(msg(4, ("x", 4), fragment=True))
    cursor.reopened()  # the stream broke mid-message: the half is forgotten
    got = cursor.accept(msg(4, ("y", 4)))
    assert got is not None and [e.kv.key_text for e in got.events] == ["y"]


def test_a_canceled_watch_raises_what_etcd_said() -> None:
    cursor = RevisionCursor(1)
    with pytest.raises(RevisionCompacted) as lost:
        cursor.accept(msg(0, canceled=True, compact_revision="9"))
    assert isinstance(lost.value, HistoryLost) and lost.value.compact_revision == 9
    with pytest.raises(PermissionDenied):
        cursor.accept(msg(3, created=True, canceled=True, cancel_reason=(
            "rpc error: code = PermissionDenied desc = etcdserver: permission denied")))


def test_scope_is_the_directory_its_marker_and_visible_keys_below() -> None:
    wants = scope("/app/", True)
    assert [k for k in ("/app", "/app/", "/app/a", "/app/x/y", "/app/_h", "/apple", "/b")
            if wants(k)] == ["/app", "/app/", "/app/a", "/app/x/y"]
    flat = scope("/app", False)
    assert [k for k in ("/app", "/app/", "/app/a") if flat(k)] == ["/app", "/app/"]


def test_a_broken_stream_reopens_on_the_next_member_first() -> None:
    tried: list[str | None] = []

    def open_at(ep: str | None) -> str:
        tried.append(ep)
        if ep == "http://b":
            raise ClusterError([(ep, OSError("refused"))])
        return ep or "pinned"

    eps = ["http://a", "http://b", "http://c"]
    assert open_avoiding(eps, "http://a", open_at) == "pinned"
    assert tried == ["http://b", None]  # the next one, then the client's own order
    tried.clear()
    assert open_avoiding(eps, "http://b", open_at) == "http://c"
    assert open_avoiding(eps, None, open_at) == "pinned"
    assert backoff(1) == 0.0 and 0 < backoff(2) < backoff(5) <= 2.0
