"""The pure watch cursor: index bookkeeping, backfill verdicts, empty-body retry, 401 decision,
and when to probe a stream that went quiet after a burst."""

from __future__ import annotations

import pytest

from etcdmap.errors import EtcdError, EventIndexCleared, KeyNotFound, WatcherCleared
from etcdmap.v2.cursor import QuietProbe, Verdict, WatchCursor


def test_starts_after_the_given_index() -> None:
    cur = WatchCursor(41)
    assert cur.next_index == 42
    assert cur.last_index == 41
    assert not cur.needs_backfill  # nothing known to be missing before a stream opened


def test_negative_after_index_is_refused() -> None:
    with pytest.raises(ValueError):
        WatchCursor(-1)


def test_stream_params_have_no_wait_index() -> None:
    # A stream with a historical waitIndex delivers one event and stalls (etcd issues #1186,
    # #2854: watcherHub.watch answers from history without registering the watcher), so the
    # live stream is always registered "from now" and history is backfilled by long polls.
    assert WatchCursor.stream_params(True) == [
        ("recursive", "true"), ("stream", "true"), ("wait", "true")]
    assert WatchCursor.stream_params(False) == [("stream", "true"), ("wait", "true")]


def test_poll_params_wait_from_next_index() -> None:
    cur = WatchCursor(9)
    assert cur.poll_params(True) == [("recursive", "true"), ("wait", "true"), ("waitIndex", "10")]
    assert ("recursive", "true") not in cur.poll_params(False)


def test_stream_opened_after_writes_needs_backfill() -> None:
    cur = WatchCursor(10)
    cur.stream_opened(15)
    assert cur.needs_backfill
    cur.stream_opened(10)
    assert not cur.needs_backfill


def test_backfill_delivers_history_in_order_then_hands_over_to_the_stream() -> None:
    cur = WatchCursor(10)
    cur.stream_opened(20)
    assert cur.backfill_event(12) is Verdict.DELIVER
    assert cur.next_index == 13
    assert cur.backfill_event(12) is Verdict.SKIP  # a repeat (another member answered)
    assert cur.backfill_event(20) is Verdict.DELIVER
    assert not cur.needs_backfill
    assert cur.next_index == 21


def test_backfill_event_newer_than_stream_start_ends_backfill_without_delivery() -> None:
    cur = WatchCursor(10)
    cur.stream_opened(20)
    assert cur.backfill_event(25) is Verdict.DONE
    # nothing in [11, 20] concerned us; the stream delivers 25 itself
    assert cur.next_index == 21
    assert cur.stream_event(25)
    assert cur.next_index == 26


def test_idle_poll_proves_no_event_up_to_its_start() -> None:
    cur = WatchCursor(10)
    cur.stream_opened(20)
    cur.backfill_idle(18)  # a lagging member: only proves [11, 18]
    assert cur.next_index == 19 and cur.needs_backfill
    cur.backfill_idle(22)
    assert cur.next_index == 23 and not cur.needs_backfill


def test_idle_never_moves_the_cursor_back() -> None:
    cur = WatchCursor(30)
    cur.backfill_idle(5)
    assert cur.next_index == 31


def test_stream_events_skip_what_was_delivered() -> None:
    cur = WatchCursor(10)
    assert cur.stream_event(11)
    assert not cur.stream_event(11)
    assert not cur.stream_event(5)
    assert cur.stream_event(40)  # gaps are other keys' writes, not losses
    assert cur.last_index == 40


def test_empty_answers_repoll_at_once_then_back_off_capped() -> None:
    cur = WatchCursor(0)
    delays = [cur.empty() for _ in range(12)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert all(b >= a for a, b in zip(delays, delays[1:], strict=False))
    assert delays[-1] == 1.0
    assert cur.next_index == 1  # an empty answer never advances the index
    cur.backfill_event(0)
    assert cur.empty() == 0.0  # an event resets the backoff


def test_resync_resumes_after_the_read_index() -> None:
    cur = WatchCursor(10)
    cur.stream_opened(3000)
    cur.resynced(2990)
    assert cur.next_index == 2991
    assert cur.needs_backfill
    cur.resynced(100)  # never backwards
    assert cur.next_index == 2991


@pytest.mark.parametrize(
    ("error", "resync"),
    [
        (EventIndexCleared("The event in requested index is outdated and cleared", "", 1133),
         True),
        (WatcherCleared("watcher is cleared due to etcd recovery"), True),
        (KeyNotFound("Key not found"), False),
        (EtcdError("x", code=999), False),
        (TimeoutError(), False),
    ],
)
def test_which_errors_mean_history_is_gone(error: BaseException, resync: bool) -> None:
    assert WatchCursor.needs_resync(error) is resync


def test_an_idle_watch_is_never_probed() -> None:
    probe = QuietProbe(0.05)
    assert probe.due(0.0) is None
    assert probe.due(1e6) is None  # however long the silence: nothing was arriving


def test_a_probe_is_due_once_the_stream_is_quiet_for_the_window_after_an_event() -> None:
    probe = QuietProbe(0.05)
    probe.event(100.0)
    assert probe.due(100.01) == pytest.approx(0.04)  # still busy: ask again later
    probe.event(100.03)  # the burst goes on: the window restarts
    assert probe.due(100.07) == pytest.approx(0.01)
    assert probe.due(100.08) == 0.0  # quiet for the window: probe now
    assert probe.due(100.09) is None  # once per busy period
    assert probe.due(200.0) is None
    probe.event(300.0)  # a new busy period gets its own probe
    assert probe.due(300.05) == 0.0


def test_a_closed_stream_forgets_its_busy_period() -> None:
    probe = QuietProbe(0.05)
    probe.event(1.0)
    probe.reset()
    assert probe.due(2.0) is None


def test_quiet_window_must_be_positive() -> None:
    with pytest.raises(ValueError):
        QuietProbe(0.0)


def test_a_probe_event_the_stream_did_not_deliver_means_the_stream_was_dropped() -> None:
    cur = WatchCursor(10)
    cur.stream_opened(10)
    assert cur.stream_event(15)
    assert not cur.stream_missed(15)  # the stream delivered it: alive
    assert not cur.stream_missed(12)
    assert cur.stream_missed(16)  # history has an event the live stream never sent: dropped
    # The probe never delivers: after the reconnect the backfill delivers 16 exactly once.
    cur.stream_opened(40)
    assert cur.backfill_event(16) is Verdict.DELIVER
    assert cur.backfill_event(16) is Verdict.SKIP
    assert not cur.stream_event(16)
