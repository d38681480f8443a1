"""The WebSockets of one stream route (``/v3/watch``, ``/v3/lease/keepalive``) of a client,
one per member in use: found or opened (the upgrade of :mod:`etcdmap.http.websocket`, with the
client's token as the ``Bearer`` subprotocol), one upgrade per member at a time, forgotten when
they break. :class:`~etcdmap.v3.watch_mux.WatchMux` and
:class:`~etcdmap.v3.lease_stream.LeaseStream` keep theirs here.

Thread-safety: every method may be called from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from etcdmap.errors import ClusterError
from etcdmap.http.websocket import WebSocket, WebSocketError, upgrade

if TYPE_CHECKING:
    import socket

    from wsproto import WSConnection

    from etcdmap.v3.client_protocol import V3Parts

__all__ = ["Carrier", "MemberSockets"]


class Carrier(Protocol):
    """What a route keeps per member: its endpoint and its open WebSocket."""

    endpoint: str
    ws: WebSocket | None


_C = TypeVar("_C", bound=Carrier)
Make = Callable[[str, "str | None", "socket.socket", "WSConnection"], _C]


def _open(found: Carrier | None) -> bool:
    return found is not None and found.ws is not None and not found.ws.closed


class MemberSockets(Generic[_C]):
    """The open sockets of one route, by member (see the module docstring).

    :param client: the v3 client.
    :param path: the route, e.g. ``/v3/watch``.
    :param make: builds a member's carrier from ``(endpoint, token, socket, wsproto state)``
        once the upgrade is done.
    :param timeout: bound of each upgrade.
    """

    def __init__(self, client: V3Parts, path: str, make: Make[_C], timeout: float | None) -> None:
        self._client = client
        self._path = path
        self._make = make
        self._timeout = timeout
        self._lock = threading.Lock()
        self._open: dict[str, _C] = {}
        self._gates: dict[str, threading.Lock] = {}
        self.renew_token = False
        """Authenticate again before the next upgrade (etcd refused a socket's token)."""
        self.renewed_token: str | None = None
        """The token the last such authentication gave (a refusal of it is final)."""

    def __len__(self) -> int:
        return len(self._open)

    def carriers(self) -> list[_C]:
        """The carriers open now."""
        with self._lock:
            return list(self._open.values())

    def order(self) -> list[str]:
        """The client's endpoints, its pinned one first."""
        transport = self._client.transport
        eps, pinned = transport.endpoints, transport.pinned
        at = eps.index(pinned) if pinned in eps else 0
        return eps[at:] + eps[:at]

    def current(self, avoid: str | None) -> _C | None:
        """An open carrier not on ``avoid``, the pinned member's first (never blocks)."""
        with self._lock:
            found = {ep: c for ep, c in self._open.items() if ep != avoid and _open(c)}
        return found.get(self._client.transport.pinned) or next(iter(found.values()), None)

    def get(self, endpoint: str | None) -> _C:
        """The carrier of ``endpoint`` (``None``: the first member in :meth:`order` that
        takes one), upgraded now if it has none (blocks).

        :raises UpgradeRefused: the session or the server refuses the upgrade.
        :raises ClusterError: no member could be reached.
        """
        if endpoint is not None:
            return self._get(endpoint)
        errors: list[tuple[str, BaseException]] = []
        for ep in self.order():
            try:
                return self._get(ep)
            except ClusterError as exc:
                errors += exc.errors
        raise ClusterError(errors, f"no member took the {self._path} WebSocket")

    def _get(self, endpoint: str) -> _C:
        with self._lock:
            found = self._open.get(endpoint)
            gate = self._gates.setdefault(endpoint, threading.Lock())
        if found is not None and _open(found):
            return found
        with gate:  # one upgrade per member at a time; the others wait and share it
            with self._lock:
                found = self._open.get(endpoint)
            if found is not None and _open(found):
                return found
            caller = self._client._caller
            token = caller.token
            if caller.username is not None and (token is None or self.renew_token):
                self.renew_token = False
                token = self.renewed_token = caller.refresh_token()
            try:
                sock, ws = upgrade(self._client.transport, endpoint, self._path, token=token,
                                   timeout=self._timeout)
            except (OSError, WebSocketError) as exc:
                raise ClusterError([(endpoint, exc)], f"the {self._path} WebSocket") from exc
            carrier = self._make(endpoint, token, sock, ws)
            with self._lock:
                self._open[endpoint] = carrier
            return carrier

    def forget(self, carrier: _C) -> None:
        """A carrier broke or closed: the next :meth:`get` opens a new one."""
        with self._lock:
            if self._open.get(carrier.endpoint) is carrier:
                del self._open[carrier.endpoint]

    def close(self) -> None:
        """Close every socket."""
        with self._lock:
            carriers, self._open = list(self._open.values()), {}
        for carrier in carriers:
            if carrier.ws is not None:
                carrier.ws.close()
