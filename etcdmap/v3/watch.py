"""The v3 watch over the gateway's ``POST /v3/watch`` stream: :class:`Watcher`.

The stream is chunked HTTP/1.1, one ``{"result": WatchResponse}`` JSON object per line, each
flushed as one chunk (etcd-io/etcd release-3.5:server/embed/serve.go mounts the gateway;
grpc-ecosystem/grpc-gateway v1.16.0:runtime/handler.go writes the stream). A watcher never
loses nor repeats an event:

- it remembers the last revision it delivered completely (events of one revision -- a txn, a
  deleterange, a lease expiry -- always come in one message) and every reopen asks for
  ``start_revision = last + 1``; events at or below ``last`` are dropped should a member
  send them again;
- a broken stream (member killed, connection reset), a clean end of stream, an ``Unavailable``
  error line (member stopping, or lost its leader: the watch is sent with
  ``Grpc-Metadata-hasleader: true``, so a partitioned member ends it) or ``read_timeout`` of
  silence (a SIGSTOPped member) reopens the watch -- on the next member when the stream broke;
- a start revision older than the last compaction raises
  :class:`~etcdmap.v3.errors.RevisionCompacted` with ``compact_revision``: re-read, then watch
  from the read's revision + 1.

etcd sends nothing while a watch is idle (progress notifications only every 10 minutes by
default), so an idle watch is reopened every ``read_timeout`` seconds; the reopen is cheap and
loses nothing. Several watches can share one stream (their create requests in one body), but
none can be added to an open HTTP/1.1 stream (Go's HTTP/1.1 server reads the whole request
body before it writes the response headers, so a body kept open gets no answer at all): this
class runs one watch per stream.

Thread-safety: iterate a watcher from one thread; :meth:`Watcher.close` may be called from
any thread and ends the iteration promptly.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from etcdmap._closing import Closing
from etcdmap.errors import ClusterError, DeadlineExceeded
from etcdmap.http.transport import DEFAULT, CallTimeout, StreamResponse
from etcdmap.http.watch_lifecycle import open_avoiding
from etcdmap.v3.caller import Caller
from etcdmap.v3.cursor import RevisionCursor
from etcdmap.v3.errors import InvalidAuthToken, ServerTimeout, Unavailable
from etcdmap.v3.models import Event, WatchResponse
from etcdmap.v3.txn import range_fields
from etcdmap.v3.wire import check_int, parse_watch_line

__all__ = ["Watcher", "open_watch_stream"]

_log = logging.getLogger("etcdmap.v3.watch")
_FILTERS = ("NOPUT", "NODELETE")
_MAX_FRUITLESS = 10  # reopens in a row that got no message at all
_RESUMABLE = (Unavailable, ServerTimeout, InvalidAuthToken)
_HAS_LEADER = {"Grpc-Metadata-hasleader": "true"}
"""Ask the gateway to end the watch when its member loses its leader
(etcd-io/etcd release-3.5:server/etcdserver/api/v3rpc/interceptor.go)."""


def open_watch_stream(caller: Caller, body: bytes, *, read_timeout: float,
                      timeout: CallTimeout = DEFAULT, avoid: str | None = None) -> StreamResponse:
    """Open one ``POST /v3/watch`` stream (``hasleader`` set), starting on the member after
    ``avoid`` (one whose stream just broke) without moving the client's pin.

    :raises V3Error, ClusterError, DeadlineExceeded: as :meth:`Caller.stream`.
    """
    return open_avoiding(caller.transport.endpoints, avoid, lambda ep: caller.stream(
        "/v3/watch", body, read_timeout=read_timeout, timeout=timeout, endpoint=ep,
        headers=dict(_HAS_LEADER)))


class Watcher(Closing):
    """Iterate the changes of a key, a prefix or a range, from a start revision on.

    ``for event in watcher`` yields :class:`~etcdmap.v3.models.Event` objects in revision
    order; :meth:`responses` yields whole messages, progress notifications included.

    :param caller: the client's call layer.
    :param key: the key, prefix or range start.
    :param prefix: watch every key starting with ``key``.
    :param range_end: explicit exclusive range end.
    :param start_revision: the first revision to report (0: changes after now).
    :param prev_kv: events carry the previous key-value.
    :param progress_notify: ask for periodic progress notifications.
    :param filters: ``"NOPUT"`` and/or ``"NODELETE"``.
    :param read_timeout: the longest silence before the stream is reopened (seconds).
    :param timeout: deadline of each (re)open, across members (default: the client's).
    :raises TypeError, ValueError: bad arguments.
    """

    def __init__(
        self,
        caller: Caller,
        key: str | bytes,
        *,
        prefix: bool = False,
        range_end: str | bytes | None = None,
        start_revision: int = 0,
        prev_kv: bool = False,
        progress_notify: bool = False,
        filters: Sequence[Literal["NOPUT", "NODELETE"]] = (),
        read_timeout: float = 30.0,
        timeout: CallTimeout = DEFAULT,
    ) -> None:
        self._create: dict[str, Any] = {}
        self._create.update(range_fields(key, prefix=prefix, range_end=range_end))
        for name, flag in (("prev_kv", prev_kv), ("progress_notify", progress_notify)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, not {type(flag).__name__}")
            if flag:
                self._create[name] = True
        if isinstance(filters, str) or any(f not in _FILTERS for f in filters):
            raise ValueError(f"filters must be a sequence of {_FILTERS}: {filters!r}")
        if filters:
            self._create["filters"] = list(filters)
        if isinstance(read_timeout, bool) or not isinstance(read_timeout, (int, float)) or \
                read_timeout <= 0:
            raise ValueError(f"read_timeout must be a positive number of seconds: {read_timeout!r}")
        start = check_int(start_revision, "start_revision")
        self._caller = caller
        self._read_timeout = float(read_timeout)
        self._timeout = timeout
        self._cursor = RevisionCursor(start - 1 if start else -1)  # -1: "now", fixed by created
        self._lock = threading.Lock()
        self._stream: StreamResponse | None = None
        self._closed = False
        self._avoid: str | None = None
        self.reopens = 0
        """How many times the stream was reopened (failover, idle timeout, end of stream)."""

    @property
    def revision(self) -> int:
        """The last revision delivered completely (the watch resumes at ``revision + 1``);
        -1 before the watch is first created without a start revision."""
        return self._cursor.last

    @property
    def closed(self) -> bool:
        """:meth:`close` was called."""
        return self._closed

    @property
    def endpoint(self) -> str | None:
        """The member the stream is open on (``None`` between streams)."""
        stream = self._stream
        return None if stream is None else stream.endpoint

    # ------------------------------------------------------------------ stream

    def _body(self) -> bytes:
        create = dict(self._create)
        if self._cursor.start_revision:
            create["start_revision"] = str(self._cursor.start_revision)
        return json.dumps({"create_request": create}).encode()

    def _open(self) -> Iterator[bytes]:
        stream = open_watch_stream(self._caller, self._body(), read_timeout=self._read_timeout,
                                   timeout=self._timeout, avoid=self._avoid)
        with self._lock:
            if self._closed:
                stream.close()
                return iter(())
            self._stream = stream
        self._cursor.reopened()
        return stream.iter_lines()

    def _drop(self, *, failed: bool) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is None:
            return
        stream.close()
        # The next open starts on another member; the client's pin stays where it is.
        self._avoid = stream.endpoint if failed else None

    def responses(self) -> Iterator[WatchResponse]:
        """Yield every message: created, events and progress notifications.

        :raises RevisionCompacted: the start revision was compacted (``.compact_revision``).
        :raises PermissionDenied: the user may not watch the range.
        :raises ClusterError: no member could be reached to (re)open the watch, or
            ten reopens in a row received nothing.
        :raises DeadlineExceeded: a (re)open ran out of time.
        :raises InvalidResponseError: a line is not a watch message.
        """
        try:
            yield from self._run()
        finally:
            self._drop(failed=False)

    def _run(self) -> Iterator[WatchResponse]:
        fruitless = 0
        while not self._closed:
            fruitless += 1
            if fruitless > _MAX_FRUITLESS:
                raise ClusterError([], f"the watch was reopened {_MAX_FRUITLESS} times in a row "
                                   "and received nothing")
            lines = self._open()  # raises when no member can be reached
            failed = False
            try:
                for line in lines:
                    fruitless = 0
                    msg = self._cursor.accept(parse_watch_line(line))
                    if msg is not None:
                        yield msg
            except (ClusterError, DeadlineExceeded, *_RESUMABLE) as exc:
                if self.closed:  # close() from another thread broke the read
                    return
                failed = not isinstance(exc, DeadlineExceeded)  # silence: maybe just idle
                _log.info("watch stream on %s ended (%s); resuming at revision %d",
                          self.endpoint, exc, self._cursor.start_revision)
            self._drop(failed=failed)
            self.reopens += 1

    def __iter__(self) -> Iterator[Event]:
        """Yield each event, in revision order (raises as :meth:`responses`)."""
        for msg in self.responses():
            yield from msg.events

    def close(self) -> None:
        """Stop the watch (thread-safe, idempotent); the iteration ends."""
        with self._lock:
            self._closed = True
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def __repr__(self) -> str:
        return f"<v3 Watcher at revision {self._cursor.last} on {self.endpoint}>"

