"""What the v3 set needs of the client's maintenance, lock and election services, typed.

``alarm``, ``defrag``, ``snapshot save``, ``move-leader``, ``endpoint health`` (its alarm
check), ``endpoint hashkv``, ``lock`` and ``elect`` call ``client.maintenance.alarms()/
disarm()/defragment()/hash_kv()/snapshot()/move_leader()``, ``client.lock()``,
``client.election()`` and ``client.election_service.leader()`` of :class:`etcdmap.v3.Client`
(added with issue 22); these protocols name exactly the calls the verbs make, so that the verbs
stay thin and the type checker sees them. Thread-safety is the client's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from etcdmap.v3 import Client
    from etcdmap.v3.models import KeyValue, ResponseHeader, Status

__all__ = ["Alarm", "Election", "HeldLock", "Maintenance", "Services", "services"]


class Alarm(Protocol):
    """One alarm of one member."""

    member_id: int
    alarm: str  # "NOSPACE" or "CORRUPT"


class HashKV(Protocol):
    """A member's hash of its key-value history."""

    header: ResponseHeader
    hash: int
    compact_revision: int


class Maintenance(Protocol):
    """``client.maintenance``."""

    def status(self, *, endpoint: str | None = None) -> Status: ...

    def alarms(self) -> Sequence[Alarm]: ...

    def disarm(self) -> Sequence[Alarm]: ...

    def defragment(self, endpoint: str | None = None) -> Any: ...

    def hash_kv(self, revision: int = 0, *, endpoint: str | None = None) -> HashKV: ...

    def snapshot(self, dest: str) -> int: ...

    def move_leader(self, member_id: int) -> Any: ...


class HeldLock(Protocol):
    """A lock while held: the key that holds it and that key's create revision."""

    @property
    def key(self) -> str | None: ...

    @property
    def revision(self) -> int: ...


class Election(Protocol):
    """``client.election(name)``: ``campaign`` returns it, leading (``key`` set)."""

    @property
    def key(self) -> str | None: ...

    def campaign(self, value: str) -> Election: ...

    def observe(self) -> Iterator[bytes]: ...

    def resign(self) -> Any: ...


class ElectionService(Protocol):
    """``client.election_service``: the raw election routes."""

    def leader(self, name: str) -> KeyValue | None: ...


class Services(Protocol):
    """The client, as the verbs use it."""

    maintenance: Maintenance
    election_service: ElectionService

    def lock(self, name: str, ttl: int = 60,
             timeout: float | None = None) -> AbstractContextManager[HeldLock]: ...

    def election(self, name: str, ttl: int = 60) -> Election: ...


def services(client: Client) -> Services:
    """The client's maintenance, lock and election services."""
    return cast(Services, client)
