"""The v2 change stream as a hub subscription (:meth:`etcdmap.v2.backend.V2Backend.subscribe`):
the v2 parts of the one subscription lifecycle (:mod:`etcdmap.http.watch_lifecycle`).

- A worker opens the ``stream=true`` watch (no ``waitIndex``: registered at its
  ``X-Etcd-Index`` ``S``) and hands it to the hub's I/O thread, which reads it from then on.
- While events between the last delivered one and ``S`` are missing, long polls backfill them
  from etcd's history, one at a time, each read by the I/O thread too: an event is delivered
  (or ends the backfill when it is newer than ``S``); a poll that stays silent for the poll
  window proves "nothing in history" once the member's shared liveness check, started after
  the window, passed (:meth:`etcdmap.http.liveness.Liveness.confirm`). Stream events that
  arrive meanwhile wait and are delivered after the backfill, skipping what it delivered.
- An idle stream stays open: nothing is sent but the shared check per member. A failed check
  (frozen, dead, or partitioned member: ``/health`` false) moves the stream to another member,
  which backfills from the next undelivered index; the client's pin moves too.
- After a burst, when the stream goes quiet for the probe window, one long poll from the next
  undelivered index probes it: an event found there that the stream did not deliver means etcd
  dropped the stream (its 100-event buffer overflowed), so it reconnects and backfills.
  :meth:`V2Subscription.nudge` sends the same poll; its silence proves the stream current up
  to the poll's index (``wait_for`` an index outside the watched directory).
- A lost history (401/400) pauses the subscription and calls the sink's
  ``on_history_lost``; the sink re-reads and calls :meth:`V2Subscription.resume`.
  The long polls are :mod:`etcdmap.v2.subscription_polls`.

The index bookkeeping is :class:`~etcdmap.v2.cursor.WatchCursor`;
every change of it and every delivery happen under one lock, so the deliveries queued on the
subscription's dispatcher lane are in index order.

Thread-safety: every public method may be called from any thread.
"""

from __future__ import annotations

import logging
import time

from etcdmap.errors import EtcdMapError
from etcdmap.v2 import wire as _wire
from etcdmap.v2.subscription_polls import BACKLOG, V2Polls
from etcdmap.v2.subscription_polls import decode as _decode
from etcdmap.v2.subscription_polls import event_index as _event_index

__all__ = ["V2Subscription"]

log = logging.getLogger("etcdmap.watch")


class V2Subscription(V2Polls):
    """The changes below ``key`` after ``after``, pushed to ``sink`` (see the module docstring
    and :class:`~etcdmap.v2.subscription_polls.V2Polls` for the parameters).
    """

    kind = "v2 watch"

    def _connect(self, gen: int) -> None:
        """On a worker: open the stream, hand it to the hub, start the backfill."""
        if gen != self._gen:
            return
        try:
            resp = self._open(self._cursor.stream_params(self._recursive), None)
            start = _wire.parse_index(resp.headers, resp.endpoint)
        except Exception as exc:  # every failure: report, back off, reconnect
            self._fail(gen, exc)
            return
        with self._lock:
            if gen != self._gen:
                resp.close()
                return
            self._on_member(resp.endpoint)
            self._cursor.stream_opened(start)
            self._state = "backfill" if self._cursor.needs_backfill else "live"
            headers = resp.headers
            self._stream = self._hub.attach(
                resp, on_lines=lambda lines: self._stream_lines(gen, headers, lines),
                on_end=lambda error: self._stream_end(gen, error),
            )
            if self._state == "live":
                self._go_live(gen)
        if self._state == "backfill":
            self._poll(gen, "backfill")

    # ------------------------------------------------------------------ the live stream

    def _stream_lines(self, gen: int, headers: object, lines: list[bytes]) -> None:
        """On the I/O thread: the stream's events."""
        with self._lock:
            if gen != self._gen:
                return
            try:
                events = [_decode(headers, line, self._endpoint) for line in lines]
            except EtcdMapError as exc:
                self._fail(gen, exc)
                return
            if self._state == "backfill":
                self._pending += events
                return
            for event in events:
                if self._cursor.stream_event(_event_index(event)):
                    self._emit(event)
            self._emit_progress()
            self._backpressure(gen)
            self._busy(gen)

    def _stream_end(self, gen: int, error: EtcdMapError | None) -> None:
        """On the I/O thread: the stream ended (empty 200, closed, broken)."""
        if error is not None:
            self._fail(gen, error)
            return
        with self._lock:
            if gen != self._gen or self._state in ("closed", "paused"):
                return
            # An empty 200 re-polls, backing off if it repeats; an end after events at once.
            stream = self._stream
            empty = self._state == "live" and stream is not None and not stream.got_line
            self._restart(self._cursor.empty() if empty else 0.0)

    def _backpressure(self, gen: int) -> None:
        """Stop reading the stream while the sink is far behind (lock held): the lane
        resumes it once it has worked through what is queued now."""
        stream = self._stream
        if stream is None or self._lane.pending <= BACKLOG or not stream.flowing.is_set():
            return
        stream.pause()

        def resume() -> None:
            with self._lock:
                if gen == self._gen:
                    stream.resume()
                    self._busy(gen)  # probe it after the backlog: etcd may have dropped it

        self._lane.submit(resume)

    def _go_live(self, gen: int) -> None:
        """The backfill is complete: deliver the stream's waiting events (lock held)."""
        self._state = "live"
        self._failures = 0
        for event in self._pending:
            if self._cursor.stream_event(_event_index(event)):
                self._emit(event)
        self._pending = []
        self._emit_progress()
        self._checked()  # a nudge that came while connecting is sent now

    def _quiet_due(self, gen: int) -> None:
        """On the I/O thread: the probe window after a burst."""
        with self._lock:
            self._probe_timer = None
            if gen != self._gen or self._state != "live":
                return
            delay = self._quiet.due(time.monotonic())
            if delay is None:
                return
            if delay > 0:
                self._probe_timer = self._hub.call_later(delay, lambda: self._quiet_due(gen))
                return
            if self._checking:
                return
            stream = self._stream
            if stream is not None and not stream.flowing.is_set():
                return  # paused: probed after the resume
            if self._behind(gen, lambda: self._quiet_due(gen)):
                return
            self._checking = True
        self._hub.workers.submit(lambda: self._poll(gen, "probe"))
