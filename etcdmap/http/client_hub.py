"""A client's watch hub and its member checks, made on first use (shared by the v2 and v3
backends): one :class:`~etcdmap.http.hub.StreamHub` and one
:class:`~etcdmap.http.liveness.Liveness` per client.

Thread-safety: every method may be called from any thread.
"""

from __future__ import annotations

import json
import threading

from etcdmap.errors import EtcdMapError
from etcdmap.http.hub import StreamHub
from etcdmap.http.liveness import Checker, Liveness
from etcdmap.http.transport import Transport

__all__ = ["ClientHub", "health_check"]


def health_check(transport: Transport) -> Checker:
    """The liveness check of etcd members: ``GET /health`` of one member, bounded by the
    check's timeout. etcd answers 503 / ``{"health": "false"}`` on a member without a leader
    (etcd-io/etcd release-3.5:server/etcdserver/api/etcdhttp/metrics.go), so a partitioned
    member fails it like a frozen or dead one.

    :returns: ``checker(endpoint, timeout)``: ``None`` when healthy, else the reason.
    """

    def check(endpoint: str, timeout: float) -> str | None:
        try:
            result = transport.request("GET", "/health", endpoint=endpoint, timeout=timeout,
                                       request_timeout=timeout)
        except EtcdMapError as exc:  # no answer, or a 5xx (503: no leader)
            return str(exc)
        if result.status != 200:
            return f"/health answered HTTP {result.status}"
        try:
            data = json.loads(result.body)
        except ValueError:
            return "/health did not answer JSON"
        if not isinstance(data, dict) or data.get("health") != "true":
            reason = data.get("reason") if isinstance(data, dict) else None
            return str(reason or "unhealthy")
        return None

    return check


class ClientHub:
    """The hub and member checks of one client's transport (see the module docstring).

    :param transport: the client's transport (the checks go through it; a failed member is
        unpinned so that the client's next requests move too).
    :param checker: the member check (default: :func:`health_check`).
    """

    def __init__(self, transport: Transport, checker: Checker | None = None) -> None:
        self._transport = transport
        self._checker = checker if checker is not None else health_check(transport)
        self._lock = threading.Lock()
        self._pair: tuple[StreamHub, Liveness] | None = None

    def hub(self) -> tuple[StreamHub, Liveness]:
        """The hub and its member checks (started on first use)."""
        with self._lock:
            if self._pair is None:
                transport = self._transport
                bound = transport.request_timeout or min(transport.timeout or 2.0, 2.0)
                hub = StreamHub()
                self._pair = hub, Liveness(hub, self._checker, bound,
                                           lambda ep, _reason: transport.unpin(ep))
            return self._pair

    def close(self) -> None:
        """Stop the hub: every stream on it ends (the client is closing)."""
        with self._lock:
            pair, self._pair = self._pair, None
        if pair is not None:
            pair[0].close()
