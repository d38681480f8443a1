"""What the v2 and v3 backends share: :class:`HubBackend`, a store behind a client whose
changes come from the client's watch hub.

Both backends (:class:`~etcdmap.v2.backend.V2Backend`, :class:`~etcdmap.v3.backend.V3Backend`)
describe themselves by their client's endpoints, push changes to a sink through a hub
subscription (:meth:`HubBackend.subscribe`, their own), give the same changes pulled
(:meth:`HubBackend.changes`, one :class:`~etcdmap.http.pulled_changes.PulledChanges` over the
subscription), and close their client; only the subscription and the streams behind it
differ.

Thread-safety: as the client (safe to share).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from etcdmap.http.endpoints import strip_credentials
from etcdmap.http.pulled_changes import PulledChanges

if TYPE_CHECKING:
    from etcdmap.backend import ChangeSink, Subscription
    from etcdmap.http.hub import StreamHub
    from etcdmap.http.liveness import Liveness

__all__ = ["HubBackend", "HubStreams"]


class _Client(Protocol):
    @property
    def endpoints(self) -> list[str]:
        """The client's endpoints."""

    def close(self) -> None:
        """Close the client."""


class HubStreams(Protocol):
    """The streams of one client (v2: :class:`~etcdmap.http.client_hub.ClientHub`; v3:
    :class:`~etcdmap.v3.streams.V3Streams`, which adds WebSockets and the lease stream)."""

    def hub(self) -> tuple[StreamHub, Liveness]:
        """The client's watch hub and its member checks (made on first use)."""

    def close(self) -> None:
        """Stop the hub: every stream of the client ends."""


_C = TypeVar("_C", bound=_Client)
_S = TypeVar("_S", bound=HubStreams)


class HubBackend(Generic[_C, _S]):
    """The part of a :class:`~etcdmap.backend.Backend` that is the same on v2 and v3 (see
    the module docstring); a subclass gives :meth:`subscribe` and the store's operations.

    :param client: the client (closed by :meth:`close`, i.e. by the map that owns it).
    :param streams: the client's hub and what else streams on it.
    """

    def __init__(self, client: _C, streams: _S) -> None:
        self._client = client
        self._streams = streams

    @property
    def client(self) -> _C:
        """The client behind the backend."""
        return self._client

    def describe(self) -> str:
        """``endpoints=[...]`` without credentials."""
        return f"endpoints={[strip_credentials(e) for e in self._client.endpoints]!r}"

    def subscribe(
        self, key: str, sink: ChangeSink, *, after: int, recursive: bool = True,
        idle_timeout: float = 1.0,
    ) -> Subscription:
        """The changes below ``key`` with an index above ``after``, pushed to ``sink`` by the
        client's watch hub (a subclass's own).

        :returns: the started subscription (close it).
        """
        raise NotImplementedError

    def changes(
        self,
        key: str,
        *,
        after: int,
        recursive: bool = True,
        idle_timeout: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> PulledChanges:
        """The changes of :meth:`subscribe`, pulled
        (:class:`~etcdmap.http.pulled_changes.PulledChanges`).

        :param on_error: called with each failure the subscription recovered from.
        """
        return PulledChanges(lambda sink: self.subscribe(
            key, sink, after=after, recursive=recursive, idle_timeout=idle_timeout), on_error)

    def hub(self) -> tuple[StreamHub, Liveness]:
        """The client's watch hub and its member checks (made on first use)."""
        return self._streams.hub()

    def close_hub(self) -> None:
        """Stop the watch hub: every subscription (and, v3, keep-alive) of the client ends
        (the client is closing)."""
        self._streams.close()

    def close(self) -> None:
        """Close the client."""
        self._client.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"
