"""What the v3 backend, its change stream and its subscription need of
:class:`etcdmap.v3.Client`: a protocol, so that those modules stay below the client that
builds them (no import circle)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from etcdmap.http.transport import Transport
    from etcdmap.v3.caller import Caller
    from etcdmap.v3.kv import KV
    from etcdmap.v3.lease import Leases
    from etcdmap.v3.lock import Lock
    from etcdmap.v3.watch import Watcher

__all__ = ["V3Parts"]


class V3Parts(Protocol):
    """The parts of a v3 client the mapping backend uses (``etcdmap.v3.Client`` has them)."""

    kv: KV
    lease: Leases
    transport: Transport
    _caller: Caller

    @property
    def endpoints(self) -> list[str]:
        """The client's endpoints."""

    def watch(
        self,
        key: str | bytes,
        *,
        range_end: str | bytes | None = None,
        start_revision: int = 0,
        prev_kv: bool = False,
        read_timeout: float = 30.0,
    ) -> Watcher:
        """A watch of a key range."""

    def lock(self, name: str, ttl: int = 60, timeout: float | None = None) -> Lock:
        """A lock on etcd's lock service."""

    def close(self) -> None:
        """Close the client."""
