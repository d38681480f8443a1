"""The state and bookkeeping of a v2 hub subscription (:mod:`etcdmap.v2.subscription`):
generations, restarts and back-off, the dispatcher lane and its backpressure, deliveries.

Every change of the cursor and every delivery happen under one lock, so what is queued on the
lane is in index order. Thread-safety: every public method may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from etcdmap._dispatch import Lane
from etcdmap._waiter import IndexWaiter
from etcdmap.backend import ChangeSink
from etcdmap.errors import EtcdMapError, HistoryLost
from etcdmap.http.answers import StreamResponse
from etcdmap.http.hub import HubStream, StreamHub, Timer
from etcdmap.http.liveness import Liveness
from etcdmap.models import Change
from etcdmap.v2 import wire as _wire
from etcdmap.v2.cursor import QuietProbe, WatchCursor
from etcdmap.v2.models import Response

if TYPE_CHECKING:
    from etcdmap.http.transport import Transport

__all__ = ["BACKLOG", "PROBE_GRACE", "SubscriptionCore", "decode", "event_index"]

log = logging.getLogger("etcdmap.watch")
_S = TypeVar("_S", bound="SubscriptionCore")

BACKLOG = 16
"""Changes waiting on the dispatcher lane above which the stream is not read (backpressure)."""
PROBE_GRACE = 0.005
"""Seconds a live stream gets to deliver the event a probe found before it counts as dropped."""


class SubscriptionCore:
    """The changes below ``key`` after ``after``, pushed to ``sink`` (see the module docstring).

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
        self._transport = transport
        self._hub = hub
        self._liveness = liveness
        self._root = key
        self._path = _wire.key_path(key or "/")
        self._sink = sink
        self._recursive = recursive
        self._idle = idle_timeout
        self._poll_idle = min(idle_timeout, 0.25)
        self._lane = Lane(hub.dispatchers)
        self._lock = threading.RLock()
        self._cursor = WatchCursor(after)
        self._delivered = IndexWaiter(after)
        self._quiet = QuietProbe(min(probe_window, idle_timeout))
        self._gen = 0
        self._state = "connecting"
        self._endpoint: str | None = None
        self._token = 0
        self._stream: HubStream | None = None
        self._polls: set[HubStream] = set()
        self._pending: list[Response] = []
        self._probe_timer: Timer | None = None
        self._checking = False
        self._nudged = False
        self._failures = 0
        self.probes = 0
        """How many probe polls were sent (after bursts and for :meth:`nudge`)."""
        self.dropped = 0
        """How many times a probe found the stream dropped by etcd (then reconnected)."""

    # ------------------------------------------------------------------ public

    @property
    def endpoint(self) -> str | None:
        """The member of the open stream (``None`` while connecting)."""
        return self._endpoint

    @property
    def running(self) -> bool:
        """Whether it still delivers (not closed, and its client's hub not closed)."""
        return self._state != "closed" and not self._hub.closed

    @property
    def state(self) -> str:
        """``connecting``, ``backfill``, ``live``, ``paused`` (history lost) or ``closed``."""
        return self._state

    def start(self: _S) -> _S:
        """Open the stream (on a worker). :returns: ``self``."""
        gen = self._gen
        self._hub.workers.submit(lambda: self._connect(gen))
        return self

    def resume(self, after: int) -> None:
        """Go on after a re-read at ``after`` (the subscription waits after a lost history)."""
        with self._lock:
            if self._state == "closed":
                return
            self._cursor.resynced(after)
            self._delivered.advance(after)
            self._restart(0.0)

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

    def close(self, timeout: float | None = 2.0) -> None:
        """Stop; wait (at most ``timeout``) for a sink call in progress unless called from it."""
        with self._lock:
            self._leave()
            self._state = "closed"
        self._lane.close()
        self._lane.drain(timeout)

    def __repr__(self) -> str:
        return f"<V2Subscription {self._root or '/'} {self._state} from {self._endpoint}>"

    # ------------------------------------------------------------------ connections

    def _leave(self) -> None:
        """Close every connection of the current generation (lock held)."""
        self._gen += 1
        for handle in [self._stream, *self._polls]:
            if handle is not None:
                handle.close()
        self._stream = None
        self._polls.clear()
        self._pending = []
        if self._endpoint is not None:
            self._liveness.release(self._endpoint, self._token)
        self._endpoint = None
        self._checking = False  # a pending nudge is kept: sent once live again
        self._quiet.reset()
        if self._probe_timer is not None:
            self._probe_timer.cancel()
            self._probe_timer = None

    def _restart(self, delay: float) -> None:
        """Leave the current stream and connect again after ``delay`` (lock held)."""
        self._leave()
        self._state = "connecting"
        gen = self._gen

        def connect() -> None:
            self._hub.workers.submit(lambda: self._connect(gen))

        if delay > 0:
            self._hub.call_later(delay, connect)
        else:
            connect()

    def _fail(self, gen: int, exc: BaseException) -> None:
        """A failure: report it, back off, reconnect."""
        with self._lock:
            if gen != self._gen or self._state in ("closed", "paused"):
                return
            if isinstance(exc, HistoryLost):
                self._leave()
                self._state = "paused"
                self._lane.submit(lambda: self._history_lost(exc))
                return
            self._failures += 1
            log.warning("watch on %s: %s; retrying", self._root or "/", exc)
            self._lane.submit(lambda: self._sink.on_error(exc))
            self._restart(min(2.0, 0.05 * 2 ** min(self._failures, 6)))

    def _history_lost(self, exc: BaseException) -> None:
        """On the lane: let the sink re-read (it calls :meth:`resume`); retry if it fails."""
        try:
            self._sink.on_history_lost(exc)
        except Exception as failure:  # the re-read failed: report, try again later
            if self._state == "closed":
                return
            log.warning("watch on %s: resync failed: %s; retrying", self._root or "/", failure)
            self._sink.on_error(failure)
            self._hub.call_later(0.2, lambda: self._lane.submit(lambda: self._history_lost(exc)))

    def _open(self, params: list[tuple[str, str]], endpoint: str | None) -> StreamResponse:
        """Open a stream or poll and read its head; :raises: its error (HistoryLost...)."""
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
            change = Change(event.action, node, event.prev_node, node.modified_index)
            self._lane.submit(lambda: self._sink.on_change(change))

    def _emit_progress(self) -> None:
        index = self._cursor.last_index
        self._delivered.advance(index)
        self._lane.submit(lambda: self._sink.on_progress(index))

    def _submit_poll(self, gen: int, purpose: str) -> None:
        self._hub.workers.submit(lambda: self._poll(gen, purpose))

    def _forget(self, box: list[HubStream], *, close: bool = False) -> None:
        with self._lock:
            handle = box[0]
            self._polls.discard(handle)
        if close:
            handle.close()

    # ------------------------------------------------------------------ the protocol steps

    def _connect(self, gen: int) -> None:
        """On a worker: open the stream (see :class:`~etcdmap.v2.subscription.V2Subscription`)."""
        raise NotImplementedError

    def _poll(self, gen: int, purpose: str) -> None:
        """On a worker: one long poll (``backfill``, ``probe`` or ``nudge``)."""
        raise NotImplementedError

    def _quiet_due(self, gen: int) -> None:
        """On the I/O thread: the probe window after a burst."""
        raise NotImplementedError


def decode(headers: object, line: bytes, endpoint: str | None) -> Response:
    return _wire.decode_response(200, headers, line, endpoint or "")  # type: ignore[arg-type]


def event_index(event: Response) -> int:
    return event.node.modified_index if event.node is not None else 0

