"""Keep a key alive: refresh its TTL periodically (:meth:`etcdmap.EtcdMap.keep_alive`).

On a client with a watch hub (v2 and v3) the refreshes run on the hub's timers and workers:
no thread per kept-alive key (on v3 each refresh is one renewal of the key's lease on the
member's keep-alive WebSocket, :mod:`etcdmap.v3.lease_stream`). Elsewhere (the memory
backend) a daemon thread per key does it.

A :class:`KeepAlive` never dies silently. When it gives up it stores the exception in
:attr:`KeepAlive.error`, logs it on the ``etcdmap.keepalive`` logger, calls the optional
``on_error`` callback, and raises it from :meth:`KeepAlive.stop` (and so from the ``with``
block's exit).

Failure policy:

* transient failures (:class:`~etcdmap.errors.ClusterError`,
  :class:`~etcdmap.errors.DeadlineExceeded`, :class:`~etcdmap.errors.AmbiguousResultError`,
  :class:`~etcdmap.errors.RaftInternal`, :class:`~etcdmap.errors.LeaderElect`) are retried
  quickly for as long as the key cannot have expired yet (less than ``ttl`` seconds since the
  last successful refresh was sent);
* anything else — the key was deleted or expired (:class:`~etcdmap.errors.KeyNotFound`), a
  directory TTL on etcd 3.5 (:class:`~etcdmap.errors.DirectoryTTLUnsupported`), a permission
  error — ends the keep-alive at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    DeadlineExceeded,
    DirectoryTTLUnsupported,
    LeaderElect,
    RaftInternal,
)

if TYPE_CHECKING:
    from etcdmap.http.hub import StreamHub, Timer
    from etcdmap.http.liveness import Liveness

__all__ = ["HubOwner", "KeepAlive"]


@runtime_checkable
class HubOwner(Protocol):
    """A backend with a client's watch hub (v2, v3): keep-alives run on its timers."""

    def hub(self) -> tuple[StreamHub, Liveness]:
        """The client's watch hub and its member checks."""

log = logging.getLogger("etcdmap.keepalive")

_TRANSIENT = (ClusterError, DeadlineExceeded, AmbiguousResultError, RaftInternal, LeaderElect)
_RETRY_DELAY = 0.2  # seconds between retries of a transient failure (capped by the interval)


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT) and not isinstance(exc, DirectoryTTLUnsupported)


class KeepAlive:
    """Refresh a TTL periodically until stopped (on a hub's timers, or a daemon thread).

    Usually made by :meth:`etcdmap.EtcdMap.keep_alive`; usable as a context manager::

        with m.keep_alive("leader", ttl=10) as ka:   # refreshes every 10/3 s
            ...                                       # ka.alive, ka.error
        # leaving the block stops it; raises ka.error if the keep-alive failed

    :meth:`start` refreshes once in the calling thread, so a missing key or an unsupported
    directory TTL raises right there and no thread is started.

    Thread-safety: :meth:`start` and :meth:`stop` may be called from any thread (``stop`` is
    idempotent); the properties are safe to read from any thread.

    :param refresh: performs one refresh (e.g. ``lambda: m.refresh(key, ttl)``); raises on failure.
    :param ttl: the TTL in seconds that each refresh sets.
    :param interval: seconds between refreshes; default ``ttl / 3``. Must be below ``ttl``.
    :param on_error: called once, in the keep-alive thread, with the exception that ended it.
        Exceptions it raises are logged and ignored.
    :param name: what is kept alive, for the thread name and log messages.
    :param hub: a client's watch hub: refresh on its timers and workers instead of a thread.
    :raises ValueError: ``ttl`` or ``interval`` is not positive, or ``interval >= ttl``.
    """

    def __init__(
        self,
        refresh: Callable[[], object],
        ttl: float,
        *,
        interval: float | None = None,
        on_error: Callable[[BaseException], object] | None = None,
        name: str = "",
        hub: StreamHub | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be positive, got {ttl!r}")
        if interval is None:
            interval = ttl / 3
        if not 0 < interval < ttl:
            raise ValueError(f"interval must be positive and below ttl={ttl}, got {interval!r}")
        self._refresh = refresh
        self._ttl = ttl
        self._interval = interval
        self._on_error = on_error
        self._name = name or repr(refresh)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._hub = hub
        self._timer: Timer | None = None
        self._started = False
        self._idle = threading.Event()  # no refresh of the hub's in flight
        self._idle.set()
        self._tick_thread = 0
        self._last_ok_sent = 0.0
        self._error: BaseException | None = None
        self._refreshes = 0

    # ------------------------------------------------------------------ public API

    @property
    def name(self) -> str:
        """What is kept alive (usually the absolute key)."""
        return self._name

    @property
    def interval(self) -> float:
        """Seconds between refreshes."""
        return self._interval

    @property
    def error(self) -> BaseException | None:
        """The exception that ended the keep-alive, or ``None``."""
        return self._error

    @property
    def alive(self) -> bool:
        """``True`` while it runs (started, not stopped) and no refresh has failed for good."""
        if self._hub is not None:
            return self._started and not self._stopping.is_set() and self._error is None
        thread = self._thread
        return thread is not None and thread.is_alive() and self._error is None

    @property
    def refreshes(self) -> int:
        """How many refreshes succeeded so far (including the one made by :meth:`start`)."""
        return self._refreshes

    def start(self) -> KeepAlive:
        """Refresh once now, then go on in the background (hub timers, or a thread).

        :returns: ``self``.
        :raises RuntimeError: already started.
        :raises EtcdMapError: the first refresh failed (nothing is started then).
        """
        with self._lock:
            if self._started:
                raise RuntimeError(f"keep-alive of {self._name} was already started")
            sent = time.monotonic()
            self._refresh()
            self._refreshes += 1
            self._last_ok_sent = sent
            self._started = True
            if self._hub is not None:
                self._schedule(self._interval)
            else:
                self._thread = threading.Thread(
                    target=self._run, name=f"etcdmap-keepalive {self._name}", daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop refreshing and wait for the thread to end. Idempotent.

        The key is left as it is: it expires ``ttl`` seconds after the last refresh unless
        something else refreshes or deletes it.

        :param timeout: how long to wait for an in-flight refresh to finish (``None``: forever).
        :raises BaseException: the exception that ended the keep-alive, if any (see :attr:`error`).
        """
        self._stopping.set()
        timer = self._timer
        if timer is not None:
            timer.cancel()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if self._hub is not None and not self._ticking():
            self._idle.wait(timeout)
        if self._error is not None:
            raise self._error

    def __enter__(self) -> KeepAlive:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.stop()
            return
        # An exception is already propagating: stop without masking it (a keep-alive failure
        # stays visible in .error and in the log).
        try:
            self.stop()
        except Exception:  # already logged by _fail; keep the original exception
            log.debug("keep-alive of %s had failed as well", self._name)

    def __repr__(self) -> str:
        state = "failed" if self._error else "alive" if self.alive else "stopped"
        return f"<KeepAlive {self._name} ttl={self._ttl} interval={self._interval:g} {state}>"

    # ------------------------------------------------------------------ the refreshes

    def _tick(self) -> float | None:
        """One refresh. :returns: the delay to the next, ``None`` when it failed for good."""
        sent = time.monotonic()
        try:
            self._refresh()
        except Exception as exc:  # every failure is reported, none is lost
            if _is_transient(exc) and time.monotonic() - self._last_ok_sent < self._ttl:
                log.warning("keep-alive of %s: refresh failed, retrying: %s", self._name, exc)
                return min(self._interval, _RETRY_DELAY)
            self._fail(exc)
            return None
        self._last_ok_sent = sent
        self._refreshes += 1
        return self._interval

    def _run(self) -> None:
        """The thread (without a hub)."""
        delay: float | None = self._interval
        while delay is not None and not self._stopping.wait(delay):
            delay = self._tick()

    def _schedule(self, delay: float) -> None:
        hub = self._hub
        assert hub is not None
        self._timer = hub.call_later(delay, lambda: hub.workers.submit(self._hub_tick))

    def _ticking(self) -> bool:
        """Whether this thread runs a refresh of this keep-alive (``stop`` from ``on_error``)."""
        return self._tick_thread == threading.get_ident()

    def _hub_tick(self) -> None:
        """On a hub worker: one refresh, then the next timer."""
        if self._stopping.is_set():
            return
        self._idle.clear()
        self._tick_thread = threading.get_ident()
        try:
            delay = self._tick()
            if delay is not None and not self._stopping.is_set():
                self._schedule(delay)
        finally:
            self._tick_thread = 0
            self._idle.set()

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        log.error("keep-alive of %s stopped: %s", self._name, exc, exc_info=exc)
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:
                log.exception("keep-alive of %s: the on_error callback failed", self._name)
