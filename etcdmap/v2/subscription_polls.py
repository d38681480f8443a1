"""The long polls of a v2 hub subscription (:mod:`etcdmap.v2.subscription`): the v2 state of
a subscription, and the polls that backfill its stream from etcd's history, probe it after a
burst and answer a nudge.

A poll from the next undelivered index is read by the hub's I/O thread like the stream: an
event is delivered (backfill) or compared with what the stream delivered (probe, nudge); a
poll that stays silent for the poll window proves "nothing in history" once the member's
shared liveness check, started after the window, passed
(:meth:`etcdmap.http.liveness.Liveness.confirm`).

Thread-safety: as :class:`~etcdmap.http.watch_lifecycle.WatchLifecycle`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from etcdmap._waiter import IndexWaiter
from etcdmap.errors import EtcdMapError, HistoryLost
from etcdmap.http.hub import HubStream, Timer
from etcdmap.http.watch_lifecycle import WatchLifecycle, open_avoiding
from etcdmap.models import Change
from etcdmap.v2 import wire as _wire
from etcdmap.v2.cursor import QuietProbe, Verdict, WatchCursor
from etcdmap.v2.models import Response

if TYPE_CHECKING:
    from etcdmap.backend import ChangeSink
    from etcdmap.http.answers import StreamResponse
    from etcdmap.http.hub import StreamHub
    from etcdmap.http.liveness import Liveness
    from etcdmap.http.transport import Transport

__all__ = ["BACKLOG", "PROBE_GRACE", "V2Polls", "decode", "event_index"]

log = logging.getLogger("etcdmap.watch")

BACKLOG = 16
"""Changes waiting on the dispatcher lane above which the stream is not read (backpressure)."""
PROBE_GRACE = 0.005
"""Seconds a live stream gets to deliver the event a probe found before it counts as dropped."""


class V2Polls(WatchLifecycle):
    """The v2 state of a hub subscription and its long polls (see the module docstring).

    :param transport: the client's transport.
    :param hub: the client's watch hub; ``liveness``: its member checks.
    :param key: the absolute key watched.
    :param sink: receives the changes on a dispatcher lane.
    :param after: deliver changes with an index above this.
    :param recursive: every key below (``False``: the key itself only).
    :param idle_timeout: how often the member of the stream is checked.
    :param probe_window: quiet seconds after a burst before the stream is probed.
    """

    def __init__(
        self, transport: Transport, hub: StreamHub, liveness: Liveness, key: str,
        sink: ChangeSink, *, after: int, recursive: bool = True, idle_timeout: float = 1.0,
        probe_window: float = 0.02,
    ) -> None:
        super().__init__(hub, liveness, key, sink, idle_timeout=idle_timeout)
        self._transport = transport
        self._path = _wire.key_path(key or "/")
        self._recursive = recursive
        self._poll_idle = min(idle_timeout, 0.25)
        self._cursor = WatchCursor(after)
        self._delivered = IndexWaiter(after)
        self._quiet = QuietProbe(min(probe_window, idle_timeout))
        self._stream: HubStream | None = None
        self._polls: set[HubStream] = set()
        self._pending: list[Response] = []
        self._probe_timer: Timer | None = None
        self._checking = False
        self._nudged = False

    # ------------------------------------------------------------------ nudge and helpers

    def nudge(self) -> None:
        """Probe the live stream now: a missed event reconnects it; silence proves it current."""
        with self._lock:
            if self._state in ("closed", "paused"):
                return
            if self._state != "live" or self._checking:
                self._nudged = True  # once live / once the poll that is out is done
                return
            self._checking = True
            gen = self._gen
        self._hub.workers.submit(lambda: self._poll(gen, "nudge"))

    def _checked(self) -> None:
        """A probe or nudge poll is done (lock held): send a nudge asked for meanwhile."""
        self._checking = False
        if self._nudged and self._state == "live":
            self._nudged = False
            self._checking = True
            gen = self._gen
            self._hub.workers.submit(lambda: self._poll(gen, "nudge"))

    def _left(self) -> None:
        """Close the stream and polls of the generation that ends (lock held)."""
        for handle in [self._stream, *self._polls]:
            if handle is not None:
                handle.close()
        self._stream = None
        self._polls.clear()
        self._pending = []
        self._checking = False  # a pending nudge is kept: sent once live again
        self._quiet.reset()
        if self._probe_timer is not None:
            self._probe_timer.cancel()
            self._probe_timer = None

    def _resynced(self, after: int) -> None:
        self._cursor.resynced(after)
        self._delivered.advance(after)

    def _open(self, params: list[tuple[str, str]], endpoint: str | None) -> StreamResponse:
        """Open a stream (``endpoint`` None: after the member it left, if it broke) or a
        poll (on ``endpoint``) and read its head; :raises: its error (HistoryLost...)."""
        if endpoint is None:
            resp = open_avoiding(self._transport.endpoints, self._avoid, lambda ep: (
                self._transport.stream(self._path, params, read_timeout=self._idle, endpoint=ep)))
        else:
            resp = self._transport.stream(self._path, params, read_timeout=self._idle,
                                          endpoint=endpoint)
        if resp.status != 200:
            try:
                body = resp.read()
            finally:
                resp.close()
            _wire.decode_response(resp.status, resp.headers, body, resp.endpoint)
            raise EtcdMapError(f"{resp.endpoint} answered HTTP {resp.status} to a watch")
        return resp

    def _busy(self, gen: int) -> None:
        """Events came: after the quiet window, probe the stream (lock held)."""
        self._quiet.event(time.monotonic())
        if self._probe_timer is None:
            self._probe_timer = self._hub.call_later(self._quiet.window,
                                                     lambda: self._quiet_due(gen))

    def _behind(self, gen: int, step: Callable[[], object]) -> bool:
        """If the sink is far behind, run ``step`` once it caught up (lock held).

        :returns: whether ``step`` was deferred (backfills and probes wait: they would
            only queue more).
        """
        if self._lane.pending <= BACKLOG:
            return False

        def later() -> None:
            if gen == self._gen:
                step()

        self._lane.submit(later)
        return True

    def _emit(self, event: Response) -> None:
        node = event.node
        if node is not None:
            self._change(Change(event.action, node, event.prev_node, node.modified_index))

    def _emit_progress(self) -> None:
        index = self._cursor.last_index
        self._delivered.advance(index)
        self._progress(index)

    def _submit_poll(self, gen: int, purpose: str) -> None:
        self._hub.workers.submit(lambda: self._poll(gen, purpose))

    def _forget(self, box: list[HubStream], *, close: bool = False) -> None:
        with self._lock:
            handle = box[0]
            self._polls.discard(handle)
        if close:
            handle.close()

    def _go_live(self, gen: int) -> None:
        """The backfill is complete (lock held): see :class:`~etcdmap.v2.subscription.V2Subscription`."""
        raise NotImplementedError

    def _quiet_due(self, gen: int) -> None:
        """On the I/O thread: the probe window after a burst (see ``V2Subscription``)."""
        raise NotImplementedError

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
        settled = threading.Lock()  # the first of answer, end and proven silence decides
        decided: list[str] = []

        def decide(how: str) -> bool:
            with settled:
                if decided:
                    return False
                decided.append(how)
                return True

        def lines(got: list[bytes]) -> None:
            if not decide("answered"):
                return
            try:
                answered.append(decode(headers, got[0], endpoint))
            except EtcdMapError as exc:
                self._poll_failed(gen, purpose, exc)
                return
            self._poll_event(gen, purpose, answered[0])

        def end(error: EtcdMapError | None) -> None:
            self._forget(box)
            if not decide("ended"):
                return
            if error is not None:
                self._poll_failed(gen, purpose, error)
            else:
                self._poll_empty(gen, purpose)

        def silent() -> None:
            # The poll stays open while its member is checked: an answer that was on its way
            # (a busy client reads late) still counts; only a poll silent until a check that
            # started after the window passed proves "nothing in history".
            since = time.monotonic()

            def confirmed(alive: bool) -> None:
                if decide("silent"):
                    self._forget(box, close=True)
                    self._poll_silent(gen, purpose, poll_start, alive)

            self._liveness.confirm(endpoint, since, confirmed)

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
        log.debug("watch on %s: %s poll failed: %s", self._label, purpose, exc)

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
        index = event_index(event)
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
                         self._label, self._endpoint)
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


def decode(headers: object, line: bytes, endpoint: str | None) -> Response:
    """One line of a v2 stream or poll as a response."""
    return _wire.decode_response(200, headers, line, endpoint or "")  # type: ignore[arg-type]


def event_index(event: Response) -> int:
    """The index of a v2 event (its node's modified index)."""
    return event.node.modified_index if event.node is not None else 0
