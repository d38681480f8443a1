"""etcdmap.signals without a server: the action->signal table, payloads, receiver errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from blinker import NamedSignal

from etcdmap import signals
from etcdmap.signals import Event, emit, emit_resynced, signal_for


class Sender:
    """A weak-referenceable stand-in for the map whose watch sends."""


@pytest.fixture
def record() -> Iterator[tuple[Sender, dict[str, list[dict[str, Any]]]]]:
    sender = Sender()
    got: dict[str, list[dict[str, Any]]] = {}
    receivers = []
    for name in ("changed", "created", "updated", "deleted", "expired", "resynced",
                 "watch_error"):
        sig: NamedSignal = getattr(signals, name)

        def rx(_sender: object, _name: str = name, **kw: Any) -> None:
            got.setdefault(_name, []).append(kw)

        sig.connect(rx, sender=sender, weak=False)
        receivers.append((sig, rx))
    yield sender, got
    for sig, rx in receivers:
        sig.disconnect(rx, sender=sender)


@pytest.mark.parametrize(
    ("action", "had_prev", "expected"),
    [
        ("set", False, "created"),
        ("set", True, "updated"),
        ("create", False, "created"),
        ("update", True, "updated"),
        ("compareAndSwap", True, "updated"),
        ("delete", True, "deleted"),
        ("compareAndDelete", True, "deleted"),
        ("expire", True, "expired"),
        ("someFutureAction", False, "created"),
        ("someFutureAction", True, "updated"),
    ],
)
def test_action_to_signal(action: str, had_prev: bool, expected: str) -> None:
    assert signal_for(action, had_prev) is getattr(signals, expected)


def test_signals_live_in_a_private_namespace() -> None:
    import blinker

    assert signals.changed is not blinker.signal("changed")
    assert signals.changed.name == "changed"


@pytest.mark.parametrize(
    ("removed", "had_prev", "expected"),
    [(True, True, "deleted"), (False, True, "updated"), (False, False, "created")],
)
def test_resync_differences_map_to_plain_signals(removed: bool, had_prev: bool,
                                                 expected: str) -> None:
    ev = Event("k", "/p/k", "resync", removed=removed, had_prev=had_prev)
    assert ev.signal is getattr(signals, expected)


def test_emit_sends_changed_and_the_specific_signal_once(record: Any) -> None:
    sender, got = record
    ev = Event("a/b", "/p/a/b", "compareAndSwap", "new", "old", 42, False, False, True)
    emit(sender, ev)
    payload = {"key": "a/b", "path": "/p/a/b", "action": "compareAndSwap", "value": "new",
               "prev_value": "old", "index": 42, "dir": False}
    assert got == {"changed": [payload], "updated": [payload]}


def test_receivers_filtered_by_sender_see_only_their_sender(record: Any) -> None:
    sender, got = record
    emit(Sender(), Event("x", "/x", "set"))
    assert got == {}


def test_resynced_payload(record: Any) -> None:
    sender, got = record
    emit_resynced(sender, index=7, created=1, updated=2, deleted=3, reason="test")
    assert got == {"resynced": [{"index": 7, "created": 1, "updated": 2, "deleted": 3,
                                 "reason": "test"}]}


def test_a_failing_receiver_neither_stops_others_nor_escapes(
    record: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sender, got = record
    boom = RuntimeError("receiver bug")

    def bad(_sender: object, **kw: Any) -> None:
        raise boom

    signals.changed.connect(bad, sender=sender, weak=False)
    try:
        with caplog.at_level(logging.ERROR, logger="etcdmap.watch"):
            emit(sender, Event("k", "/k", "set"))
    finally:
        signals.changed.disconnect(bad, sender=sender)
    assert len(got["changed"]) == 1 and len(got["created"]) == 1  # the others still ran
    assert got["watch_error"] == [{"error": boom, "signal": "changed", "receiver": bad}]
    assert any(r.name == "etcdmap.watch" and r.exc_info for r in caplog.records)


def test_a_failing_watch_error_receiver_is_only_logged(
    record: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sender, _got = record
    calls = []

    def bad(_sender: object, **kw: Any) -> None:
        calls.append(kw)
        raise ValueError("bad handler")

    signals.watch_error.connect(bad, sender=sender, weak=False)
    signals.changed.connect(bad, sender=sender, weak=False)
    try:
        with caplog.at_level(logging.ERROR, logger="etcdmap.watch"):
            emit(sender, Event("k", "/k", "set"))
    finally:
        signals.watch_error.disconnect(bad, sender=sender)
        signals.changed.disconnect(bad, sender=sender)
    assert len(calls) == 2  # once as a changed receiver, once as the watch_error receiver
    assert len([r for r in caplog.records if r.name == "etcdmap.watch"]) == 2


def test_no_receivers_costs_nothing() -> None:
    # no receiver connected for this sender or ANY: emit must not fail or build payloads
    emit(Sender(), Event("k", "/k", "expire", removed=True, had_prev=True))
