"""What the v3 set needs of the client's maintenance, lock and election services, typed.

``alarm``, ``defrag``, ``snapshot save``, ``move-leader``, ``endpoint health`` (its alarm
check), ``lock`` and ``elect`` call ``client.maintenance.alarms()/disarm()/defragment()/
snapshot()/move_leader()``, ``client.lock()`` and ``client.election()`` of
:class:`etcdmap.v3.Client`; these protocols name exactly the calls used, so that the verbs
stay thin and the type checker sees them. Thread-safety is the client's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from etcdmap.v3 import Client
    from etcdmap.v3.models import Status

__all__ = ["Alarm", "Election", "HeldLock", "Maintenance", "elections", "maintenance"]


class Alarm(Protocol):
    """One alarm of one member."""

    member_id: int
    alarm: str  # "NOSPACE" or "CORRUPT"


class Maintenance(Protocol):
    """``client.maintenance``."""

    def status(self, *, endpoint: str | None = None) -> Status: ...

    def alarms(self) -> Sequence[Alarm]: ...

    def disarm(self, alarm: str | None = None) -> Sequence[Alarm]: ...

    def defragment(self, *, endpoint: str | None = None) -> Any: ...

    def snapshot(self, dest: str) -> int: ...

    def move_leader(self, member_id: int) -> Any: ...


class HeldLock(Protocol):
    """A lock while held: its key (the fencing token's key), revision and lease."""

    key: str | bytes
    revision: int
    lease: int


class Election(Protocol):
    """``client.election(name)``."""

    def campaign(self, value: str) -> Any: ...

    def leader(self) -> Any: ...

    def observe(self) -> Iterator[Any]: ...

    def resign(self) -> Any: ...


class _Services(Protocol):
    maintenance: Maintenance

    def lock(self, name: str, *, ttl: int = 60,
             timeout: float | None = None) -> AbstractContextManager[HeldLock]: ...

    def election(self, name: str, *, ttl: int = 60) -> Election: ...


def maintenance(client: Client) -> Maintenance:
    """The client's maintenance service."""
    return cast(_Services, client).maintenance


def elections(client: Client) -> _Services:
    """The client, for its ``lock`` and ``election`` services."""
    return cast(_Services, client)
