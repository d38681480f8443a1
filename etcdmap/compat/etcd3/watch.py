"""python-etcd3's watches (``etcd3.watch``) on the etcdmap client's hub: each watch is an
:class:`~etcdmap.v3.event_subscription.EventSubscription` (``client.backend.streams
.subscribe_events``), carried with every other watch of the client on one WebSocket per member
-- no thread and no stream per watch, as python-etcd3 multiplexed its watches on one gRPC
stream.

Each message reaches the callback as a :class:`WatchResponse` (events, or none for a progress
notification), in order, on a dispatcher thread of the hub. As in python-etcd3,
``add_callback`` returns once etcd created the watch
(:class:`~etcdmap.compat.etcd3.exceptions.WatchTimedOut` after the client's ``timeout``; an
error before that is raised there), a compacted start revision reaches the callback as
:class:`~etcdmap.compat.etcd3.exceptions.RevisionCompactedError` and ends the watch, and an
exception raised by the callback is logged (logger ``etcd3.watch``) and the watch goes on.

Unlike python-etcd3, whose watches all ended with an error when their one gRPC stream broke
(a member restart), a watch here moves to another member by itself, from the revision after
the last one it delivered, without losing or repeating an event; while no member answers it
keeps trying (logging a warning). A watch that etcd itself refuses or ends (permission denied,
a future revision) gets the error, as python-etcd3 delivered its stream errors, and ends; before
etcd created it, ``add_callback`` raises it (python-etcd3 returned a watch that never fired).

Thread-safety: :class:`Watcher` is thread-safe; a callback may cancel its own watch.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from etcdmap.compat.etcd3 import events, utils
from etcdmap.compat.etcd3.etcdrpc import WatchCreateRequest
from etcdmap.compat.etcd3.exceptions import RevisionCompactedError, WatchTimedOut, translate
from etcdmap.errors import ClusterError
from etcdmap.http.websocket import WebSocketError
from etcdmap.v3.errors import RevisionCompacted, V3Error
from etcdmap.v3.event_subscription import Filter
from etcdmap.v3.models import ResponseHeader
from etcdmap.v3.wire import prefix_end

if TYPE_CHECKING:
    from etcdmap.v3 import Client
    from etcdmap.v3.event_subscription import EventSubscription
    from etcdmap.v3.models import WatchResponse as CoreResponse

__all__ = ["Watch", "WatchMethods", "WatchResponse", "Watcher"]

_log = logging.getLogger("etcd3.watch")

_PASSING = frozenset({1, 2, 4, 8, 10, 13, 14})
"""gRPC codes of errors a watch outlives (canceled, unknown, deadline, too many requests,
aborted, internal, unavailable): it reconnects. etcd's other refusals end it."""


class WatchResponse:
    """One watch message: its header and its events (none: a progress notification)."""

    def __init__(self, header: ResponseHeader, events: list[events.Event]) -> None:
        self.header = header
        self.events = events


class Watch:
    """python-etcd3's handle of a watch ID (kept for code that builds one)."""

    def __init__(self, watch_id: int, iterator: Any = None, etcd_client: Any = None) -> None:
        self.watch_id = watch_id
        self.etcd_client = etcd_client
        self.iterator = iterator

    def cancel(self) -> None:
        """Cancel the watch."""
        self.etcd_client.cancel_watch(self.watch_id)


def _filters(filters: Sequence[Any] | None) -> list[Filter]:
    names: list[Filter] = []
    for f in filters or ():
        name = f if isinstance(f, str) else WatchCreateRequest.FilterType(int(f)).name
        if name not in ("NOPUT", "NODELETE"):
            raise ValueError(f"unknown watch filter {f!r}")
        names.append(name)  # type: ignore[arg-type]
    return names


class _OneWatch:
    """One watch: the sink of its event subscription, calling the callback."""

    def __init__(self, callback: Callable[[Any], None]) -> None:
        self._callback = callback
        self.created = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._ended = False
        self._subscription: EventSubscription | None = None

    def attach(self, subscription: EventSubscription) -> None:
        """The subscription to close when the watch ends (it may have ended already)."""
        with self._lock:
            self._subscription = subscription
            ended = self._ended
        if ended:
            subscription.close()

    def cancel(self) -> None:
        """End the watch: its callback is not called again."""
        with self._lock:
            self._ended = True
            subscription = self._subscription
        if subscription is not None:
            subscription.close()

    def _deliver(self, item: Any) -> None:
        if self._ended:
            return
        try:
            self._callback(item)
        except Exception:
            _log.exception("Watch callback failed")

    def _fail(self, exc: BaseException) -> None:
        """Deliver ``exc`` and end the watch (before ``created``: ``add_callback`` raises it)."""
        if self.created.is_set():
            self._deliver(exc)
        else:
            self.error = exc
            self.created.set()
        self.cancel()

    # ------------------------------------------------------------------ the sink

    def on_created(self, revision: int) -> None:
        self.created.set()

    def on_response(self, response: CoreResponse) -> None:
        self._deliver(WatchResponse(response.header,
                                    [events.new_event(ev) for ev in response.events]))

    def on_history_lost(self, error: BaseException) -> None:
        compacted = error.compact_revision if isinstance(error, RevisionCompacted) else 0
        self._fail(RevisionCompactedError(compacted))

    def on_error(self, error: BaseException) -> None:
        if isinstance(error, V3Error) and error.grpc_code not in _PASSING:
            self._fail(translate(error))  # etcd refused the watch
        elif not self.created.is_set() and not _reopening(error):
            self._fail(translate(error))  # no member to create it on
        else:
            _log.warning("watch: %s; it goes on as soon as a member answers", error)


def _reopening(error: BaseException) -> bool:
    """Whether ``error`` is a member's WebSocket that broke or is being reopened (the watch
    goes on at once), rather than no member reached."""
    return isinstance(error, ClusterError) and any(
        isinstance(cause, WebSocketError) for _, cause in error.errors)


class Watcher:
    """The watches of one client (``client.watcher``).

    :param client: the :class:`etcdmap.v3.Client`.
    :param timeout: how long :meth:`add_callback` waits for etcd to create a watch
        (``None``: as long as it takes).
    """

    def __init__(self, client: Client, timeout: float | None = None) -> None:
        self.timeout = timeout
        self._client = client
        self._lock = threading.Lock()
        self._watches: dict[int, _OneWatch] = {}
        self._next_id = 0

    def add_callback(  # noqa: PLR0917 - python-etcd3's positional signature
            self, key: str | bytes, callback: Callable[[Any], None],
                     range_end: str | bytes | None = None, start_revision: int | None = None,
                     progress_notify: bool = False, filters: Sequence[Any] | None = None,
                     prev_kv: bool = False) -> int:
        """Watch a key (or ``[key, range_end)``) and call ``callback`` with each response.

        :returns: the watch ID, for :meth:`cancel`.
        :raises WatchTimedOut: etcd did not create the watch within the timeout.
        :raises ConnectionFailedError: no member could be reached.
        """
        names = _filters(filters)
        watch = _OneWatch(callback)
        with self._lock:
            watch_id = self._next_id
            self._next_id += 1
            self._watches[watch_id] = watch
        watch.attach(self._client.backend.streams.subscribe_events(
            utils.to_bytes(key), watch,
            range_end=None if range_end is None else utils.to_bytes(range_end),
            start_revision=int(start_revision or 0), prev_kv=bool(prev_kv), filters=names,
            progress_notify=bool(progress_notify)))
        if not watch.created.wait(self.timeout) or watch.error is not None:
            self.cancel(watch_id)
            if watch.error is not None:
                raise watch.error
            raise WatchTimedOut()
        return watch_id

    def cancel(self, watch_id: int) -> None:
        """Stop a watch (an unknown ID is ignored); its callback is not called again."""
        with self._lock:
            watch = self._watches.pop(watch_id, None)
        if watch is not None:
            watch.cancel()

    def close(self) -> None:
        """Cancel every watch."""
        with self._lock:
            watches, self._watches = list(self._watches.values()), {}
        for watch in watches:
            watch.cancel()


class WatchMethods:
    """The iterator and one-shot watches of the client, on its callbacks (a mixin)."""

    add_watch_callback: Callable[..., int]
    cancel_watch: Callable[[int], None]

    def watch_response(self, key: str | bytes, **kwargs: Any) -> tuple[Iterator[WatchResponse],
                                                                         Callable[[], None]]:
        """Watch a key: ``(responses_iterator, cancel)``."""
        responses: queue.Queue[Any] = queue.Queue()
        watch_id = self.add_watch_callback(key, responses.put, **kwargs)
        canceled = threading.Event()

        def cancel() -> None:
            canceled.set()
            responses.put(None)
            self.cancel_watch(watch_id)

        def iterator() -> Iterator[WatchResponse]:
            while not canceled.is_set():
                response = responses.get()
                if response is None:
                    canceled.set()
                elif isinstance(response, Exception):
                    canceled.set()
                    out = translate(response)
                    raise out from (None if out is response else response)
                else:
                    yield response

        return iterator(), cancel

    def watch(self, key: str | bytes, **kwargs: Any) -> tuple[Iterator[Any], Callable[[], None]]:
        """Watch a key: ``(events_iterator, cancel)``."""
        responses, cancel = self.watch_response(key, **kwargs)
        return utils.response_to_event_iterator(responses), cancel

    def watch_prefix_response(self, key_prefix: str | bytes, **kwargs: Any) -> tuple[
            Iterator[WatchResponse], Callable[[], None]]:
        """Watch every key under a prefix: ``(responses_iterator, cancel)``."""
        kwargs["range_end"] = prefix_end(utils.to_bytes(key_prefix))
        return self.watch_response(key_prefix, **kwargs)

    def watch_prefix(self, key_prefix: str | bytes, **kwargs: Any) -> tuple[Iterator[Any],
                                                                          Callable[[], None]]:
        """Watch every key under a prefix: ``(events_iterator, cancel)``."""
        kwargs["range_end"] = prefix_end(utils.to_bytes(key_prefix))
        return self.watch(key_prefix, **kwargs)

    def watch_once_response(self, key: str | bytes, timeout: float | None = None,
                            **kwargs: Any) -> WatchResponse:
        """The first watch response for a key.

        :raises WatchTimedOut: none within ``timeout`` seconds.
        """
        responses: queue.Queue[Any] = queue.Queue()
        watch_id = self.add_watch_callback(key, responses.put, **kwargs)
        try:
            response = responses.get(timeout=timeout)
        except queue.Empty:
            raise WatchTimedOut() from None
        finally:
            self.cancel_watch(watch_id)
        if isinstance(response, Exception):
            raise response
        result: WatchResponse = response
        return result

    def watch_once(self, key: str | bytes, timeout: float | None = None, **kwargs: Any) -> Any:
        """The first event on a key.

        :raises WatchTimedOut: none within ``timeout`` seconds.
        """
        return self.watch_once_response(key, timeout=timeout, **kwargs).events[0]

    def watch_prefix_once_response(self, key_prefix: str | bytes, timeout: float | None = None,
                                   **kwargs: Any) -> WatchResponse:
        """The first watch response under a prefix."""
        kwargs["range_end"] = prefix_end(utils.to_bytes(key_prefix))
        return self.watch_once_response(key_prefix, timeout=timeout, **kwargs)

    def watch_prefix_once(self, key_prefix: str | bytes, timeout: float | None = None,
                          **kwargs: Any) -> Any:
        """The first event under a prefix."""
        kwargs["range_end"] = prefix_end(utils.to_bytes(key_prefix))
        return self.watch_once(key_prefix, timeout=timeout, **kwargs)
