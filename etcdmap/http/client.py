"""What every etcdmap client (v2, v3, blocking or asyncio) has through its transport."""

from __future__ import annotations

from collections.abc import Sequence

import requests

from etcdmap._closing import Closing
from etcdmap.http.transport import Transport
from etcdmap.http.transport_shell import TransportShell

__all__ = ["ClientEndpoints", "TransportClient"]


class ClientEndpoints:
    """Base of every client: its endpoints, read and replaced through :attr:`transport`
    (set by the subclass: a blocking or an asyncio transport).

    Thread-safety: as the transport.
    """

    transport: TransportShell

    @property
    def endpoints(self) -> list[str]:
        """The current endpoints (a copy, in failover order)."""
        return self.transport.endpoints

    def set_endpoints(self, endpoints: str | Sequence[str]) -> None:
        """Replace the endpoints and pin a random one.

        :raises NoEndpointsError: an empty list (the old endpoints are kept).
        :raises ValueError: an invalid URL (the old endpoints are kept).
        """
        self.transport.set_endpoints(endpoints)


class TransportClient(ClientEndpoints, Closing):
    """Base of :class:`etcdmap.Client` and :class:`etcdmap.v3.Client`: the parts that only
    forward to :attr:`transport` (set by the subclass).

    Thread-safety: as the transport (safe to share).
    """

    transport: Transport

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session`` every request of this client goes through."""
        return self.transport.session

    def close(self) -> None:
        """Release the pooled connections (the client reconnects if used again)."""
        self.transport.close()
