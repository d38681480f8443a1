"""Keep the client's endpoint list in step with the cluster: ``sync``, ``auto_sync`` and
leader pinning (``Selection.PRIORITIZE_LEADER``).

- :func:`sync` replaces the endpoints with the members' client URLs (Go client: etcd-io/etcd
  release-3.5:client/v2/client.go, ``Sync``). On any error
  the old list is kept; a cluster that publishes no client URL is refused with a clear error
  (members advertise what ``--advertise-client-urls`` says).
- :class:`AutoSync` runs :func:`sync` in a daemon thread every ``interval`` seconds. Unlike the
  Go client's ``AutoSync`` it does not stop at the first error: failures are logged on the
  ``etcdmap.sync`` logger and the next tick tries again.
- :class:`LeaderTracker` re-syncs in the background when the pinned leader fails, so
  ``PRIORITIZE_LEADER`` follows a new leader (the Go client's ``client/v2/client.go`` does not).

Log records never contain credentials: the transport keeps them out of URLs and errors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from etcdmap._closing import Closing
from etcdmap.errors import EtcdMapError, NoEndpointsError, NoLeaderEndpointError
from etcdmap.http.transport import Transport, normalize_endpoint
from etcdmap.models import Selection
from etcdmap.v2.members import MembersAPI
from etcdmap.v2.models import Member

__all__ = ["AutoSync", "LeaderTracker", "client_urls", "sync"]

log = logging.getLogger("etcdmap.sync")


def client_urls(members: Iterable[Member]) -> list[str]:
    """Every member's usable client URLs, normalised, in member order, without duplicates.

    Members that have not started yet (no client URL) contribute nothing; URLs the transport
    cannot use (e.g. ``unix://`` sockets) are skipped.
    """
    urls: list[str] = []
    for member in members:
        for raw in member.client_urls:
            try:
                url = normalize_endpoint(raw)
            except ValueError:
                log.debug("sync: skipping client URL %r of member %s", raw, member.id)
                continue
            if url not in urls:
                urls.append(url)
    return urls


def sync(transport: Transport, selection: Selection = Selection.RANDOM) -> list[str]:
    """Refresh the transport's endpoints from the cluster's membership.

    With :attr:`Selection.RANDOM`, an unchanged set of URLs changes nothing (the pin stays);
    a changed set replaces the list (and picks a new random pin). With
    :attr:`Selection.PRIORITIZE_LEADER`, the list is replaced and the leader's first client URL
    is pinned.

    :param transport: the client's transport.
    :param selection: the client's selection mode.
    :returns: the new endpoint list.
    :raises NoEndpointsError: the members publish no client URL (endpoints unchanged).
    :raises NoLeaderEndpointError: leader mode, and the leader or its client URL could not be
        found; the message says why (endpoints unchanged).
    :raises EtcdMapError: listing the members failed (endpoints unchanged).
    """
    api = MembersAPI(transport)
    urls = client_urls(api.list())
    if not urls:
        raise NoEndpointsError(
            "sync: the cluster publishes no client URLs (check each member's "
            "--advertise-client-urls); keeping the current endpoints"
        )
    if selection is Selection.PRIORITIZE_LEADER:
        try:
            leader = api.leader()
        except EtcdMapError as exc:
            raise NoLeaderEndpointError(f"sync: cannot find the leader: {exc}") from exc
        if not leader.client_urls:
            raise NoLeaderEndpointError(
                f"sync: the leader {leader.name or leader.id} publishes no client URL"
            )
        try:
            pin = normalize_endpoint(leader.client_urls[0])
        except ValueError as exc:
            raise NoLeaderEndpointError(
                f"sync: the leader's client URL is unusable: {exc}"
            ) from exc
        if pin not in urls:
            urls.append(pin)
        transport.set_endpoints(urls)
        transport.pin(pin)
        return transport.endpoints
    if sorted(urls) != sorted(transport.endpoints):
        transport.set_endpoints(urls)
    return transport.endpoints


class AutoSync(Closing):
    """The handle returned by ``client.auto_sync(interval)``: a background sync loop.

    The first sync runs at once (in the thread), then one every ``interval`` seconds. A failed
    sync is logged (logger ``etcdmap.sync``, level WARNING) and retried at the next tick.
    Use :meth:`stop`, or the handle as a context manager. Thread-safe.

    :param sync: the function to call (normally ``client.sync``).
    :param interval: seconds between syncs (> 0).
    :raises ValueError: a non-positive interval.
    """

    def __init__(self, sync: Callable[[], object], interval: float) -> None:
        if not interval > 0:
            raise ValueError(f"auto_sync interval must be > 0 seconds, got {interval!r}")
        self._sync = sync
        self._interval = float(interval)
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._syncs = 0
        self._failures = 0
        self._last_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="etcdmap-auto-sync", daemon=True)

    def start(self) -> AutoSync:
        """Start the thread (``client.auto_sync`` does it). :returns: ``self``."""
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._sync()
            # The loop must survive any failure of one sync (the cluster may be down for a
            # while); the error is logged and kept in last_error.
            except Exception as exc:
                with self._lock:
                    self._failures += 1
                    self._last_error = exc
                log.warning("etcdmap auto-sync failed (retrying in %.3gs): %s", self._interval, exc)
            else:
                with self._lock:
                    self._syncs += 1
                    self._last_error = None
                log.debug("etcdmap auto-sync done")
            self._stopped.wait(self._interval)

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread.is_alive()

    @property
    def syncs(self) -> int:
        """How many syncs succeeded."""
        with self._lock:
            return self._syncs

    @property
    def failures(self) -> int:
        """How many syncs failed."""
        with self._lock:
            return self._failures

    @property
    def last_error(self) -> BaseException | None:
        """The error of the last sync, ``None`` if it succeeded (or none ran yet)."""
        with self._lock:
            return self._last_error

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the loop and wait (up to ``timeout`` s) for a sync in progress to finish.

        Idempotent; safe to call from any thread, including a sync callback.
        """
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def close(self) -> None:
        """:meth:`stop` with its default timeout (what leaving a ``with`` block does)."""
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<AutoSync every {self._interval:g}s, {state}, {self.syncs} syncs>"


class LeaderTracker:
    """Follow the leader for ``Selection.PRIORITIZE_LEADER``.

    The transport calls :meth:`endpoint_failed` when an attempt on an endpoint fails
    (connection error, timeout, 5xx). When that endpoint is the pinned leader, a background
    thread re-syncs (with backoff, for up to ``retry_for`` seconds: an election takes a
    moment) so the new leader gets pinned. Meanwhile requests fail over as usual.
    Thread-safe; at most one re-sync thread runs at a time.

    :param sync: the function that syncs and pins the leader (normally ``client.sync``).
    :param transport: the transport whose pin is followed.
    :param retry_for: how long to keep trying after a leader loss.
    :param settle: seconds after which the leader found is confirmed by one more sync.
    """

    def __init__(
        self,
        sync: Callable[[], object],
        transport: Transport,
        *,
        retry_for: float = 30.0,
        settle: float = 1.0,
    ) -> None:
        self._sync = sync
        self._transport = transport
        self._retry_for = retry_for
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self._leader = ""
        self._settle = settle
        self.resyncs = 0
        """How many re-syncs succeeded after a leader loss."""

    @property
    def leader(self) -> str:
        """The leader URL pinned by the last sync (``""`` before the first)."""
        with self._lock:
            return self._leader

    def leader_pinned(self, url: str) -> None:
        """Record the leader URL a sync has just pinned."""
        with self._lock:
            self._leader = url

    def endpoint_failed(self, endpoint: str, error: BaseException) -> None:
        """Transport hook: an attempt on ``endpoint`` failed with ``error``."""
        if self._closed.is_set():
            return
        with self._lock:
            if not self._leader or endpoint.rstrip("/") != self._leader.rstrip("/"):
                return
            if self._thread is not None and self._thread.is_alive():
                return
            log.info("etcdmap: pinned leader %s failed (%s); re-syncing", endpoint, error)
            self._thread = threading.Thread(
                target=self._resync, args=(self._leader,), name="etcdmap-leader-resync", daemon=True
            )
            self._thread.start()

    def _resync(self, failed: str) -> None:
        # Followers keep naming the old leader until their election timeout runs out, so a
        # sync that pins the failed member again does not count: retry until the deadline.
        deadline = time.monotonic() + self._retry_for
        delay = 0.1
        while not self._closed.is_set():
            problem: BaseException | None = None
            try:
                self._sync()
            except Exception as exc:  # keep trying until the deadline
                problem = exc
            if problem is None and self.leader == failed:
                problem = NoLeaderEndpointError(f"the members still name {failed} as leader")
            if problem is None:
                with self._lock:
                    self.resyncs += 1
                log.info("etcdmap: now pinned to leader %s", self._transport.pinned)
                self._confirm()
                return
            if time.monotonic() + delay > deadline:
                log.warning("etcdmap: could not find the new leader: %s", problem)
                return
            log.debug("etcdmap: leader re-sync failed, retrying: %s", problem)
            self._closed.wait(delay)
            delay = min(delay * 2, 1.0)

    def _confirm(self) -> None:
        # Right after an election leadership sometimes moves once more (a candidate with a
        # higher term): sync once more a moment later, best effort.
        if self._closed.wait(self._settle):
            return
        try:
            self._sync()
        except Exception as exc:  # best effort: the pin from the first sync stays
            log.debug("etcdmap: confirming the leader failed: %s", exc)

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop following (a re-sync in progress ends at its next retry)."""
        self._closed.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)
