"""The v2 change stream as a hub subscription (:meth:`etcdmap.v2.backend.V2Backend.subscribe`):
the same protocol as :mod:`etcdmap.v2.changes`, driven by events instead of a thread per watch.

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

The index bookkeeping is :class:`~etcdmap.v2.cursor.WatchCursor`, as for the pull stream;
every change of it and every delivery happen under one lock, so the deliveries queued on the
subscription's dispatcher lane are in index order.

Thread-safety: every public method may be called from any thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from etcdmap.errors import EtcdMapError, HistoryLost
from etcdmap.http.hub import HubStream
from etcdmap.v2 import wire as _wire
from etcdmap.v2.cursor import Verdict
from etcdmap.v2.models import Response
from etcdmap.v2.subscription_core import BACKLOG, PROBE_GRACE, SubscriptionCore
from etcdmap.v2.subscription_core import decode as _decode
from etcdmap.v2.subscription_core import event_index as _event_index

__all__ = ["V2Subscription"]

log = logging.getLogger("etcdmap.watch")


class V2Subscription(SubscriptionCore):
    """The changes below ``key`` after ``after``, pushed to ``sink`` (see the module docstring
    and :class:`~etcdmap.v2.subscription_core.SubscriptionCore` for the parameters).
    """

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
            endpoint = resp.endpoint
            self._endpoint = endpoint
            self._token = self._liveness.use(endpoint, self._idle, self._member_failed)
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

    def _member_failed(self, endpoint: str, reason: str) -> None:
        """The shared check found the stream's member unhealthy: move to another member."""
        with self._lock:
            if endpoint != self._endpoint or self._state in ("closed", "paused"):
                return
            log.info("watch on %s: leaving %s (%s)", self._root or "/", endpoint, reason)
            self._restart(0.0)

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

    # ------------------------------------------------------------------ long polls

    def _poll(self, gen: int, purpose: str) -> None:
        """On a worker: one long poll from the next undelivered index on the stream's member
        (``backfill``, ``probe`` or ``nudge``), read by the hub."""
        with self._lock:
            endpoint = self._endpoint
            if gen != self._gen or endpoint is None:
                return
            params = self._cursor.poll_params(self._recursive)
            if purpose != "backfill":
                self.probes += 1
        try:
            resp = self._open(params, endpoint)
            poll_start = _wire.parse_index(resp.headers, resp.endpoint)
        except Exception as exc:  # a backfill failure reconnects; a probe's is inconclusive
            self._poll_failed(gen, purpose, exc)
            return
        answered: list[Response] = []
        headers = resp.headers
        box: list[HubStream] = []  # filled under the lock before any callback can take it

        def lines(got: list[bytes]) -> None:
            if not answered:
                try:
                    answered.append(_decode(headers, got[0], endpoint))
                except EtcdMapError as exc:
                    self._poll_failed(gen, purpose, exc)
                    return
                self._poll_event(gen, purpose, answered[0])

        def end(error: EtcdMapError | None) -> None:
            self._forget(box)
            if answered:
                return
            if error is not None:
                self._poll_failed(gen, purpose, error)
            else:
                self._poll_empty(gen, purpose)

        def silent() -> None:
            self._forget(box, close=True)
            since = time.monotonic()
            self._liveness.confirm(
                endpoint, since, lambda ok: self._poll_silent(gen, purpose, poll_start, ok))

        with self._lock:
            if gen != self._gen:
                resp.close()
                return
            box.append(self._hub.attach(resp, on_lines=lines, on_end=end,
                                        silence=self._poll_idle, on_silence=silent))
            self._polls.add(box[0])

    def _poll_failed(self, gen: int, purpose: str, exc: BaseException) -> None:
        if purpose == "backfill":
            self._fail(gen, exc)
            return
        with self._lock:
            if gen != self._gen:
                return
            self._checked()
            if isinstance(exc, HistoryLost):
                # History from the next index is gone: a live stream would have delivered
                # those events. Reconnecting backfills, which finds the loss and resyncs.
                self.dropped += 1
                self._restart(0.0)
                return
        log.debug("watch on %s: %s poll failed: %s", self._root or "/", purpose, exc)

    def _poll_empty(self, gen: int, purpose: str) -> None:
        """An empty 200: a backfill re-polls (backing off when it repeats)."""
        with self._lock:
            if gen != self._gen:
                return
            if purpose != "backfill":
                self._checked()
                return
            delay = self._cursor.empty()
        again: Callable[[], object] = lambda: self._hub.workers.submit(  # noqa: E731
            lambda: self._poll(gen, "backfill"))
        if delay:
            self._hub.call_later(delay, again)
        else:
            again()

    def _poll_event(self, gen: int, purpose: str, event: Response) -> None:
        """On the I/O thread: a poll answered with an event from history."""
        index = _event_index(event)
        with self._lock:
            if gen != self._gen:
                return
            if purpose != "backfill":
                # The stream may be delivering it right now: give it a moment.
                self._hub.call_later(PROBE_GRACE, lambda: self._probe_verdict(gen, index))
                return
            verdict = self._cursor.backfill_event(index)
            if verdict is Verdict.DELIVER:
                self._emit(event)
                self._emit_progress()
            self._backfill_next(gen)

    def _probe_verdict(self, gen: int, index: int) -> None:
        with self._lock:
            if gen != self._gen:
                return
            self._checked()
            if self._cursor.stream_missed(index):
                self.dropped += 1
                log.info("watch on %s: etcd dropped the stream from %s; reconnecting",
                         self._root or "/", self._endpoint)
                self._restart(0.0)

    def _poll_silent(self, gen: int, purpose: str, poll_start: int, alive: bool) -> None:
        """A poll stayed silent and its member's check (started after) answered ``alive``."""
        with self._lock:
            if gen != self._gen:
                return
            if not alive:
                self._restart(0.0)  # the shared check moves the other streams too
                return
            self._cursor.backfill_idle(poll_start)
            if purpose == "backfill":
                self._backfill_next(gen)
                return
            self._emit_progress()  # nothing up to poll_start concerns us
            self._checked()

    def _backfill_next(self, gen: int) -> None:
        """Poll again while events may be missing, else go live (lock held)."""
        if self._cursor.needs_backfill:
            if not self._behind(gen, lambda: self._submit_poll(gen, "backfill")):
                self._submit_poll(gen, "backfill")
        else:
            self._go_live(gen)
