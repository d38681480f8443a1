"""The mapping-level watch: keeps a :class:`~etcdmap.mapping.tree.Tree` current from a backend's
change stream and sends the :mod:`etcdmap.signals`.

The backend's :class:`~etcdmap.backend.ChangeStream` delivers every change once, in index
order, across member failures (:mod:`etcdmap.http.watch_lifecycle`). This module adds what is
the same on every backend: applying each change to the last known state, the signals, the
index waiters of ``wait_for``, and the recovery from a lost history — when the stream raises
:class:`~etcdmap.errors.HistoryLost`, the watch re-reads the subtree (one recursive quorum
read), sends the differences against the last known state as ordinary signals and then
``resynced``, and goes on after the re-read's index. Subscribers are never silently behind.

Cost: on a backend with a watch hub (:class:`~etcdmap.backend.Subscribable`: the v2 and v3
clients) a watch owns no thread: the client's one I/O thread reads its stream
and a small bounded set of dispatcher threads sends its signals, in index order per watch (a
receiver that blocks delays its own watch only). Other backends (the memory backend) run
one daemon thread per watch that iterates :meth:`~etcdmap.backend.Backend.changes`.

Signals are sent in index order; see :mod:`etcdmap.signals` for the payload and for receiver
exceptions (logged on ``etcdmap.watch``, sent as ``watch_error``; the watch goes on).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from etcdmap._closing import Closing
from etcdmap._waiter import IndexWaiter
from etcdmap.backend import Backend, ChangeStream, Progress, Subscribable, Subscription
from etcdmap.errors import HistoryLost, KeyNotFound
from etcdmap.mapping.tree import Tree
from etcdmap.models import Change
from etcdmap.signals import Event, emit, emit_resynced, report_error

__all__ = ["SIGNALS", "Watch", "WatchOutput"]

log = logging.getLogger("etcdmap.watch")


class WatchOutput(Protocol):
    """Where a :class:`Watch` sends what it sees: the :mod:`etcdmap.signals` (:data:`SIGNALS`,
    in the delivering thread), or an event loop (:mod:`etcdmap.aio.watch`). Called one at a
    time, in index order, from the thread delivering the watch's changes."""

    def event(self, sender: object, event: Event) -> None:
        """One event (also each difference of a resync, ``action="resync"``)."""

    def resynced(self, sender: object, *, index: int, created: int, updated: int,
                 deleted: int, reason: str) -> None:
        """A resync ended (see :data:`etcdmap.signals.resynced`)."""

    def error(self, sender: object, error: BaseException) -> None:
        """A failure the watch recovers from (see :data:`etcdmap.signals.watch_error`)."""


class _Signals:
    """The :mod:`etcdmap.signals`, sent in the delivering thread."""

    def event(self, sender: object, event: Event) -> None:
        emit(sender, event)

    def resynced(self, sender: object, *, index: int, created: int, updated: int,
                 deleted: int, reason: str) -> None:
        emit_resynced(sender, index=index, created=created, updated=updated, deleted=deleted,
                      reason=reason)

    def error(self, sender: object, error: BaseException) -> None:
        report_error(sender, error)


SIGNALS: WatchOutput = _Signals()
"""The default :class:`WatchOutput`: blinker signals, in the delivering thread."""


class Watch(Closing):
    """A watch on a directory: applies every change to a :class:`~etcdmap.mapping.tree.Tree`
    (the last known state) and sends the :mod:`etcdmap.signals` with ``sender``.

    Get one from :meth:`etcdmap.EtcdMap.watch` (or a mirror). Use it as a context manager, or
    call :meth:`stop`. On a hub backend it owns no thread (see the module docstring);
    otherwise its thread is a daemon thread.

    :param backend: the store (:class:`~etcdmap.backend.Backend`).
    :param tree: the last known state of the subtree (loaded by the caller).
    :param sender: the object the signals are sent with (the map or the mirror).
    :param after_index: the watch delivers events from ``after_index + 1`` on.
    :param recursive: include every key below the directory (``False``: the directory only).
    :param idle_timeout: seconds of silence after which the stream checks its member.
    :param on_index: called (from the thread delivering the signals) with the index the
        state is current to.
    :param output: where events, resyncs and errors go (default: the signals).

    Thread-safety: :meth:`stop`, :meth:`wait_for`, :meth:`join` and the properties may be
    called from any thread.
    """

    def __init__(
        self,
        backend: Backend,
        tree: Tree,
        sender: object,
        *,
        after_index: int,
        recursive: bool = True,
        idle_timeout: float = 1.0,
        on_index: Callable[[int], None] | None = None,
        output: WatchOutput = SIGNALS,
    ) -> None:
        self._backend = backend
        self._tree = tree
        self._root = tree.root or "/"
        self._sender = sender
        self._recursive = recursive
        self._idle = idle_timeout
        self._on_index = on_index
        self._output = output
        self._index = after_index
        self._waiter = IndexWaiter(after_index)
        self._stopping = threading.Event()
        self._stream: ChangeStream | None = None
        self._sub: Subscription | None = None
        self._hub = isinstance(backend, Subscribable)
        self._started = False
        self._thread = threading.Thread(
            target=self._run, name=f"etcdmap-watch {self._root}", daemon=True
        )
        self._counts = {"probes": 0, "dropped": 0}
        self.resyncs = 0
        """How many times the watch re-read the subtree after losing history."""

    # ------------------------------------------------------------------ public

    def start(self) -> Watch:
        """Start the watch (once). :returns: ``self``."""
        self._started = True
        if self._hub:
            assert isinstance(self._backend, Subscribable)
            self._sub = self._backend.subscribe(
                self._root, _Sink(self), after=self._index, recursive=self._recursive,
                idle_timeout=self._idle,
            )
        else:
            self._thread.start()
        return self

    @property
    def index(self) -> int:
        """Every event up to this index has been delivered."""
        return self._index

    @property
    def endpoint(self) -> str | None:
        """The member the stream reads from (``None`` while reconnecting or unknown)."""
        stream = self._sub or self._stream
        return None if stream is None else stream.endpoint

    @property
    def state(self) -> str:
        """``connecting``, ``backfill`` (v2), ``live``, ``paused`` (history lost, re-reading)
        or ``closed`` on a hub backend; ``live`` or ``closed`` for a watch thread."""
        sub = self._sub
        if sub is not None:
            return str(getattr(sub, "state", "live" if self.running else "closed"))
        return "live" if self.running else "closed"

    @property
    def mode(self) -> str:
        """What carries the watch: ``"websocket"`` (v3: the member's shared WebSocket),
        ``"http"`` (a stream of its own read by the client's hub) or ``"thread"`` (a thread
        of its own: the memory backend)."""
        sub = self._sub
        if sub is None:
            return "thread"
        return str(getattr(sub, "mode", "http"))

    @property
    def probes(self) -> int:
        """How many probe polls the stream sent (v2: one per busy period)."""
        return self._counts["probes"] + getattr(self._sub or self._stream, "probes", 0)

    @property
    def dropped(self) -> int:
        """How many times the stream found itself dropped by etcd (then reconnected)."""
        return self._counts["dropped"] + getattr(self._sub or self._stream, "dropped", 0)

    @property
    def running(self) -> bool:
        """Whether the watch runs (started, not stopped)."""
        if self._hub:
            sub = self._sub
            return sub is not None and sub.running and not self._stopping.is_set()
        return self._thread.is_alive()

    def stop(self, timeout: float | None = 2.0) -> None:
        """Stop the watch: end its stream from this thread and wait for the signal in
        progress (the thread, without a hub); no signal is sent after it returns.

        Safe to call twice and from a receiver (it then does not wait for itself).

        :param timeout: seconds to wait (``None``: no limit).
        """
        self._stopping.set()
        if self._sub is not None:
            self._sub.close(timeout)
            return
        stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def close(self) -> None:
        """:meth:`stop` with its default timeout (``with m.watch(): ...`` calls it)."""
        self.stop()

    def wait_for(self, index: int | None = None, timeout: float | None = 5.0) -> bool:
        """Wait until every event up to ``index`` has been delivered to the receivers.

        :param index: an etcd index, e.g. ``m.index`` after a write; ``None``: the store's
            current index (one linearizable read first).
        :param timeout: seconds at most (``None``: no limit).
        :returns: whether the watch got there in time.
        :raises EtcdMapError: reading the current index failed (``index=None`` only).
        """
        if index is None:
            index = self._backend.current_index(self._root)
        return self._waiter.wait_for(index, timeout, self.nudge)

    def nudge(self) -> None:
        """Have the stream look for missed changes now (used by ``wait_for``)."""
        stream = self._sub or self._stream
        if stream is not None:
            stream.nudge()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the watch thread to end (after :meth:`stop`; nothing to wait for on a
        hub backend: :meth:`stop` waited)."""
        if not self._hub:
            self._thread.join(timeout)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Watch {self._root} {state} index={self.index}>"

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            stream = self._backend.changes(
                self._root, after=self._index, recursive=self._recursive,
                idle_timeout=self._idle, on_error=self._report,
            )
            self._stream = stream
            if self._stopping.is_set():
                stream.close()
                break
            try:
                for item in stream:
                    if isinstance(item, Progress):
                        self._advance(item.revision)
                    else:
                        self._deliver(item)
                    if self._stopping.is_set():
                        break
                failures = 0
            except HistoryLost as exc:
                failures = 0
                self._retire(stream)
                self._resync_or_report(exc)
                continue
            except Exception as exc:  # a stream that gave up: report, back off, reopen
                failures += 1
                if not self._stopping.is_set():
                    log.warning("watch on %s: %s; retrying", self._root, exc)
                    self._report(exc)
                    self._stopping.wait(min(2.0, 0.05 * 2 ** min(failures, 6)))
            self._retire(stream)

    def _retire(self, stream: ChangeStream) -> None:
        if self._stream is stream:
            self._counts["probes"] += getattr(stream, "probes", 0)
            self._counts["dropped"] += getattr(stream, "dropped", 0)
            self._stream = None
        stream.close()

    def _report(self, exc: BaseException) -> None:
        self._output.error(self._sender, exc)

    def _deliver(self, change: Change) -> None:
        event = self._tree.apply(change)
        if event is not None:
            self._output.event(self._sender, event)
        self._advance(change.index)

    def _advance(self, index: int) -> None:
        self._index = max(self._index, index)
        self._waiter.advance(self._index)
        if self._on_index is not None:
            self._on_index(self._index)

    def _resync_or_report(self, lost: HistoryLost) -> None:
        try:
            self._resync(f"history cleared: {lost}")
        except Exception as exc:  # the re-read failed: report, back off, try again
            if not self._stopping.is_set():
                log.warning("watch on %s: resync failed: %s; retrying", self._root, exc)
                self._report(exc)
                self._stopping.wait(0.2)

    def _resync(self, reason: str) -> None:
        try:
            node, index = self._backend.read(self._root, recursive=True, quorum=True)
        except KeyNotFound as exc:
            node, index = None, exc.index
        changes = self._tree.resync(node, index)
        if not self._recursive:  # a non-recursive watch reports its directory only
            changes = [c for c in changes if c.key == ""]
        for change in changes:
            self._output.event(self._sender, change)
        self.resyncs += 1
        removed = sum(1 for c in changes if c.removed)
        updated = sum(1 for c in changes if not c.removed and c.had_prev)
        log.info("watch on %s resynced at %d (%s)", self._root, index, reason)
        self._output.resynced(self._sender, index=index,
                              created=len(changes) - removed - updated, updated=updated,
                              deleted=removed, reason=reason)
        self._index = index
        self._advance(index)


class _Sink:
    """The watch as the :class:`~etcdmap.backend.ChangeSink` of a hub subscription (its
    methods run on a dispatcher lane, one at a time, in index order)."""

    __slots__ = ("_watch",)

    def __init__(self, watch: Watch) -> None:
        self._watch = watch

    def on_change(self, change: Change) -> None:
        if not self._watch._stopping.is_set():
            self._watch._deliver(change)

    def on_progress(self, index: int) -> None:
        if not self._watch._stopping.is_set():
            self._watch._advance(index)

    def on_history_lost(self, error: BaseException) -> None:
        watch = self._watch
        if watch._stopping.is_set():
            return
        watch._resync(f"history cleared: {error}")  # raises: reported, called again later
        if watch._sub is not None:
            watch._sub.resume(watch._index)

    def on_error(self, error: BaseException) -> None:
        if not self._watch._stopping.is_set():
            self._watch._report(error)
