"""The v3 backend's push-style change stream on the client's watch hub (issue "watches at scale").

A subscription opens one ``POST /v3/watch`` (``prev_kv``, ``start_revision`` = the last
delivered revision + 1) on a worker of the client's :class:`~etcdmap.http.hub.StreamHub`, and
hands the answer to the hub's I/O thread, which reads it with every other watch stream of the
client. Each message becomes v2-style changes (:func:`etcdmap.v3.changes.changes_of`) pushed to
the sink on the subscription's own dispatcher lane, in revision order; a message without
events but with a newer revision is progress.

Nothing is sent while idle: etcd sends nothing on an idle v3 watch, and the stream stays open.
The member it reads from is watched by the hub's ONE shared check per member
(:class:`~etcdmap.http.liveness.Liveness`: ``GET /health``, false without a leader); when the
check fails — frozen, dead or partitioned member — the stream moves to another member and
resumes at the last delivered revision + 1, so nothing is lost or repeated. A stream that
ends or breaks reconnects the same way. A compacted start revision is a lost history
(:meth:`~etcdmap.backend.ChangeSink.on_history_lost`): the sink re-reads and calls
:meth:`V3Subscription.resume`.

Thread-safety: every public method may be called from any thread (``resume``/``close`` also
from the sink).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING

from etcdmap._dispatch import Lane
from etcdmap.errors import EtcdMapError, HistoryLost
from etcdmap.v3.changes import changes_of, proven_quiet, watch_range
from etcdmap.v3.layout import is_hidden
from etcdmap.v3.wire import b64, compacted_error, parse_watch_line

if TYPE_CHECKING:
    from etcdmap.backend import ChangeSink
    from etcdmap.http.hub import HubStream, StreamHub
    from etcdmap.http.liveness import Liveness
    from etcdmap.v3.models import WatchResponse
    from etcdmap.v3.parts import V3Parts

__all__ = ["V3Subscription"]

log = logging.getLogger("etcdmap.watch")

_HAS_LEADER = {"Grpc-Metadata-hasleader": "true"}
"""Ask the gateway to end the watch when its member loses its leader (reference §4.7)."""


class V3Subscription:
    """The changes below ``key`` after revision ``after``, pushed to ``sink``.

    :param client: the v3 client.
    :param hub: the client's watch hub; ``liveness``: its member checks.
    :param key: the absolute key watched (a directory: everything below it).
    :param sink: receives the changes on a dispatcher lane.
    :param after: deliver changes with a revision above this.
    :param recursive: every key below (``False``: the key itself and its marker only).
    :param idle_timeout: how often the stream's member is checked.
    """

    def __init__(
        self, client: V3Parts, hub: StreamHub, liveness: Liveness, key: str, sink: ChangeSink,
        *, after: int, recursive: bool = True, idle_timeout: float = 1.0,
    ) -> None:
        self._client = client
        self._hub = hub
        self._liveness = liveness
        self._root = key.rstrip("/")
        self._sink = sink
        self._recursive = recursive
        self._idle = idle_timeout
        self._lane = Lane(hub.dispatchers)
        self._lock = threading.RLock()
        self._last = after
        self._gen = 0
        self._state = "connecting"
        self._endpoint: str | None = None
        self._token = 0
        self._stream: HubStream | None = None
        self._failures = 0
        self.probes = 0
        """How many times :meth:`nudge` checked for changes with two reads."""
        self.dropped = 0
        """How many times the stream was reopened (member failure, end of stream)."""

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
        """``connecting``, ``live``, ``paused`` (history lost) or ``closed``."""
        return self._state

    def start(self) -> V3Subscription:
        """Open the stream (on a worker). :returns: ``self``."""
        gen = self._gen
        self._hub.workers.submit(lambda: self._connect(gen))
        return self

    def resume(self, after: int) -> None:
        """Go on after a re-read at revision ``after`` (after a lost history)."""
        with self._lock:
            if self._state == "closed":
                return
            self._last = after
            self._restart(0.0)

    def nudge(self) -> None:
        """A consumer waits for a revision with no event below the key: prove on a worker
        that nothing is pending up to the current revision, and report it as progress."""
        with self._lock:
            if self._state != "live":
                return
            gen, last = self._gen, self._last
        self.probes += 1
        self._hub.workers.submit(lambda: self._prove(gen, last))

    def close(self, timeout: float | None = 2.0) -> None:
        """Stop; wait (at most ``timeout``) for a sink call in progress unless called from it."""
        with self._lock:
            self._leave()
            self._state = "closed"
        self._lane.close()
        self._lane.drain(timeout)

    def __repr__(self) -> str:
        return f"<V3Subscription {self._root or '/'} {self._state} from {self._endpoint}>"

    # ------------------------------------------------------------------ connections

    def _leave(self) -> None:
        """Close the stream of the current generation (lock held)."""
        self._gen += 1
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self._endpoint is not None:
            self._liveness.release(self._endpoint, self._token)
        self._endpoint = None

    def _restart(self, delay: float) -> None:
        """Leave the stream and connect again after ``delay`` seconds (lock held)."""
        self._leave()
        self._state = "connecting"
        gen = self._gen

        def connect() -> None:
            self._hub.workers.submit(lambda: self._connect(gen))

        if delay > 0:
            self._hub.call_later(delay, connect)
        else:
            connect()

    def _fail(self, gen: int, exc: BaseException, *, move: bool = True) -> None:
        """A failure: a lost history pauses for a resync; anything else is reported and the
        stream reconnects (on another member when ``move``), backing off when it repeats."""
        with self._lock:
            if gen != self._gen or self._state in ("closed", "paused"):
                return
            if isinstance(exc, HistoryLost):
                self._leave()
                self._state = "paused"
                self._lane.submit(lambda: self._history_lost(exc))
                return
            endpoint = self._endpoint
            if move and endpoint is not None:
                self._client.transport.unpin(endpoint)
            self._failures += 1
            self.dropped += 1
            log.warning("watch on %s: %s; resuming at revision %d", self._root or "/", exc,
                        self._last + 1)
            self._lane.submit(lambda: self._sink.on_error(exc))
            self._restart(0.0 if self._failures == 1 else
                          min(2.0, 0.05 * 2 ** min(self._failures, 6)))

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

    def _body(self) -> bytes:
        start, end = watch_range(self._root, self._recursive)
        create = {"key": b64(start), "range_end": b64(end), "prev_kv": True,
                  "start_revision": str(self._last + 1)}
        return json.dumps({"create_request": create}).encode()

    def _connect(self, gen: int) -> None:
        """On a worker: open the watch and hand it to the hub."""
        if gen != self._gen:
            return
        try:
            resp = self._client._caller.stream(
                "/v3/watch", self._body(), read_timeout=max(self._idle, 0.5),
                headers=dict(_HAS_LEADER),
            )
        except Exception as exc:  # every failure: report, back off, reconnect
            self._fail(gen, exc, move=False)
            return
        with self._lock:
            if gen != self._gen:
                resp.close()
                return
            endpoint = resp.endpoint
            self._endpoint = endpoint
            self._token = self._liveness.use(endpoint, self._idle, self._member_failed)
            self._state = "live"
            self._stream = self._hub.attach(
                resp, on_lines=lambda lines: self._lines(gen, lines),
                on_end=lambda error: self._ended(gen, error),
            )

    def _member_failed(self, endpoint: str, reason: str) -> None:
        """The shared check found the stream's member unhealthy: move to another member."""
        with self._lock:
            if endpoint != self._endpoint or self._state in ("closed", "paused"):
                return
            log.info("watch on %s: leaving %s (%s)", self._root or "/", endpoint, reason)
            self.dropped += 1
            self._restart(0.0)

    def _ended(self, gen: int, error: EtcdMapError | None) -> None:
        """On the I/O thread: the stream ended (etcd or the gateway closed it) or broke."""
        self._fail(gen, error or EtcdMapError("the watch stream ended"))

    # ------------------------------------------------------------------ messages

    def _lines(self, gen: int, lines: list[bytes]) -> None:
        """On the I/O thread: the stream's messages."""
        with self._lock:
            if gen != self._gen:
                return
            try:
                for line in lines:
                    self._message(parse_watch_line(line))
            except EtcdMapError as exc:
                self._fail(gen, exc)

    def _message(self, msg: WatchResponse) -> None:
        """One message (lock held): events -> changes, a newer revision -> progress."""
        if msg.canceled:
            if msg.compact_revision:
                raise compacted_error(msg)
            raise EtcdMapError(msg.cancel_reason or "etcd canceled the watch")
        events = tuple(ev for ev in msg.events if ev.kv.mod_revision > self._last)
        if events:
            self._failures = 0
            for change in changes_of(events, self._wants):
                self._lane.submit(lambda c=change: self._sink.on_change(c))  # type: ignore[misc]
            self._last = max(ev.kv.mod_revision for ev in events)
            self._progress(self._last)
        elif msg.is_progress and msg.header.revision > self._last:
            self._last = msg.header.revision
            self._progress(self._last)

    def _progress(self, revision: int) -> None:
        self._lane.submit(lambda: self._sink.on_progress(revision))

    def _wants(self, key: str) -> bool:
        root = self._root
        if key in (root, root + "/"):
            return True
        if not self._recursive or not key.startswith(root + "/"):
            return False
        return not is_hidden(key[len(root) + 1:])

    def _prove(self, gen: int, last: int) -> None:
        """On a worker: report the current revision as progress when nothing below the key
        changed since ``last`` (see :func:`etcdmap.v3.changes.proven_quiet`)."""
        try:
            now = proven_quiet(self._client, self._root, self._recursive, last, self._wants)
        except Exception as exc:  # inconclusive: the events still arrive on the stream
            log.debug("watch on %s: nudge failed: %s", self._root or "/", exc)
            return
        with self._lock:
            if now is not None and gen == self._gen and self._last == last:
                self._last = now
                self._progress(now)


if TYPE_CHECKING:  # mypy checks that the class implements the seam's protocol
    from etcdmap.backend import Subscription

    _IMPLEMENTS: type[Subscription] = V3Subscription
