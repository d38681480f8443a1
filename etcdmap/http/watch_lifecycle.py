"""The one lifecycle of a watch subscription on a client's hub, for v2 and v3 alike.

A subscription delivers the changes below a key, after an index, to a
:class:`~etcdmap.backend.ChangeSink`, on its own dispatcher lane (so in index order). Its
life is the same on both APIs; only how a stream is opened and read differs:

- **start**: a worker connects (:meth:`WatchLifecycle._connect`, API-specific); once a
  stream is open on a member, :meth:`WatchLifecycle._on_member` registers it with the
  member's shared liveness check;
- **live / backfill**: the API reads its stream (v2: a ``stream=true`` watch plus long polls
  that backfill from history; v3: a watch on the member's WebSocket, or an HTTP stream) and
  hands changes and progress to :meth:`_change` / :meth:`_progress`;
- **move**: a failed member check, or a broken stream, leaves the member: the generation
  ends (:meth:`_leave`; everything of the old generation is ignored from then on) and a
  worker connects again, on another member when the stream broke (the client's pin does
  not move for one broken watch), from the next undelivered index;
- **resync**: a lost history (v2 401, v3 compacted revision) pauses the subscription and
  calls the sink's ``on_history_lost``; the sink re-reads and calls :meth:`resume`;
- **close**: :meth:`close` ends the generation and drains the lane.

Every failure the subscription recovers from is reported to the sink's ``on_error`` (the
mapping layer sends ``watch_error``), with a back-off when failures repeat.

The API-specific parts are four methods: :meth:`_connect` (on a worker), :meth:`_left` (close
the generation's handles), :meth:`_resynced` (move the cursor after a re-read) and
:meth:`nudge`.

Thread-safety: every public method may be called from any thread (``resume`` and ``close``
also from the sink); the API parts run under :attr:`_lock`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from etcdmap.errors import ClusterError, HistoryLost
from etcdmap.workers import Lane

if TYPE_CHECKING:
    from etcdmap.backend import ChangeSink
    from etcdmap.http.hub import StreamHub
    from etcdmap.http.liveness import Liveness
    from etcdmap.models import Change

__all__ = ["WatchLifecycle", "backoff", "open_avoiding"]

log = logging.getLogger("etcdmap.watch")
_W = TypeVar("_W", bound="WatchLifecycle")
_T = TypeVar("_T")


def open_avoiding(endpoints: list[str], avoid: str | None,
                  open_at: Callable[[str | None], _T]) -> _T:
    """Open a stream on the member after ``avoid`` (one whose stream just broke), else in
    the client's usual order: one broken stream does not move the client's pin.

    :param open_at: opens on an endpoint (``None``: the client's order, with failover).
    :raises: what ``open_at(None)`` raises.
    """
    if avoid in endpoints and len(endpoints) > 1:
        try:
            return open_at(endpoints[(endpoints.index(avoid) + 1) % len(endpoints)])
        except ClusterError:
            pass  # that one failed too
    return open_at(None)


def backoff(failures: int) -> float:
    """Seconds before reconnecting after ``failures`` failures in a row: at once for the
    first, then doubling from 0.1 s up to 2 s."""
    return 0.0 if failures <= 1 else min(2.0, 0.05 * 2 ** min(failures, 6))


class WatchLifecycle:
    """The lifecycle every hub subscription shares (see the module docstring).

    :param hub: the client's watch hub; ``liveness``: its member checks.
    :param label: the watched key, for logs.
    :param sink: receives the changes on a dispatcher lane.
    :param idle_timeout: how often the stream's member is checked.
    """

    kind = "watch"

    def __init__(self, hub: StreamHub, liveness: Liveness, label: str, sink: ChangeSink, *,
                 idle_timeout: float) -> None:
        self._hub = hub
        self._liveness = liveness
        self._label = label or "/"
        self._sink = sink
        self._idle = idle_timeout
        self._lane = Lane(hub.dispatchers)
        self._lock = threading.RLock()
        self._gen = 0
        self._state = "connecting"
        self._endpoint: str | None = None
        self._token = 0
        self._failures = 0
        self._avoid: str | None = None
        self.probes = 0
        """How many probes (v2 polls, v3 quiet proofs) were sent."""
        self.dropped = 0
        """How many times the stream was found dropped or broken (then reconnected)."""

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
        """``connecting``, ``backfill`` (v2), ``live``, ``paused`` (history lost) or ``closed``."""
        return self._state

    def start(self: _W) -> _W:
        """Open the stream (on a worker). :returns: ``self``."""
        gen = self._gen
        self._hub.workers.submit(lambda: self._connect(gen))
        return self

    def resume(self, after: int) -> None:
        """Go on after a re-read at ``after`` (the subscription waits after a lost history)."""
        with self._lock:
            if self._state == "closed":
                return
            self._resynced(after)
            self._restart(0.0)

    def nudge(self) -> None:
        """Look for missed changes now (a consumer waits for an index)."""
        raise NotImplementedError

    def close(self, timeout: float | None = 2.0) -> None:
        """Stop; wait (at most ``timeout``) for a sink call in progress unless called from it."""
        with self._lock:
            self._leave()
            self._state = "closed"
        self._lane.close()
        self._lane.drain(timeout)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._label} {self._state} from {self._endpoint}>"

    # ------------------------------------------------------------------ the API's parts

    def _connect(self, gen: int) -> None:
        """On a worker: open the stream of generation ``gen`` (ignore it if it is over)."""
        raise NotImplementedError

    def _left(self) -> None:
        """Close the handles of the generation that ends (lock held)."""

    def _resynced(self, after: int) -> None:
        """The sink re-read the state at ``after`` (lock held)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the lifecycle

    def _leave(self) -> None:
        """End the current generation: its handles closed, its member released (lock held)."""
        self._gen += 1
        self._left()
        if self._endpoint is not None:
            self._liveness.release(self._endpoint, self._token)
        self._endpoint = None

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

    def _on_member(self, endpoint: str) -> None:
        """The stream of this generation is open on ``endpoint`` (lock held)."""
        self._endpoint = endpoint
        self._avoid = None
        self._token = self._liveness.use(endpoint, self._idle, self._member_failed)

    def _member_failed(self, endpoint: str, reason: str) -> None:
        """The shared check found the stream's member unhealthy: move to another member."""
        with self._lock:
            if endpoint != self._endpoint or self._state in ("closed", "paused"):
                return
            log.info("%s on %s: leaving %s (%s)", self.kind, self._label, endpoint, reason)
            self.dropped += 1
            self._avoid = endpoint
            self._restart(0.0)

    def _fail(self, gen: int, exc: BaseException, *, move: bool = True) -> None:
        """A failure of generation ``gen``: a lost history pauses for a resync; anything else
        is reported and the stream reconnects (avoiding its member when ``move``)."""
        with self._lock:
            if gen != self._gen or self._state in ("closed", "paused"):
                return
            if isinstance(exc, HistoryLost):
                self._leave()
                self._state = "paused"
                self._lane.submit(lambda: self._history_lost(exc))
                return
            if move and self._endpoint is not None:
                self._avoid = self._endpoint
            self._failures += 1
            log.warning("%s on %s: %s; reconnecting", self.kind, self._label, exc)
            self._lane.submit(lambda: self._sink.on_error(exc))
            self._restart(backoff(self._failures))

    def _history_lost(self, exc: BaseException) -> None:
        """On the lane: let the sink re-read (it calls :meth:`resume`); retry if it fails."""
        try:
            self._sink.on_history_lost(exc)
        except Exception as failure:  # the re-read failed: report, try again later
            if self._state == "closed":
                return
            log.warning("%s on %s: resync failed: %s; retrying", self.kind, self._label, failure)
            self._sink.on_error(failure)
            self._hub.call_later(0.2, lambda: self._lane.submit(lambda: self._history_lost(exc)))

    def _change(self, change: Change) -> None:
        """Queue one change for the sink (lock held: queued in index order)."""
        self._lane.submit(lambda: self._sink.on_change(change))

    def _progress(self, index: int) -> None:
        """Queue progress: every change up to ``index`` was queued (lock held)."""
        self._lane.submit(lambda: self._sink.on_progress(index))
