"""The v2 change stream behind :meth:`etcdmap.v2.backend.V2Backend.changes`: a ``stream=true``
watch, backfilled by long polls, probed after bursts, failed over — no event lost or repeated.

How it follows etcd (etcd-io/etcd release-3.5: ``Documentation/v2/api.md`` "Waiting for a
change", ``server/etcdserver/api/v2store/watcher_hub.go``):

1. It opens a ``stream=true`` watch **without** ``waitIndex``. etcd registers it at once at
   its current index ``S`` (the ``X-Etcd-Index`` header) and from then on sends every event
   ``> S`` on the same connection, one JSON line each: one round trip for any number of
   events. (A stream started at a historical ``waitIndex`` delivers one event, then stalls.)
2. Meanwhile the events between what it delivered last and ``S`` are **backfilled** with
   ordinary long polls (``waitIndex``) from etcd's 1,000-event history, on the same member.
   etcd answers such a poll at once when its history has a matching event, so a poll that
   stays silent for a short window (while its member still answers a ``HEAD``) proves there
   is none; an event newer than ``S`` ends the backfill (the stream has it).
3. It then yields the stream's events, skipping any it already yielded. After
   ``idle_timeout`` seconds of silence it reconnects and backfills again: that is how it
   notices a stopped member, a stream etcd silently dropped (its 100-event buffer overflowed:
   ``watcher_hub.go`` closes a slow watcher) or a closed connection. An empty ``200`` just
   re-polls; other members are tried with the same index (the transport fails over). A
   dropped stream is noticed sooner after a busy period: when the stream goes quiet for
   ``probe_window`` right after events, a prober thread sends one long poll from the next
   undelivered index to the same member; an event found there means the stream is dead, so it
   is closed and the stream reconnects and backfills now. One poll per busy period.
4. When etcd no longer has the history (error 401/400) iteration raises
   :class:`~etcdmap.errors.HistoryLost`: the consumer re-reads and starts a new stream.

The index bookkeeping is the pure :class:`~etcdmap.v2.cursor.WatchCursor`.

Thread-safety: iterate from one thread; :meth:`V2ChangeStream.close` and
:meth:`~V2ChangeStream.nudge` from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from etcdmap._waiter import IndexWaiter
from etcdmap.backend import Progress
from etcdmap.errors import EtcdMapError, HistoryLost
from etcdmap.http.answers import StreamResponse
from etcdmap.models import Change
from etcdmap.v2 import wire as _wire
from etcdmap.v2.cursor import QuietProbe, Verdict, WatchCursor
from etcdmap.v2.models import Response

if TYPE_CHECKING:
    from etcdmap.http.transport import Transport

__all__ = ["V2ChangeStream"]

log = logging.getLogger("etcdmap.watch")

_PROBE_GRACE = 0.005
"""Seconds a live stream gets to deliver the event a probe found before it counts as dropped."""


class _Silence(Exception):
    """The connection stayed silent for the idle window (internal)."""


class V2ChangeStream:
    """The changes below ``key`` after ``after`` (see the module docstring).

    :param transport: the client's transport.
    :param key: the absolute key watched.
    :param after: yield changes with an index above this.
    :param recursive: every key below (``False``: the key itself only).
    :param idle_timeout: seconds of silence before reconnecting to check for missed events.
    :param on_error: called with each failure recovered from (then it backs off and retries).
    :param probe_window: quiet seconds after a burst before the prober checks the stream.
    """

    def __init__(
        self,
        transport: Transport,
        key: str,
        *,
        after: int,
        recursive: bool = True,
        idle_timeout: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
        probe_window: float = 0.02,
    ) -> None:
        self._transport = transport
        self._root = key
        self._path = _wire.key_path(key or "/")
        self._recursive = recursive
        self._idle = idle_timeout
        # etcd answers a poll that has an event in its history right after the headers, so a
        # much shorter silence than the stream's proves "no event" (if the member still runs).
        self._poll_idle = min(idle_timeout, 0.25)
        self._on_error = on_error
        self._cursor = WatchCursor(after)
        self._delivered = IndexWaiter(after)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._open: set[StreamResponse] = set()
        self._endpoint: str | None = None
        self._quiet = QuietProbe(min(probe_window, idle_timeout))
        self._quiet_lock = threading.Lock()
        self._wake = threading.Event()
        self._live: StreamResponse | None = None
        self._prober = threading.Thread(
            target=self._probe_loop, name=f"etcdmap-watch-probe {key or '/'}", daemon=True
        )
        self.probes = 0
        """How many probe polls the prober sent."""
        self.dropped = 0
        """How many times a probe found the stream dropped by etcd (then reconnected)."""

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the open stream (``None`` while reconnecting)."""
        return self._endpoint

    def close(self) -> None:
        """End the iteration and the prober; closes the open connections from this thread."""
        self._stopping.set()
        self._wake.set()
        self.nudge()
        if self._prober.is_alive() and threading.current_thread() is not self._prober:
            self._prober.join(2.0)

    def nudge(self) -> None:
        """Reconnect now instead of after the idle window."""
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            _close(conn)

    def __iter__(self) -> Iterator[Change | Progress]:
        if not self._prober.is_alive() and not self._stopping.is_set():
            self._prober.start()
        failures = 0
        while not self._stopping.is_set():
            try:
                yield from self._session()
                failures = 0
            except _Silence:
                failures = 0  # nothing for the idle window: reconnect and check
            except HistoryLost:
                raise
            except Exception as exc:  # any failure: report it, back off, reconnect, go on
                if self._stopping.is_set():
                    break
                failures += 1
                log.warning("watch on %s: %s; retrying", self._root or "/", exc)
                if self._on_error is not None:
                    self._on_error(exc)
                self._stopping.wait(min(2.0, 0.05 * 2 ** min(failures, 6)))

    # ------------------------------------------------------------------ connections

    def _connect(
        self, params: Sequence[tuple[str, str]], endpoint: str | None, read_timeout: float
    ) -> StreamResponse:
        conn = self._transport.stream(
            self._path, params, read_timeout=read_timeout, endpoint=endpoint
        )
        with self._lock:
            self._open.add(conn)
        if self._stopping.is_set():
            self._release(conn)
            raise _Silence
        return conn

    def _release(self, conn: StreamResponse) -> None:
        with self._lock:
            self._open.discard(conn)
        _close(conn)

    # ------------------------------------------------------------------ stream and backfill

    def _session(self) -> Iterator[Change | Progress]:
        stream = self._connect(self._cursor.stream_params(self._recursive), None, self._idle)
        try:
            if stream.status != 200:
                _raise_for(stream)
            start = _wire.parse_index(stream.headers, stream.endpoint)
            self._endpoint = stream.endpoint
            self._cursor.stream_opened(start)
            if self._cursor.needs_backfill:
                yield from self._backfill(stream.endpoint)
            yield self._progress()
            self._live = stream
            delivered = False
            for event in self._events(stream):
                delivered = True
                if self._cursor.stream_event(_event_index(event)):
                    yield from self._deliver(event)
                if self._stopping.is_set():
                    return
            if not delivered:
                # The server (or a proxy) ended the stream without an event: an empty 200.
                # Re-poll at once, backing off if it keeps happening.
                delay = self._cursor.empty()
                if delay:
                    self._stopping.wait(delay)
        finally:
            self._live = None
            with self._quiet_lock:
                self._quiet.reset()
            self._endpoint = None
            self._release(stream)

    def _backfill(self, endpoint: str) -> Iterator[Change | Progress]:
        cursor = self._cursor
        while cursor.needs_backfill and not self._stopping.is_set():
            poll = self._connect(cursor.poll_params(self._recursive), endpoint, self._idle)
            try:
                if poll.status != 200:
                    _raise_for(poll)
                poll_start = _wire.parse_index(poll.headers, poll.endpoint)
                poll.set_read_timeout(self._poll_idle)
                try:
                    event = next(self._events(poll), None)
                except _Silence:
                    if self._stopping.is_set():
                        return
                    # Silence proves "no event" only if the member kept running: a member
                    # stopped right after the headers would also be silent.
                    self._check_alive(endpoint)
                    cursor.backfill_idle(poll_start)
                    continue
                _drain(poll)
                if event is None:
                    delay = cursor.empty()
                    if delay:
                        self._stopping.wait(delay)
                    continue
                if cursor.backfill_event(_event_index(event)) is Verdict.DELIVER:
                    yield from self._deliver(event)
            finally:
                self._release(poll)

    def _check_alive(self, endpoint: str) -> None:
        """One HEAD to ``endpoint``; any answer proves the member runs (raises otherwise)."""
        self._transport.request("HEAD", self._path, endpoint=endpoint, timeout=self._idle,
                                request_timeout=self._idle)

    def _events(self, conn: StreamResponse) -> Iterator[Response]:
        """Parse the JSON lines of a poll or stream; silence raises :class:`_Silence`."""
        lines = conn.iter_lines()
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except Exception as exc:
                if self._stopping.is_set() or _is_timeout(exc):
                    raise _Silence from exc
                raise
            if line.strip():
                yield _wire.decode_response(200, conn.headers, line, conn.endpoint)

    def _deliver(self, event: Response) -> Iterator[Change | Progress]:
        if event.node is not None:
            yield Change(event.action, event.node, event.prev_node, event.node.modified_index)
        yield self._progress()
        with self._quiet_lock:  # events are arriving: after a quiet window, probe the stream
            self._quiet.event(time.monotonic())
        if not self._wake.is_set():
            self._wake.set()

    def _progress(self) -> Progress:
        index = self._cursor.last_index
        self._delivered.advance(index)
        return Progress(index)

    # ------------------------------------------------------------------ the prober

    def _probe_loop(self) -> None:
        """The prober thread: sleeps while idle; probes the stream once per busy period."""
        while True:
            self._wake.wait()
            if self._stopping.is_set():
                return
            self._wake.clear()
            with self._quiet_lock:
                delay = self._quiet.due(time.monotonic())
            while delay:  # busy: wait until the stream has been quiet for the window
                if self._stopping.wait(delay):
                    return
                with self._quiet_lock:
                    delay = self._quiet.due(time.monotonic())
            stream = self._live
            if delay is None or stream is None:
                continue  # idle, or between streams (the reconnect backfills anyway)
            try:
                dropped = self._probe(stream)
            except Exception as exc:  # inconclusive: the idle timeout still covers it
                if self._stopping.is_set():
                    return
                log.debug("watch on %s: probe failed: %s", self._root or "/", exc)
                continue
            if dropped and not self._stopping.is_set():
                self.dropped += 1
                log.info("watch on %s: etcd dropped the stream from %s; reconnecting",
                         self._root or "/", stream.endpoint)
                _close(stream)  # the iterating thread's read ends: it reconnects and backfills

    def _probe(self, stream: StreamResponse) -> bool:
        """One long poll from the next undelivered index to the stream's member.

        :returns: whether the stream missed an event (etcd dropped it).
        """
        cursor = self._cursor
        self.probes += 1
        poll = self._connect(cursor.poll_params(self._recursive), stream.endpoint,
                             self._poll_idle)
        try:
            if poll.status != 200:
                try:
                    _raise_for(poll)
                except EtcdMapError as exc:
                    # History from next_index is gone: a live stream would have delivered
                    # those events; reconnecting resyncs.
                    return isinstance(exc, HistoryLost)
            poll.set_read_timeout(self._poll_idle)
            try:
                event = next(self._events(poll), None)
            except _Silence:
                return False  # no event in history: the stream missed nothing
            _drain(poll)
        finally:
            self._release(poll)
        if event is None:
            return False  # an empty 200: inconclusive
        index = _event_index(event)
        # The stream may be delivering it right now (it was written as the probe went out):
        # give it a moment before calling it dropped (a wrong call only costs a reconnect).
        self._delivered.wait_for(index, _PROBE_GRACE)
        return cursor.stream_missed(index) and not self._stopping.is_set()


def _event_index(event: Response) -> int:
    return event.node.modified_index if event.node is not None else 0


def _raise_for(conn: StreamResponse) -> None:
    """Read an error answer's body and raise what it says (a lost history: HistoryLost)."""
    body = conn.read()
    _wire.decode_response(conn.status, conn.headers, body, conn.endpoint)
    raise EtcdMapError(f"{conn.endpoint} answered HTTP {conn.status} to a watch")


def _is_timeout(exc: BaseException) -> bool:
    # StreamResponse reports "nothing arrived for read_timeout" as DeadlineExceeded.
    return isinstance(exc, TimeoutError) or isinstance(exc.__cause__, TimeoutError)


def _drain(poll: StreamResponse) -> None:
    """Read the end of a one-event poll's body (etcd ends it right after the event), so that
    its connection goes back to the pool: a backfill then costs one round trip per event."""
    try:
        poll.read()
    except EtcdMapError:  # best effort: releasing the poll closes a connection left unread
        log.debug("reading the end of a watch poll failed", exc_info=True)


def _close(conn: StreamResponse) -> None:
    try:
        conn.close()
    except Exception:  # closing a half-dead connection from another thread may fail
        log.debug("closing a watch connection failed", exc_info=True)
