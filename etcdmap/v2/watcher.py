"""The low-level long-poll :class:`Watcher` returned by ``client.keys.watcher()``.

One ``next()`` is one event. Index bookkeeping follows the Go ``httpWatcher`` (etcd-io/etcd
release-3.5:client/v2/keys.go):

- ``after_index=N`` watches from ``waitIndex=N+1``; ``after_index=0`` means "after the current
  index": the first poll's ``X-Etcd-Index`` header (the index when the watch started; etcd-io/etcd
  release-3.4:Documentation/v2/api.md)
  fixes ``waitIndex`` to that index + 1, so a re-poll never skips an event.
- an empty 200 (the server or a proxy closed the poll early) re-polls the same index;
- after an event, the next poll starts at ``node.modified_index + 1``;
- :class:`~etcdmap.errors.EventIndexCleared` (etcd's 1,000-event history no longer holds the
  index) is raised with ``.index`` = the current store index, and the watcher does not move:
  re-read the key, then watch again with ``after_index=err.index``.

Unlike the Go watcher, each poll is bounded by ``poll_timeout``: when nothing arrives in that
time the same ``waitIndex`` is re-polled. etcd answers a watch's headers at once, so a member
that does not (SIGSTOPped, hung) within ``min(request_timeout, poll_timeout)``, refuses the
connection or breaks it is left for the next endpoint, with the same ``waitIndex``: no event
is lost. A stopped member is thus noticed within about ``poll_timeout + request_timeout``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from etcdmap.errors import ClusterError, DeadlineExceeded, WatcherClosed
from etcdmap.v2 import wire as _wire
from etcdmap.v2.models import Response

if TYPE_CHECKING:
    from etcdmap.http.transport import StreamResponse, Transport

__all__ = ["DEFAULT_POLL_TIMEOUT", "Watcher", "WatcherClosed", "watch_params"]

DEFAULT_POLL_TIMEOUT = 10.0
"""Seconds one long poll waits for an event before it is re-issued (which checks the member)."""


def watch_params(*, recursive: bool, wait_index: int) -> list[tuple[str, str]]:
    """The query of one long poll: ``recursive=<b>&wait=true&waitIndex=<n>`` (etcd-io/etcd
    release-3.5:client/v2/keys.go, ``waitAction``)."""
    return [
        ("recursive", "true" if recursive else "false"),
        ("wait", "true"),
        ("waitIndex", str(wait_index)),
    ]


class Watcher:
    """Yields the etcd events on a key (or a subtree) one by one, without losing any.

    Use :meth:`next` (or iterate) from one thread at a time; :meth:`close` may be called from
    any thread to abort a waiting :meth:`next`.

    :param transport: the client's transport.
    :param key: the key or directory to watch.
    :param after_index: deliver events whose index is greater than this (``0``: from now).
    :param recursive: include every key below ``key``.
    :param poll_timeout: seconds one poll waits for an event before it is re-issued (which
        checks that the member still answers).
    :param prefix: the keys API prefix.
    :raises TypeError: wrong argument types.
    :raises ValueError: a negative ``after_index`` or a non-positive ``poll_timeout``.
    """

    def __init__(
        self,
        transport: Transport,
        key: str,
        *,
        after_index: int = 0,
        recursive: bool = False,
        poll_timeout: float = DEFAULT_POLL_TIMEOUT,
        prefix: str = _wire.KEYS_PREFIX,
    ) -> None:
        _wire.check_index(after_index, "after_index")
        if not isinstance(recursive, bool):
            raise TypeError("recursive must be a bool")
        if not poll_timeout > 0:
            raise ValueError("poll_timeout must be > 0")
        self.transport = transport
        self.key = key
        self.recursive = recursive
        self.poll_timeout = float(poll_timeout)
        self._path = _wire.key_path(key, prefix)
        self.wait_index = after_index + 1 if after_index > 0 else 0
        """The ``waitIndex`` of the next poll (``0`` until the first poll fixes it)."""
        self.endpoint: str | None = None
        """The endpoint the watcher polls (``None``: the transport's pinned one)."""
        self._closed = False
        self._lock = threading.Lock()
        self._stream: StreamResponse | None = None

    def _next_endpoint(self) -> None:
        endpoints = self.transport.endpoints
        current = self.endpoint
        if current in endpoints:
            self.endpoint = endpoints[(endpoints.index(current) + 1) % len(endpoints)]
        else:
            self.endpoint = endpoints[0]

    def next(self, timeout: float | None = None) -> Response:
        """Wait for the next event.

        :param timeout: seconds to wait in all (across re-polls and endpoints); ``None`` waits
            until an event comes.
        :returns: the event (``action``, ``node``, ``prev_node``; ``index`` is the watch's
            start index, use ``node.modified_index`` for the event's).
        :raises DeadlineExceeded: ``timeout`` ran out (also a :class:`TimeoutError`).
        :raises EventIndexCleared: the index fell out of etcd's history; ``.index`` = current.
        :raises ClusterError: every endpoint refused the connection in a row.
        :raises WatcherClosed: :meth:`close` was called.
        :raises EtcdError: another etcd error (e.g. ``Unauthorized``).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        failures: list[tuple[str, BaseException]] = []
        while True:
            if self._closed:
                raise WatcherClosed("the watcher is closed")
            poll = self.poll_timeout
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeadlineExceeded(f"no event on {self.key!r} within {timeout} s")
                poll = min(poll, remaining)
            if self.endpoint is None:
                self.endpoint = self.transport.pinned
            params = watch_params(recursive=self.recursive, wait_index=self.wait_index)
            try:
                stream = self.transport.stream(
                    self._path, params, read_timeout=poll, timeout=poll, endpoint=self.endpoint
                )
            except DeadlineExceeded:
                self._next_endpoint()  # no headers within the poll: a stopped member
                continue
            except ClusterError as exc:
                failures.extend(exc.errors)
                if len(failures) >= len(self.transport.endpoints):
                    raise ClusterError(failures, "no endpoint accepts the watch") from exc
                self._next_endpoint()
                continue
            failures.clear()
            event = self._read(stream)
            if event is not None:
                return event

    def _read(self, stream: StreamResponse) -> Response | None:
        with self._lock:
            if self._closed:
                stream.close()
                raise WatcherClosed("the watcher is closed")
            self._stream = stream
        try:
            if stream.status != 200:
                body = stream.read()
                _wire.decode_response(stream.status, stream.headers, body, stream.endpoint)
            if self.wait_index == 0:
                self.wait_index = _wire.parse_index(stream.headers, stream.endpoint) + 1
            try:
                body = stream.read()
            except DeadlineExceeded:
                if self._closed:
                    raise WatcherClosed("the watcher is closed") from None
                # Idle, or the member stopped mid-poll: re-poll it. etcd sends a watch's
                # headers at once, so a stopped member fails that re-poll's header wait and
                # the watcher moves on then.
                return None
            except ClusterError:
                if self._closed:
                    raise WatcherClosed("the watcher is closed") from None
                self._next_endpoint()  # the connection broke: re-poll elsewhere
                return None
            if not body.strip():
                if self._closed:
                    raise WatcherClosed("the watcher is closed")
                # closed early (etcd-io/etcd release-3.5:server/etcdserver/api/v2http/client.go,
                # ``handleKeyWatch``): re-poll the same index
                return None
            event = _wire.decode_response(stream.status, stream.headers, body, stream.endpoint)
        finally:
            with self._lock:
                self._stream = None
            stream.close()
        if event.node is not None and event.node.modified_index:
            self.wait_index = event.node.modified_index + 1
        return event

    def close(self) -> None:
        """Stop the watcher: a :meth:`next` blocked in another thread raises :class:`WatcherClosed`.

        Thread-safe and idempotent.
        """
        with self._lock:
            self._closed = True
            stream = self._stream
        if stream is not None:
            stream.close()

    def __iter__(self) -> Iterator[Response]:
        """Yield events forever (``next(timeout=None)``) until :meth:`close`."""
        while True:
            try:
                yield self.next()
            except WatcherClosed:
                return

    def __repr__(self) -> str:
        return (
            f"<Watcher {self.key!r} recursive={self.recursive} wait_index={self.wait_index} "
            f"endpoint={self.endpoint!r}>"
        )
