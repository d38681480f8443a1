"""The cluster and maintenance half of :class:`~etcdmap.compat.etcd3.client.Etcd3Client`:
status, members, compaction, defragmentation, hash, alarms, snapshot.

Thread-safety: the methods call the (thread-safe) etcdmap client.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, BinaryIO, cast

from etcdmap.compat.etcd3.etcdrpc import AlarmType
from etcdmap.compat.etcd3.exceptions import handle_errors
from etcdmap.compat.etcd3.members import Member

if TYPE_CHECKING:
    from etcdmap.v3 import Client
    from etcdmap.v3 import maintenance as core_maintenance
    from etcdmap.v3.models import Member as CoreMember

__all__ = ["Admin", "Alarm", "Status"]


class Status:
    """A member's status as python-etcd3 gave it; ``leader`` is a :class:`Member` or ``None``."""

    def __init__(self, version: str, db_size: int, leader: Member | None, raft_index: int,
                 raft_term: int) -> None:
        self.version = version
        self.db_size = db_size
        self.leader = leader
        self.raft_index = raft_index
        self.raft_term = raft_term


class Alarm:
    """An alarm: ``alarm_type`` (:data:`etcdrpc.NOSPACE <etcdmap.compat.etcd3.etcdrpc.NOSPACE>`
    ...) and ``member_id`` (0: raised for no particular member)."""

    def __init__(self, alarm_type: int, member_id: int) -> None:
        self.alarm_type = alarm_type
        self.member_id = member_id


def _alarm_of(core: core_maintenance.Alarm) -> Alarm:
    """python-etcd3's alarm of etcdmap's (a kind unknown to 0.12 is ``AlarmType.NONE``)."""
    kind = AlarmType.__members__.get(core.alarm, AlarmType.NONE)
    return Alarm(kind, core.member_id)


class Admin:
    """Status, members and maintenance; mixed into the client, which sets ``_client``."""

    _client: Client

    @property
    def _endpoint(self) -> str:
        """The member this client talks to (python-etcd3 had one channel to one member)."""
        return str(self._client.endpoints[0])

    def _member(self, core: CoreMember) -> Member:
        return Member(core.id, core.name, core.peer_urls, core.client_urls, etcd_client=self)

    @handle_errors
    def status(self) -> Status:
        """The status of the member this client talks to, its leader as a :class:`Member`."""
        status = self._client.maintenance.status()
        leader = next((m for m in self.members if m.id == status.leader), None)
        return Status(status.version, status.db_size, leader, status.raft_index, status.raft_term)

    @handle_errors
    def add_member(self, urls: Sequence[str]) -> Member:
        """Add a member with these peer URLs (start it afterwards)."""
        return self._member(self._client.members.add(list(urls)).member)

    @handle_errors
    def remove_member(self, member_id: int) -> None:
        """Remove a member."""
        self._client.members.remove(member_id)

    @handle_errors
    def update_member(self, member_id: int, peer_urls: Sequence[str]) -> None:
        """Change a member's peer URLs."""
        self._client.members.update(member_id, list(peer_urls))

    @property
    def members(self) -> Iterator[Member]:
        """Every member of the cluster (a generator, as python-etcd3's)."""
        return self._members()

    @handle_errors
    def _members(self) -> Iterator[Member]:
        for core in self._client.members.list().members:
            yield self._member(core)

    @handle_errors
    def compact(self, revision: int, physical: bool = False) -> None:
        """Discard the history before ``revision``.

        :raises RpcError: OUT_OF_RANGE: already compacted there, or a future revision.
        """
        self._client.kv.compact(revision, physical=physical)

    @handle_errors
    def defragment(self) -> None:
        """Defragment the backend database of the member this client talks to."""
        self._client.maintenance.defragment(endpoint=self._endpoint)

    @handle_errors
    def hash(self) -> int:
        """The hash of the member's backend (etcd's ``Hash``, as python-etcd3's)."""
        return self._client.maintenance.hash(endpoint=self._endpoint).hash

    @handle_errors
    def create_alarm(self, member_id: int = 0) -> list[Alarm]:
        """Raise a NOSPACE alarm (for tests and drills: the cluster refuses every write
        until :meth:`disarm_alarm`).

        :param member_id: the member (0: for no particular member).
        :returns: the alarm raised.
        """
        return [_alarm_of(a) for a in self._client.maintenance.activate("NOSPACE",
                                                                        member_id=member_id)]

    @handle_errors
    def list_alarms(self, member_id: int = 0, alarm_type: str = "none") -> Iterator[Alarm]:
        """The active alarms: of one member (``member_id``), of one type (``"no space"``).

        :raises ValueError: an unknown ``alarm_type``.
        """
        kinds = {"none": AlarmType.NONE, "no space": AlarmType.NOSPACE}
        if alarm_type not in kinds:
            raise ValueError(f"Unknown alarm type: {alarm_type}")
        for alarm in map(_alarm_of, self._client.maintenance.alarms()):
            if member_id and alarm.member_id != member_id:
                continue
            if kinds[alarm_type] and alarm.alarm_type != kinds[alarm_type]:
                continue
            yield alarm

    @handle_errors
    def disarm_alarm(self, member_id: int = 0) -> list[Alarm]:
        """Clear the NOSPACE alarms: every member's (``member_id`` 0, as python-etcd3's
        docstring says; 0.12 itself cleared only those raised for member 0), or one member's.

        :returns: the alarms cleared.
        """
        return [_alarm_of(a) for a in self._client.maintenance.disarm("NOSPACE",
                                                                      member_id=member_id)]

    @handle_errors
    def snapshot(self, file_obj: IO[bytes]) -> None:
        """Write a snapshot of the member's database to a binary file object."""
        self._client.maintenance.snapshot(cast(BinaryIO, file_obj), endpoint=self._endpoint)
