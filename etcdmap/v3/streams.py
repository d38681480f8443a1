"""The streams of one v3 client, made on first use: its watch hub and member checks
(:class:`~etcdmap.http.client_hub.ClientHub`), the WebSockets that carry its watches
(:class:`~etcdmap.v3.watch_mux.WatchMux`) and its lease keep-alives
(:class:`~etcdmap.v3.lease_stream.LeaseStream`); and raw watches of any key range on them
(:meth:`V3Streams.subscribe_events`).

Thread-safety: every method may be called from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from etcdmap.http.client_hub import ClientHub
from etcdmap.v3.event_subscription import EventSink, EventSubscription, Filter
from etcdmap.v3.lease_stream import LeaseStream
from etcdmap.v3.subscription import HttpChannel
from etcdmap.v3.watch_mux import WatchMux

if TYPE_CHECKING:
    from etcdmap.http.hub import StreamHub
    from etcdmap.http.liveness import Liveness
    from etcdmap.v3.client_protocol import V3Parts

__all__ = ["V3Streams"]


class V3Streams:
    """The hub, watch sockets and lease stream of one v3 client (see the module docstring).

    :param client: the v3 client.
    """

    def __init__(self, client: V3Parts) -> None:
        self._client = client
        self._hub = ClientHub(client.transport)
        self._lock = threading.Lock()
        self._mux: WatchMux | None = None
        self._leases: LeaseStream | None = None

    def hub(self) -> tuple[StreamHub, Liveness]:
        """The client's watch hub and its member checks."""
        return self._hub.hub()

    def watches(self) -> WatchMux:
        """What carries the client's watches (one WebSocket per member in use)."""
        hub, _ = self._hub.hub()
        with self._lock:
            if self._mux is None:
                self._mux = WatchMux(self._client, hub, HttpChannel(self._client, hub, 1.0))
            return self._mux

    def leases(self) -> LeaseStream:
        """The client's lease keep-alives (one WebSocket per member in use)."""
        hub, _ = self._hub.hub()
        with self._lock:
            if self._leases is None:
                self._leases = LeaseStream(self._client, hub)
            return self._leases

    def subscribe_events(
        self, key: bytes, sink: EventSink, *, range_end: bytes | None = None,
        start_revision: int = 0, prev_kv: bool = False, filters: Sequence[Filter] = (),
        progress_notify: bool = False,
    ) -> EventSubscription:
        """etcd's watch messages of ``[key, range_end)``, pushed to ``sink`` on the client's
        hub (see :class:`~etcdmap.v3.event_subscription.EventSubscription` for the
        parameters): the member's shared WebSocket, no thread per watch, resumed on another
        member without loss.

        :returns: the started subscription (close it).
        """
        hub, liveness = self.hub()
        return EventSubscription(self._client, hub, liveness, key, sink, range_end=range_end,
                                 start_revision=start_revision, prev_kv=prev_kv,
                                 filters=filters, progress_notify=progress_notify,
                                 channel=self.watches()).start()

    @property
    def watch_mode(self) -> str:
        """``"websocket"`` or ``"http"`` (see :attr:`WatchMux.mode`)."""
        mux = self._mux
        return "websocket" if mux is None else mux.mode

    def close(self) -> None:
        """Close the sockets and stop the hub: every watch and keep-alive of the client ends."""
        with self._lock:
            mux, self._mux = self._mux, None
            leases, self._leases = self._leases, None
        if mux is not None:
            mux.close()
        if leases is not None:
            leases.close()
        self._hub.close()
