"""A resilient, fast watch on an etcd directory: a pure cursor plus the watch thread.

How a :class:`Watch` follows etcd (spec §1.8, §4.8, §6 rows 7-12):

1. It opens a ``stream=true`` watch **without** ``waitIndex``. etcd registers it at once at
   its current index ``S`` (the ``X-Etcd-Index`` header) and from then on sends every event
   ``> S`` on the same connection, one JSON line each: one round trip for any number of
   events, so the watch keeps up with thousands of writes per second. (A stream started at a
   historical ``waitIndex`` would deliver one event and then stall forever: §1.8.)
2. Meanwhile the events between what it delivered last and ``S`` are **backfilled** with
   ordinary long polls (``waitIndex``) from etcd's 1,000-event history, on the same member,
   one round trip per event. etcd answers such a poll at once when its history has a
   matching event, so a poll that stays silent for a short window (while its member still
   answers a ``HEAD``) proves there is none; an event newer than ``S`` ends the backfill (the
   stream has it).
3. It then delivers the stream's events, skipping any it already delivered. After
   ``idle_timeout`` seconds of silence it reconnects and backfills again: that is how it
   notices a member that stopped answering (SIGSTOP), a stream etcd silently dropped
   because its 100-event buffer overflowed (§1.8, §6 #8), or a closed connection, without
   losing events. An empty ``200`` just re-polls (§6 #8); other members are tried with the
   same index (the transport fails over). A dropped stream is noticed sooner after a busy
   period: when the stream goes quiet for ``probe_window`` right after events were arriving,
   a small prober thread sends one long poll from the next undelivered index to the same
   member. etcd answers it at once if its history holds an event the stream should have
   delivered: the stream is dead, so it is closed and the watch reconnects and backfills now
   (the backfill delivers that event, once, in order). A probe silent for the short poll
   window means the stream is fine. One poll per busy period, none while idle.
4. When etcd no longer has the history (``EventIndexCleared``, error 401: more than 1,000
   events passed) it re-reads the subtree (one recursive quorum GET), sends the differences
   against the last known state as ordinary signals and then ``resynced``, and goes on from
   the GET's ``X-Etcd-Index + 1``. Subscribers are never silently behind.

The index bookkeeping is the pure :class:`WatchCursor`, unit-tested without a server.
Give the client a ``request_timeout`` (e.g. 1-2 s) so that the watch's reads (the re-read
after lost history) also skip a hung member quickly; the watch's own connections are
bounded by ``idle_timeout``.

Signals are sent from the watch's own daemon thread, in index order; see
:mod:`etcdmap.signals` for the payload and for receiver exceptions (logged on
``etcdmap.watch``, sent as ``watch_error``; the watch goes on).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from etcdmap import _wire
from etcdmap._cursor import QuietProbe, Verdict, WatchCursor
from etcdmap._tree import IndexWaiter, Tree
from etcdmap.errors import (
    EtcdError,
    EtcdMapError,
    KeyNotFound,
)
from etcdmap.models import Response
from etcdmap.signals import emit, emit_resynced, report_error
from etcdmap.transport import StreamResponse, Transport

if TYPE_CHECKING:
    from etcdmap.client import Client

__all__ = ["Verdict", "Watch", "WatchCursor", "current_index"]

log = logging.getLogger("etcdmap.watch")


_PROBE_GRACE = 0.005
"""Seconds a live stream gets to deliver the event a probe found before it counts as dropped."""


class _Silence(Exception):
    """The connection stayed silent for the idle window (internal)."""


class Watch:
    """A watch thread on a directory: applies every change to a :class:`~etcdmap._tree.Tree`
    (the last known state) and sends the :mod:`etcdmap.signals` with ``sender``.

    Get one from :meth:`etcdmap.mapping.EtcdMap.watch` (or a mirror). Use it as a context
    manager, or call :meth:`stop`; the thread is a daemon thread.

    :param client: the :class:`~etcdmap.client.Client` (its transport and keys API).
    :param tree: the last known state of the subtree (loaded by the caller).
    :param sender: the object the signals are sent with (the map or the mirror).
    :param after_index: the watch delivers events from ``after_index + 1`` on.
    :param recursive: include every key below the directory (``False``: the directory only).
    :param idle_timeout: seconds of silence after which the watch reconnects and checks for
        missed events (also bounds how long a stopped member goes unnoticed).
    :param on_index: called from the watch thread with the index the state is current to.
    :param probe_window: seconds of silence right after delivered events before the prober
        checks that etcd has not dropped the stream (capped at ``idle_timeout``).

    Thread-safety: :meth:`stop`, :meth:`join` and the properties may be called from any thread.
    A watch runs two daemon threads: the watch thread (reads, delivers, sends the signals) and
    a prober that only sends probe polls and closes a stream etcd dropped; the cursor is
    written by the watch thread only.
    """

    def __init__(
        self,
        client: Client,
        tree: Tree,
        sender: object,
        *,
        after_index: int,
        recursive: bool = True,
        idle_timeout: float = 1.0,
        on_index: Callable[[int], None] | None = None,
        probe_window: float = 0.02,
    ) -> None:
        self._client = client
        self._transport: Transport = client.transport
        self._tree = tree
        self._sender = sender
        self._recursive = recursive
        self._idle = idle_timeout
        # etcd answers a poll that has an event in its history right after the headers (a
        # few microseconds later), so a much shorter silence than the stream's proves "no
        # event" (provided the member still answers: see _check_alive).
        self._poll_idle = min(idle_timeout, 0.25)
        self._on_index = on_index
        self._cursor = WatchCursor(after_index)
        self._path = _wire.key_path(tree.root or "/")
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._open: set[StreamResponse] = set()
        self._thread = threading.Thread(
            target=self._run, name=f"etcdmap-watch {tree.root or '/'}", daemon=True
        )
        self._endpoint: str | None = None
        self._waiter = IndexWaiter(after_index)
        self.resyncs = 0
        """How many times the watch re-read the subtree after losing history."""
        # The prober (see the module docstring): _quiet decides when, under _quiet_lock;
        # _wake ends its idle wait; _live is the stream it may close.
        self._quiet = QuietProbe(min(probe_window, idle_timeout))
        self._quiet_lock = threading.Lock()
        self._wake = threading.Event()
        self._live: StreamResponse | None = None
        self._prober = threading.Thread(
            target=self._probe_loop, name=f"etcdmap-watch-probe {tree.root or '/'}", daemon=True
        )
        self.probes = 0
        """How many probe polls the prober sent."""
        self.dropped = 0
        """How many times a probe found the stream dropped by etcd (then reconnected)."""

    # ------------------------------------------------------------------ public

    def start(self) -> Watch:
        """Start the watch thread and its prober (once). :returns: ``self``."""
        self._thread.start()
        self._prober.start()
        return self

    @property
    def index(self) -> int:
        """Every event up to this index has been delivered."""
        return self._cursor.last_index

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the open stream (``None`` while reconnecting)."""
        return self._endpoint

    @property
    def running(self) -> bool:
        """Whether the watch thread is alive."""
        return self._thread.is_alive()

    def stop(self, timeout: float | None = 2.0) -> None:
        """Stop the watch: close its connections from this thread and wait for the thread.

        Returns promptly (well under a second on a healthy machine). Safe to call twice and
        from a receiver (it then does not wait for itself).

        :param timeout: seconds to wait for the thread (``None``: no limit).
        """
        self._stopping.set()
        self._wake.set()
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            _close(conn)
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in (self._thread, self._prober):
            if thread.is_alive() and threading.current_thread() is not thread:
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def wait_for(self, index: int | None = None, timeout: float | None = 5.0) -> bool:
        """Wait until every event up to ``index`` has been delivered to the receivers.

        :param index: an etcd index, e.g. ``m.index`` after a write; ``None``: the cluster's
            current index (one quorum read first).
        :param timeout: seconds at most (``None``: no limit).
        :returns: whether the watch got there in time.
        :raises EtcdMapError: reading the current index failed (``index=None`` only).
        """
        if index is None:
            index = current_index(self._client, self._tree.root or "/")
        return self._waiter.wait_for(index, timeout, self.nudge)

    def nudge(self) -> None:
        """Reconnect now instead of after the idle window (used by ``Mirror.wait_for``)."""
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            _close(conn)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the watch thread to end (after :meth:`stop`)."""
        self._thread.join(timeout)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Watch {self._tree.root or '/'} {state} index={self.index}>"

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                self._session()
                failures = 0
            except _Silence:
                failures = 0  # nothing for the idle window: reconnect and check
            except Exception as exc:  # any failure: report it, back off, reconnect, go on
                if self._stopping.is_set():
                    break
                failures += 1
                log.warning("watch on %s: %s; retrying", self._tree.root or "/", exc)
                report_error(self._sender, exc)
                self._stopping.wait(min(2.0, 0.05 * 2 ** min(failures, 6)))

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

    def _session(self) -> None:
        stream = self._connect(self._cursor.stream_params(self._recursive), None, self._idle)
        try:
            if stream.status != 200:
                _raise_for(stream)
            start = _wire.parse_index(stream.headers, stream.endpoint)
            self._endpoint = stream.endpoint
            self._cursor.stream_opened(start)
            if self._cursor.needs_backfill:
                self._backfill(stream.endpoint)
            self._report_index()
            self._live = stream
            delivered = False
            for event in self._events(stream):
                delivered = True
                if self._cursor.stream_event(_event_index(event)):
                    self._deliver(event)
                if self._stopping.is_set():
                    return
            if not delivered:
                # The server (or a proxy) ended the stream without an event: an empty 200
                # (spec §1.8). Re-poll at once, backing off if it keeps happening.
                delay = self._cursor.empty()
                if delay:
                    self._stopping.wait(delay)
        finally:
            self._live = None
            with self._quiet_lock:
                self._quiet.reset()
            self._endpoint = None
            self._release(stream)

    def _backfill(self, endpoint: str) -> None:
        cursor = self._cursor
        while cursor.needs_backfill and not self._stopping.is_set():
            poll = self._connect(cursor.poll_params(self._recursive), endpoint, self._idle)
            try:
                if poll.status != 200:
                    try:
                        _raise_for(poll)
                    except EtcdMapError as exc:
                        if not cursor.needs_resync(exc):
                            raise
                        self._resync(f"history cleared: {exc}")
                    continue
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
                    self._deliver(event)
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

    def _deliver(self, event: Response) -> None:
        change = self._tree.apply(event)
        if change is not None:
            emit(self._sender, change)
        self._report_index()
        self._busy()

    def _busy(self) -> None:
        """Events are arriving: after a quiet window the prober checks the stream."""
        with self._quiet_lock:
            self._quiet.event(time.monotonic())
        if not self._wake.is_set():
            self._wake.set()

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
                log.debug("watch on %s: probe failed: %s", self._tree.root or "/", exc)
                continue
            if dropped and not self._stopping.is_set():
                self.dropped += 1
                log.info("watch on %s: etcd dropped the stream from %s; reconnecting",
                         self._tree.root or "/", stream.endpoint)
                _close(stream)  # the watch thread's read ends: it reconnects and backfills

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
                    return cursor.needs_resync(exc)
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
        self._waiter.wait_for(index, _PROBE_GRACE)
        return cursor.stream_missed(index) and not self._stopping.is_set()

    def _report_index(self) -> None:
        index = self._cursor.last_index
        self._waiter.advance(index)
        if self._on_index is not None:
            self._on_index(index)

    def _resync(self, reason: str) -> None:
        root = self._tree.root or "/"
        try:
            got = self._client.keys.get(root, recursive=True, quorum=True)
            node, index = got.node, got.index
        except KeyNotFound as exc:
            node, index = None, exc.index
        changes = self._tree.resync(node, index)
        if not self._recursive:  # a non-recursive watch reports its directory only
            changes = [c for c in changes if c.key == ""]
        for change in changes:
            emit(self._sender, change)
        self._cursor.resynced(index)
        self.resyncs += 1
        removed = sum(1 for c in changes if c.removed)
        updated = sum(1 for c in changes if not c.removed and c.had_prev)
        log.info("watch on %s resynced at %d (%s)", root, index, reason)
        emit_resynced(self._sender, index=index, created=len(changes) - removed - updated,
                      updated=updated, deleted=removed, reason=reason)
        self._report_index()
        self._busy()  # so much happened that history overflowed: the new stream may be dropped


def _event_index(event: Response) -> int:
    return event.node.modified_index if event.node is not None else 0


def _raise_for(conn: StreamResponse) -> None:
    """Read an error answer's body and raise what it says."""
    body = conn.read()
    _wire.decode_response(conn.status, conn.headers, body, conn.endpoint)
    raise EtcdMapError(f"{conn.endpoint} answered HTTP {conn.status} to a watch")


def _is_timeout(exc: BaseException) -> bool:
    # StreamResponse reports "nothing arrived for read_timeout" as DeadlineExceeded.
    return isinstance(exc, TimeoutError) or isinstance(exc.__cause__, TimeoutError)


def _drain(poll: StreamResponse) -> None:
    """Read the end of a one-event poll's body (etcd ends it right after the event), so
    that its connection goes back to the pool instead of being closed: a backfill then costs
    one round trip per event, not a new connection per event."""
    try:
        poll.read()
    except EtcdMapError:  # best effort: releasing the poll closes a connection left unread
        log.debug("reading the end of a watch poll failed", exc_info=True)


def _close(conn: StreamResponse) -> None:
    try:
        conn.close()
    except Exception:  # closing a half-dead connection from another thread may fail
        log.debug("closing a watch connection failed", exc_info=True)


# ---------------------------------------------------------------------- EtcdMap entry points


def current_index(client: Any, where: Any) -> int:
    """The cluster's current index, from one quorum (linearizable) read.

    :param client: the client; ``None`` to take ``where.client``.
    :param where: an absolute key, or a map (its ``path``), to read.
    :returns: the ``X-Etcd-Index`` of the read (or of its "key not found" answer).
    :raises EtcdMapError: the read failed.
    """
    if client is None:
        client = where.client
    key = where if isinstance(where, str) else where.path
    # Read a (hidden, normally absent) key below it rather than the directory itself, so a
    # big directory is not listed just to learn the index; etcd's error carries the index.
    probe = f"{key.rstrip('/')}/_etcdmap_index_probe"
    try:
        return int(client.keys.get(probe, quorum=True).index)
    except EtcdError as exc:  # 100 key not found (or 104 if ``key`` is a file)
        return exc.index
