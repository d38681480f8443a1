"""python-etcd3's watches (``etcd3.watch``) on etcdmap's loss-free v3 :class:`~etcdmap.v3.Watcher`.

Each watch added with :meth:`Watcher.add_callback` runs one etcdmap watcher (one stream) on a
daemon thread that calls the callback with a :class:`WatchResponse` per message (events, or
none for a progress notification) or with an exception. As in python-etcd3, ``add_callback``
returns once etcd created the watch (:class:`~etcdmap.compat.etcd3.exceptions.WatchTimedOut`
after the client's ``timeout``), a compacted start revision reaches the callback as
:class:`~etcdmap.compat.etcd3.exceptions.RevisionCompactedError` and ends the watch, and an
exception raised by the callback is logged (logger ``etcd3.watch``) and the watch goes on.

Unlike python-etcd3, whose watches all ended with an error when their one gRPC stream broke
(a member restart), a watch here resumes on its own, from the revision after the last one it
delivered, on the same or another member, without losing or repeating an event; while no
member answers it retries (logging a warning) until it is canceled.

Thread-safety: :class:`Watcher` is thread-safe; callbacks run on their watch's thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from etcdmap.compat.etcd3 import events, utils
from etcdmap.compat.etcd3.etcdrpc import WatchCreateRequest
from etcdmap.compat.etcd3.exceptions import RevisionCompactedError, WatchTimedOut, translate
from etcdmap.errors import ClusterError, DeadlineExceeded
from etcdmap.v3.errors import RevisionCompacted
from etcdmap.v3.models import ResponseHeader
from etcdmap.v3.wire import prefix_end

__all__ = ["Watch", "WatchMethods", "WatchResponse", "Watcher"]

_log = logging.getLogger("etcd3.watch")
_RETRY_MIN, _RETRY_MAX = 0.1, 2.0  # seconds between reopens while no member answers
Filter = Literal["NOPUT", "NODELETE"]


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
    """One watch: an etcdmap watcher read on a daemon thread, reopened while it can resume."""

    def __init__(self, client: Any, key: str | bytes, callback: Callable[[Any], None],
                 options: dict[str, Any]) -> None:
        self._client = client
        self._key = utils.to_bytes(key)
        self._callback = callback
        self._options = options
        self._start = options.pop("start_revision")
        self.created = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._canceled = False
        self._wake = threading.Event()
        self._watcher: Any = None
        self._thread = threading.Thread(target=self._run, name="etcd3_watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        with self._lock:
            self._canceled = True
            watcher, self._watcher = self._watcher, None
        self._wake.set()
        if watcher is not None:
            watcher.close()

    def _deliver(self, item: Any) -> None:
        if self._canceled:
            return
        try:
            self._callback(item)
        except Exception:
            _log.exception("Watch callback failed")

    def _open(self) -> Any:
        watcher = self._client.watch(self._key, start_revision=self._start, **self._options)
        with self._lock:
            if self._canceled:
                watcher.close()
                return None
            self._watcher = watcher
        return watcher

    def _run(self) -> None:
        delay = _RETRY_MIN
        while not self._wake.is_set():  # set by cancel()
            watcher = self._open()
            if watcher is None:
                return
            try:
                for msg in watcher.responses():
                    delay = _RETRY_MIN
                    if msg.created:
                        self.created.set()
                    elif not msg.canceled:
                        self._deliver(WatchResponse(
                            msg.header, [events.new_event(ev) for ev in msg.events]))
                return  # closed
            except RevisionCompacted as exc:
                self._fail(RevisionCompactedError(exc.compact_revision))
                return
            except (ClusterError, DeadlineExceeded) as exc:
                if self._wake.is_set():
                    return
                if not self.created.is_set():
                    self._fail(translate(exc))
                    return
                _log.warning("watch of %r: no member answers (%s); retrying", self._key, exc)
            except Exception as exc:
                self._fail(translate(exc))
                return
            if watcher.revision >= 0:
                self._start = watcher.revision + 1
            self._wake.wait(delay)
            delay = min(delay * 2, _RETRY_MAX)

    def _fail(self, exc: BaseException) -> None:
        if self.created.is_set():
            self._deliver(exc)
        else:
            self.error = exc
            self.created.set()


class Watcher:
    """The watches of one client (``client.watcher``).

    :param client: the :class:`etcdmap.v3.Client`.
    :param timeout: how long :meth:`add_callback` waits for etcd to create a watch
        (``None``: as long as it takes).
    """

    def __init__(self, client: Any, timeout: float | None = None) -> None:
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
        options = {"range_end": None if range_end is None else utils.to_bytes(range_end),
                   "start_revision": int(start_revision or 0),
                   "progress_notify": bool(progress_notify), "filters": _filters(filters),
                   "prev_kv": bool(prev_kv)}
        watch = _OneWatch(self._client, key, callback, options)
        with self._lock:
            watch_id = self._next_id
            self._next_id += 1
            self._watches[watch_id] = watch
        watch.start()
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
