"""``Pinning``: a client's endpoints in failover order, the one pinned, and its cluster id.

The endpoints are shuffled once (clients spread over the members) and one is pinned: every
call starts there and goes round the ring from it. A success elsewhere pins that endpoint; an
ambiguous failure pins the next one (the Go client's etcd-io/etcd#8515: a member that timed
out is likely to time out again). The first ``X-Etcd-Cluster-Id`` seen is the cluster's: a
member answering another id was never reached.

Thread-safety: thread-safe; the lock is held for bookkeeping only (never across I/O), so it is
safe on an event loop as well.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence

from etcdmap.errors import EtcdMapError, NoEndpointsError
from etcdmap.http.attempt import AttemptError
from etcdmap.http.endpoints import normalize_endpoint, split_endpoints

__all__ = ["Pinning"]


class Pinning:
    """The endpoints of a client, one of them pinned.

    :param endpoints: one URL or a sequence (validated by :func:`normalize_endpoint`).
    :raises NoEndpointsError: no endpoint given.
    :raises ValueError: an endpoint is not a valid http(s) URL.
    """

    def __init__(self, endpoints: str | Sequence[str]) -> None:
        self._lock = threading.Lock()
        self._endpoints: list[str] = []
        self._pinned = 0
        self._cluster_id: str | None = None
        self.set_endpoints(endpoints)

    @property
    def endpoints(self) -> list[str]:
        """A copy of the endpoint list (in the shuffled order used for failover)."""
        with self._lock:
            return list(self._endpoints)

    @property
    def pinned(self) -> str:
        """The endpoint tried first by the next call."""
        with self._lock:
            return self._endpoints[self._pinned]

    @property
    def cluster_id(self) -> str | None:
        """The first ``X-Etcd-Cluster-Id`` seen; members answering another id count as failed."""
        return self._cluster_id

    def set_endpoints(self, endpoints: str | Sequence[str]) -> None:
        """Replace the endpoints, shuffle them and pin a random one.

        :raises NoEndpointsError: the list is empty (the old list is kept).
        :raises ValueError: an endpoint is invalid (the old list is kept).
        """
        clean = list(dict.fromkeys(  # no duplicates
            normalize_endpoint(ep) for ep in split_endpoints(endpoints)))
        if not clean:
            raise NoEndpointsError("no etcd endpoint given")
        random.shuffle(clean)
        with self._lock:
            self._endpoints = clean
            self._pinned = 0

    def pin(self, endpoint: str) -> None:
        """Pin ``endpoint`` (must be one of :attr:`endpoints`; others are ignored)."""
        with self._lock:
            if endpoint in self._endpoints:
                self._pinned = self._endpoints.index(endpoint)

    def unpin(self, endpoint: str) -> None:
        """Move the pin to the next member if ``endpoint`` is pinned (it failed a liveness
        check: the next call should not start there)."""
        with self._lock:
            if self._endpoints[self._pinned] == endpoint:
                self._pinned = (self._pinned + 1) % len(self._endpoints)

    def pin_after(self, endpoint: str) -> None:
        """Pin the member after ``endpoint`` (an ambiguous failure there: etcd-io/etcd#8515)."""
        with self._lock:
            if endpoint in self._endpoints:
                self._pinned = (self._endpoints.index(endpoint) + 1) % len(self._endpoints)

    def order(self, endpoint: str | None = None) -> list[str]:
        """The endpoints a call tries, pinned first (just ``endpoint`` when one is given).

        :raises ValueError: ``endpoint`` is not a valid URL.
        """
        if endpoint is not None:
            return [normalize_endpoint(endpoint)]
        with self._lock:
            eps, pinned = self._endpoints, self._pinned
        return eps[pinned:] + eps[:pinned]

    def foreign_cluster(self, endpoint: str, headers: Mapping[str, str]) -> AttemptError | None:
        """The failure of an answer from a member of another cluster (the first
        ``X-Etcd-Cluster-Id`` seen is ours), else ``None``."""
        cid = headers.get("X-Etcd-Cluster-Id")
        if not cid:
            return None
        if self._cluster_id is None:
            with self._lock:
                if self._cluster_id is None:
                    self._cluster_id = cid
        if cid == self._cluster_id:
            return None
        return AttemptError(  # it did not reach *our* cluster
            EtcdMapError(f"{endpoint} belongs to cluster {cid}, not {self._cluster_id}"),
            sent=False,
        )
