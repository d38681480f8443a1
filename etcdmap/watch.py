"""A resilient, fast watch on an etcd directory: a pure cursor plus the watch thread.

How a :class:`Watch` follows etcd (spec §1.8, §4.8, §6 rows 7-12):

1. It opens a ``stream=true`` watch **without** ``waitIndex``. etcd registers it at once at
   its current index ``S`` (the ``X-Etcd-Index`` header) and from then on sends every event
   ``> S`` on the same connection, one JSON line each: one round trip for any number of
   events, so the watch keeps up with thousands of writes per second. (A stream started at a
   historical ``waitIndex`` would deliver one event and then stall forever: §1.8.)
2. Meanwhile the events between what it delivered last and ``S`` are **backfilled** with
   ordinary long polls (``waitIndex``) from etcd's 1,000-event history, on the same member,
   one round trip per event. A long poll that answers nothing within the idle window proves
   there is no such event; an event newer than ``S`` ends the backfill (the stream has it).
3. It then delivers the stream's events, skipping any it already delivered. After
   ``idle_timeout`` seconds of silence it reconnects and backfills again: that is how it
   notices a member that stopped answering (SIGSTOP), a stream etcd silently dropped
   because its 100-event buffer overflowed (§1.8, §6 #8), or a closed connection, without
   losing events. An empty ``200`` just re-polls (§6 #8); other members are tried with the
   same index (the transport fails over).
4. When etcd no longer has the history (``EventIndexCleared``, error 401: more than 1,000
   events passed) it re-reads the subtree (one recursive quorum GET), sends the differences
   against the last known state as ordinary signals and then ``resynced``, and goes on from
   the GET's ``X-Etcd-Index + 1``. Subscribers are never silently behind.

The index bookkeeping is the pure :class:`WatchCursor`, unit-tested without a server.

Signals are sent from the watch's own daemon thread, in index order; see
:mod:`etcdmap.signals` for the payload and for receiver exceptions (logged on
``etcdmap.watch``, sent as ``watch_error``; the watch goes on).
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from etcdmap import _wire
from etcdmap._tree import IndexWaiter, Tree
from etcdmap.codecs import StrCodec
from etcdmap.errors import EtcdMapError, EventIndexCleared, KeyNotFound, WatcherCleared
from etcdmap.models import Response
from etcdmap.signals import emit, emit_resynced, report_error

__all__ = ["Verdict", "Watch", "WatchCursor", "current_index", "load_tree", "watch_map"]

log = logging.getLogger("etcdmap.watch")


class Verdict(enum.Enum):
    """What to do with an event a backfill poll returned."""

    DELIVER = "deliver"
    """A new event: deliver it."""
    SKIP = "skip"
    """Already delivered (an older index): drop it."""
    DONE = "done"
    """Newer than the stream's start: the stream delivers it; the backfill is complete."""


class WatchCursor:
    """The pure index bookkeeping of a watch (no I/O; not thread-safe: one watch thread).

    :param after_index: every event up to this index is already known; the watch delivers
        events from ``after_index + 1`` on.

    :ivar next_index: the first index not delivered yet.
    :ivar stream_start: the ``X-Etcd-Index`` of the open stream: it delivers events above it.
    :ivar empty_polls: consecutive empty answers (used for the re-poll backoff).
    """

    __slots__ = ("empty_polls", "next_index", "stream_start")

    def __init__(self, after_index: int) -> None:
        if after_index < 0:
            raise ValueError(f"after_index must be >= 0, got {after_index}")
        self.next_index = after_index + 1
        self.stream_start = after_index
        self.empty_polls = 0

    @property
    def last_index(self) -> int:
        """Every event up to this index has been delivered (or proven not to concern us)."""
        return self.next_index - 1

    @staticmethod
    def stream_params(recursive: bool) -> list[tuple[str, str]]:
        """Query of the live stream: no ``waitIndex``, so etcd registers it at once."""
        base = [("recursive", "true")] if recursive else []
        return [*base, ("stream", "true"), ("wait", "true")]

    def poll_params(self, recursive: bool) -> list[tuple[str, str]]:
        """Query of a backfill long poll from :attr:`next_index`."""
        base = [("recursive", "true")] if recursive else []
        return [*base, ("wait", "true"), ("waitIndex", str(self.next_index))]

    def stream_opened(self, start: int) -> None:
        """A stream is registered at store index ``start`` (its ``X-Etcd-Index``)."""
        self.stream_start = start
        self.empty_polls = 0

    @property
    def needs_backfill(self) -> bool:
        """Whether events between :attr:`next_index` and :attr:`stream_start` may be missing."""
        return self.next_index <= self.stream_start

    def backfill_event(self, index: int) -> Verdict:
        """A backfill poll returned the event at ``index`` (its ``modifiedIndex``)."""
        self.empty_polls = 0
        if index > self.stream_start:
            # The first event >= next_index is newer than the stream's start: nothing in
            # [next_index, stream_start] concerns us and the stream delivers this one.
            self.next_index = max(self.next_index, self.stream_start + 1)
            return Verdict.DONE
        if index < self.next_index:
            return Verdict.SKIP
        self.next_index = index + 1
        return Verdict.DELIVER

    def backfill_idle(self, poll_start: int) -> None:
        """A poll registered at ``poll_start`` stayed silent for the idle window.

        etcd answers a poll whose range has a matching event in its history at once, so
        silence proves no event in ``[next_index, poll_start]`` concerns us.
        """
        self.empty_polls = 0
        self.next_index = max(self.next_index, poll_start + 1)

    def empty(self) -> float:
        """An empty ``200`` (the server ended the poll early): re-poll from the same index.

        :returns: seconds to wait first: 0 for the first three in a row, then a capped backoff.
        """
        self.empty_polls += 1
        if self.empty_polls <= 3:
            return 0.0
        return float(min(1.0, 0.05 * 2.0 ** (self.empty_polls - 4)))

    def stream_event(self, index: int) -> bool:
        """The stream delivered the event at ``index``; ``False`` if it was delivered already."""
        if index < self.next_index:
            return False
        self.next_index = index + 1
        return True

    def resynced(self, index: int) -> None:
        """The subtree was re-read at ``index``: go on from ``index + 1``."""
        self.empty_polls = 0
        self.next_index = max(self.next_index, index + 1)

    @staticmethod
    def needs_resync(error: BaseException) -> bool:
        """Whether ``error`` means the history is gone (401 EventIndexCleared, 400 cleared)."""
        return isinstance(error, (EventIndexCleared, WatcherCleared))


class _Stream(Protocol):
    status: int
    headers: Mapping[str, str]
    endpoint: str

    def iter_lines(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class _StreamingTransport(Protocol):
    def stream(
        self,
        path: str,
        params: Sequence[tuple[str, str]],
        *,
        read_timeout: float | None,
        endpoint: str | None = None,
    ) -> Any: ...


class _Silence(Exception):
    """The connection stayed silent for the idle window (internal)."""


class Watch:
    """A watch thread on a directory: applies every change to a :class:`~etcdmap.mirror.Tree`
    and sends the :mod:`etcdmap.signals` with ``sender``.

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

    Thread-safety: :meth:`stop`, :meth:`join` and the properties may be called from any thread.
    """

    def __init__(
        self,
        client: Any,
        tree: Tree,
        sender: object,
        *,
        after_index: int,
        recursive: bool = True,
        idle_timeout: float = 1.0,
        on_index: Callable[[int], None] | None = None,
    ) -> None:
        self._client = client
        self._transport: _StreamingTransport = client.transport
        self._tree = tree
        self._sender = sender
        self._recursive = recursive
        self._idle = idle_timeout
        # etcd answers a poll that has an event in its history right after the headers (a
        # few microseconds), so a much shorter silence than the stream's proves "no event".
        self._poll_idle = min(idle_timeout, 0.25)
        self._on_index = on_index
        self._cursor = WatchCursor(after_index)
        self._path = _wire.key_path(tree.root or "/")
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._open: set[Any] = set()
        self._thread = threading.Thread(
            target=self._run, name=f"etcdmap-watch {tree.root or '/'}", daemon=True
        )
        self._endpoint: str | None = None
        self._waiter = IndexWaiter(after_index)
        self.resyncs = 0
        """How many times the watch re-read the subtree after losing history."""

    # ------------------------------------------------------------------ public

    def start(self) -> Watch:
        """Start the watch thread (once). :returns: ``self``."""
        self._thread.start()
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
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            _close(conn)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

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
    ) -> Any:
        conn = self._transport.stream(
            self._path, params, read_timeout=read_timeout, endpoint=endpoint
        )
        with self._lock:
            self._open.add(conn)
        if self._stopping.is_set():
            self._release(conn)
            raise _Silence
        return conn

    def _release(self, conn: Any) -> None:
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
            for event in self._events(stream):
                if self._cursor.stream_event(_event_index(event)):
                    self._deliver(event)
                if self._stopping.is_set():
                    return
        finally:
            self._endpoint = None
            self._release(stream)

    def _backfill(self, endpoint: str) -> None:
        cursor = self._cursor
        while cursor.needs_backfill and not self._stopping.is_set():
            poll = self._connect(cursor.poll_params(self._recursive), endpoint, self._poll_idle)
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
                try:
                    event = next(self._events(poll), None)
                except _Silence:
                    cursor.backfill_idle(poll_start)
                    continue
                if event is None:
                    delay = cursor.empty()
                    if delay:
                        self._stopping.wait(delay)
                    continue
                if cursor.backfill_event(_event_index(event)) is Verdict.DELIVER:
                    self._deliver(event)
            finally:
                self._release(poll)

    def _events(self, conn: Any) -> Iterator[Response]:
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


def _event_index(event: Response) -> int:
    return event.node.modified_index if event.node is not None else 0


def _raise_for(conn: Any) -> None:
    """Read an error answer's body and raise what it says."""
    body = conn.read()
    _wire.decode_response(conn.status, conn.headers, body, conn.endpoint)
    raise EtcdMapError(f"{conn.endpoint} answered HTTP {conn.status} to a watch")


def _is_timeout(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, TimeoutError) or "timed out" in str(cur).lower() \
                or "timeout" in type(cur).__name__.lower():
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def _close(conn: Any) -> None:
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
    try:
        return int(client.keys.get(key, quorum=True).index)
    except KeyNotFound as exc:
        return exc.index


def load_tree(emap: Any, on_decode_error: Callable[[Exception], None]) -> tuple[Tree, int]:
    """A :class:`~etcdmap._tree.Tree` of ``emap``'s subtree from one recursive GET, and the
    GET's ``X-Etcd-Index``.

    :raises EtcdMapError: the read failed.
    """
    codec = emap.codec
    decode = None if isinstance(codec, StrCodec) else codec.decode
    tree = Tree("" if emap.path == "/" else emap.path, decode, on_decode_error)
    try:
        got = emap.client.keys.get(emap.path, recursive=True)
        node, index = got.node, got.index
    except KeyNotFound as exc:
        node, index = None, exc.index
    tree.load(node)
    return tree, index


def decode_error_reporter(path: str, sender: Callable[[], object]) -> Callable[[Exception], None]:
    """A callback that logs a codec failure and sends it as ``watch_error``."""

    def report(exc: Exception) -> None:
        log.warning("watch on %s: cannot decode a value: %s", path, exc)
        report_error(sender(), exc)

    return report


def watch_map(
    emap: Any,
    *,
    recursive: bool = True,
    after_index: int | None = None,
    idle_timeout: float = 1.0,
) -> Watch:
    """Start a :class:`Watch` on an :class:`~etcdmap.mapping.EtcdMap` (``m.watch()``).

    It first reads the subtree (one recursive GET: the state it diffs against after a lost
    history), then delivers every event after ``after_index``, or after the map's last read
    (:attr:`~etcdmap.mapping.EtcdMap.index`) when there was one, or after that GET.

    :param emap: the map; it is the signals' ``sender``.
    :param recursive: watch every key below (``False``: events on the directory itself only).
    :param after_index: deliver events from ``after_index + 1`` on.
    :param idle_timeout: see :class:`Watch`.
    :returns: the started watch.
    :raises EtcdMapError: the first read failed (nothing is started then).
    """
    tree, index = load_tree(emap, decode_error_reporter(emap.path, lambda: emap))
    if after_index is not None:
        if isinstance(after_index, bool) or not isinstance(after_index, int) or after_index < 0:
            raise ValueError(f"after_index must be an int >= 0, got {after_index!r}")
        start = after_index
    else:
        start = emap.index if 0 < emap.index < index else index
    watch = Watch(emap.client, tree, emap, after_index=start, recursive=recursive,
                  idle_timeout=idle_timeout)
    return watch.start()
