"""The v3 parts of the one subscription lifecycle (:mod:`etcdmap.http.watch_lifecycle`): the
v3 backend's push-style change stream on the client's watch hub.

A subscription asks its channel (:class:`WatchChannel`) for a watch of its range with
``prev_kv`` from the last delivered revision + 1: the member's WebSocket, which carries every
watch of the client on that member (:mod:`etcdmap.v3.watch_mux`), or, where the upgrade is
refused, one ``POST /v3/watch`` HTTP stream read by the hub's I/O thread (:class:`HttpChannel`).
Each message becomes v2-style changes (:func:`etcdmap.v3.changes.changes_of`) pushed to the
sink on the subscription's own dispatcher lane, in revision order; a message without events
but with a newer revision is progress. The resume point is a
:class:`~etcdmap.v3.cursor.RevisionCursor`.

Nothing is sent while idle: the member is watched by the hub's ONE shared check per member
(:class:`~etcdmap.http.liveness.Liveness`: ``GET /health``, false without a leader); when the
check fails — frozen, dead or partitioned member — the watch moves to another member and
resumes at the last delivered revision + 1, so nothing is lost or repeated. A stream that ends
or breaks reconnects the same way. A compacted start revision is a lost history: the sink
re-reads and calls :meth:`V3Subscription.resume`.

Thread-safety: every public method may be called from any thread (``resume``/``close`` also
from the sink).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from etcdmap.errors import EtcdMapError
from etcdmap.http.watch_lifecycle import WatchLifecycle
from etcdmap.v3.changes import changes_of, proven_quiet, watch_range
from etcdmap.v3.cursor import RevisionCursor, scope
from etcdmap.v3.watch import open_watch_stream
from etcdmap.v3.wire import b64, parse_watch_line

if TYPE_CHECKING:
    from etcdmap.backend import ChangeSink
    from etcdmap.http.hub import StreamHub
    from etcdmap.http.liveness import Liveness
    from etcdmap.v3.client_protocol import V3Parts
    from etcdmap.v3.models import WatchResponse

__all__ = ["HttpChannel", "V3Subscription", "WatchChannel"]

log = logging.getLogger("etcdmap.watch")

_REPROVE = 5
"""Proofs one nudge starts again after finding changes on their way."""

Lines = Callable[[list[bytes]], None]
Ended = Callable[[EtcdMapError | None], None]


class Closable(Protocol):
    """A handle of an open watch."""

    def close(self) -> None:
        """Stop it (idempotent, any thread); no callback follows."""


class WatchChannel(Protocol):
    """How a subscription opens a watch: on the member's WebSocket or an HTTP stream."""

    @property
    def mode(self) -> str:
        """``"websocket"`` or ``"http"``: what carries the watches now."""

    def open(self, create: dict[str, Any], *, avoid: str | None, on_lines: Lines,
             on_end: Ended) -> tuple[str, Closable]:
        """Open a watch (blocks: call it on a worker).

        :param create: the ``create_request``.
        :param avoid: a member to leave (the watch's stream broke there).
        :param on_lines: the watch's messages, as JSON lines (on the hub's I/O thread).
        :param on_end: once, when the watch ends (``None``: cleanly) or breaks.
        :returns: the member and a handle.
        :raises EtcdMapError: no member could open it.
        """


class HttpChannel:
    """One ``POST /v3/watch`` HTTP stream per watch, read by the hub (the fallback).

    :param client: the v3 client; ``hub``: its watch hub.
    :param read_timeout: how long the head may take.
    """

    mode = "http"

    def __init__(self, client: V3Parts, hub: StreamHub, read_timeout: float) -> None:
        self._client = client
        self._hub = hub
        self._read = read_timeout

    def open(self, create: dict[str, Any], *, avoid: str | None, on_lines: Lines,
             on_end: Ended) -> tuple[str, Closable]:
        """See :meth:`WatchChannel.open`."""
        body = json.dumps({"create_request": create}).encode()
        resp = open_watch_stream(self._client._caller, body, read_timeout=self._read, avoid=avoid)
        return resp.endpoint, self._hub.attach(resp, on_lines=on_lines, on_end=on_end)


class V3Subscription(WatchLifecycle):
    """The changes below ``key`` after revision ``after``, pushed to ``sink``.

    :param client: the v3 client.
    :param hub: the client's watch hub; ``liveness``: its member checks.
    :param key: the absolute key watched (a directory: everything below it).
    :param sink: receives the changes on a dispatcher lane.
    :param after: deliver changes with a revision above this.
    :param recursive: every key below (``False``: the key itself and its marker only).
    :param idle_timeout: how often the stream's member is checked.
    :param channel: what carries the watch (default: an HTTP stream of its own).
    """

    kind = "v3 watch"

    def __init__(
        self, client: V3Parts, hub: StreamHub, liveness: Liveness, key: str, sink: ChangeSink,
        *, after: int, recursive: bool = True, idle_timeout: float = 1.0,
        channel: WatchChannel | None = None,
    ) -> None:
        super().__init__(hub, liveness, key.rstrip("/"), sink, idle_timeout=idle_timeout)
        self._client = client
        self._root = key.rstrip("/")
        self._recursive = recursive
        self._wants = scope(self._root, recursive)
        self._cursor = RevisionCursor(after)
        self._channel = channel if channel is not None else HttpChannel(
            client, hub, max(idle_timeout, 0.5))
        self._handle: Closable | None = None
        self._proving = False
        self._nudged = False
        self._retries = 0

    @property
    def mode(self) -> str:
        """``"websocket"`` (the member's shared socket) or ``"http"`` (a stream of its own)."""
        return self._channel.mode

    def nudge(self) -> None:
        """A consumer waits for a revision with no event below the key: prove on a worker
        that nothing is pending up to the current revision (:func:`proven_quiet`), and report
        it as progress."""
        with self._lock:
            if self._state in ("closed", "paused"):
                return
            self._retries = 0
            if self._state != "live" or self._proving:
                self._nudged = True  # proved once live, or once the proof out is done
                return
            self._start_proof()

    def _start_proof(self) -> None:
        """Prove on a worker that nothing is pending (lock held)."""
        self._proving = True
        self._nudged = False
        gen, last = self._gen, self._cursor.last
        self.probes += 1
        self._hub.workers.submit(lambda: self._prove(gen, last))

    # ------------------------------------------------------------------ the lifecycle's parts

    def _left(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _resynced(self, after: int) -> None:
        self._cursor.resynced(after)

    def _create(self) -> dict[str, Any]:
        start, end = watch_range(self._root, self._recursive)
        return {"key": b64(start), "range_end": b64(end), "prev_kv": True,
                "start_revision": str(self._cursor.start_revision)}

    def _connect(self, gen: int) -> None:
        """On a worker: open the watch on the channel."""
        with self._lock:
            if gen != self._gen:
                return
            create, avoid = self._create(), self._avoid
        try:
            endpoint, handle = self._channel.open(
                create, avoid=avoid, on_lines=lambda lines: self._lines(gen, lines),
                on_end=lambda error: self._ended(gen, error))
        except Exception as exc:  # every failure: report, back off, reconnect
            self._fail(gen, exc, move=False)
            return
        with self._lock:
            if gen != self._gen:
                handle.close()
                return
            self._handle = handle
            self._cursor.reopened()
            self._on_member(endpoint)
            self._state = "live"
            if self._nudged and not self._proving:
                self._start_proof()

    def _ended(self, gen: int, error: EtcdMapError | None) -> None:
        """The watch ended (etcd or the gateway closed it) or broke."""
        with self._lock:
            if gen == self._gen:
                self.dropped += 1
        self._fail(gen, error or EtcdMapError("the watch stream ended"))

    def _lines(self, gen: int, lines: list[bytes]) -> None:
        """On the I/O thread: the watch's messages."""
        with self._lock:
            if gen != self._gen:
                return
            try:
                for line in lines:
                    self._message(parse_watch_line(line))
            except (EtcdMapError, ValueError) as exc:
                self._fail(gen, exc)

    def _message(self, msg: WatchResponse) -> None:
        """One message (lock held): events -> changes, a newer revision -> progress."""
        before = self._cursor.last
        accepted = self._cursor.accept(msg)
        if accepted is None:
            return
        if accepted.events:
            self._failures = 0
            for change in changes_of(accepted.events, self._wants):
                self._change(change)
        if self._cursor.last > before:
            self._progress(self._cursor.last)
            if self._nudged and not self._proving:
                self._start_proof()  # the changes a proof found came: prove the rest

    def _prove(self, gen: int, last: int) -> None:
        """On a worker: report the current revision as progress when nothing below the key
        changed since ``last`` (see :func:`etcdmap.v3.changes.proven_quiet`)."""
        try:
            now = proven_quiet(self._client, self._wants, last)
        except Exception as exc:  # inconclusive: the events still arrive on the stream
            log.debug("watch on %s: nudge failed: %s", self._label, exc)
            now = None
        with self._lock:
            self._proving = False
            if gen != self._gen:  # the stream moved meanwhile: the nudge is still owed
                if self._state == "live":
                    self._start_proof()
                elif self._state == "connecting":
                    self._nudged = True  # proved once live
                return
            if now is not None and self._cursor.last == last:
                self._cursor.resynced(now)  # nothing this watch wants lies in (last, now]
                self._progress(now)
                self._retries = 0
            elif self._retries < _REPROVE:  # changes were on their way: prove the rest
                self._retries += 1
                if self._cursor.last != last:
                    self._start_proof()
                else:
                    self._nudged = True  # once they came


if TYPE_CHECKING:  # mypy checks that the class implements the seam's protocol
    from etcdmap.backend import Subscription

    _IMPLEMENTS: type[Subscription] = V3Subscription
