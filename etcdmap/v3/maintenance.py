"""The v3 maintenance API (``/v3/maintenance/*``): status, alarms (and raising one by hand, for
drills), defragment, hashes, snapshot, leader transfer, downgrade.

The NOSPACE runbook (etcd's maintenance guide, "Space quota"): when the database reaches
``--quota-backend-bytes`` etcd raises the NOSPACE alarm and refuses every write with
:class:`~etcdmap.errors.NoSpace`; free space with :meth:`KV.compact
<etcdmap.v3.kv.KV.compact>`, shrink each member's file with :meth:`Maintenance.defragment`,
then :meth:`Maintenance.disarm` the alarm.

Every method takes ``timeout=``: the whole call's deadline in seconds (default: the client's;
``None``: none). Disarming and moving the leader are writes and are never re-sent after an
ambiguous failure; defragmenting is safe to repeat.

Thread-safety: :class:`Maintenance` is thread-safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from etcdmap.errors import InvalidResponseError
from etcdmap.http.budget import Budget
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.v3.caller import Caller
from etcdmap.v3.cluster import Members
from etcdmap.v3.models import Listing, ResponseHeader, Status
from etcdmap.v3.snapshot import SnapshotTarget, save_snapshot
from etcdmap.v3.wire import _list, _obj, _str, as_int, check_int, parse_header
from etcdmap.v3.wire_admin import parse_status

__all__ = ["Alarm", "AlarmType", "HashKVResponse", "HashResponse", "Maintenance"]

AlarmType = Literal["NOSPACE", "CORRUPT"]
_ALARMS: Mapping[object, str] = {1: "NOSPACE", 2: "CORRUPT", "NOSPACE": "NOSPACE",
                                 "CORRUPT": "CORRUPT"}
_DOWNGRADE = ("VALIDATE", "ENABLE", "CANCEL")


@dataclass(frozen=True, slots=True)
class Alarm:
    """A raised alarm.

    :ivar member_id: the member that raised it.
    :ivar alarm: its kind: ``"NOSPACE"`` (the database reached its quota) or ``"CORRUPT"``
        (a data corruption check failed).
    """

    member_id: int
    alarm: str


@dataclass(frozen=True, slots=True)
class HashResponse:
    """A member's hash of its whole backend (``/v3/maintenance/hash``).

    :ivar header: the answer's header (``member_id`` says which member).
    :ivar hash: the hash of the member's whole backend (etcd's ``Hash``); to compare the
        data of members, use :meth:`Maintenance.hash_kv`.
    """

    header: ResponseHeader
    hash: int


@dataclass(frozen=True, slots=True)
class HashKVResponse:
    """A member's hash of its key-value history up to a revision (``/v3/maintenance/hashkv``):
    members that agree on it hold the same data.

    :ivar header: the answer's header.
    :ivar hash: the hash.
    :ivar compact_revision: the compaction revision the hash starts after.
    """

    header: ResponseHeader
    hash: int
    compact_revision: int


def _alarm(data: object) -> Alarm:
    item = _obj(data, "alarms[]")
    kind = item.get("alarm")
    name = _ALARMS.get(kind if isinstance(kind, str | int) else None)
    if name is None:  # a future etcd's alarm: keep its name rather than fail
        name = kind if isinstance(kind, str) else f"UNKNOWN({kind!r:.20})"
    return Alarm(as_int(item.get("memberID"), "memberID"), name)


def parse_alarms(data: Mapping[str, Any]) -> Listing[Alarm]:
    """The ``alarms`` of an ``AlarmResponse`` (none: ``[]``), with its header."""
    return Listing(_list(data.get("alarms"), "alarms", _alarm), parse_header(data.get("header")))


class Maintenance:
    """``client.maintenance``: status, alarms, defragment, hashes, snapshot, leader transfer.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def _budget(self, timeout: CallTimeout) -> Budget:
        return Budget(timeout, self._caller.transport.timeout)

    # ------------------------------------------------------------------ status

    def status(self, *, endpoint: str | None = None, timeout: CallTimeout = DEFAULT) -> Status:
        """A member's status: version, database size, leader, raft index and term, alarms.

        :param endpoint: ask exactly this member (default: the pinned one, with failover).
        :returns: the :class:`~etcdmap.v3.models.Status`.
        """
        data = self._caller.call("/v3/maintenance/status", {}, idempotent=True, timeout=timeout,
                                 endpoint=endpoint)
        return parse_status(data)

    # ------------------------------------------------------------------ alarms

    def alarms(self, *, timeout: CallTimeout = DEFAULT) -> Listing[Alarm]:
        """Every raised alarm of the cluster (``etcdctl alarm list``).

        :returns: one :class:`Alarm` per member and kind; ``[]`` when none is raised (a list
            whose ``.header`` is the answer's header).
        """
        data = self._caller.call("/v3/maintenance/alarm", {"action": "GET"}, idempotent=True,
                                 timeout=timeout)
        return parse_alarms(data)

    def disarm(
        self, alarm: AlarmType | None = None, *, member_id: int = 0,
        timeout: CallTimeout = DEFAULT,
    ) -> list[Alarm]:
        """Clear raised alarms (``etcdctl alarm disarm``): the last step of the NOSPACE
        runbook, once compaction and defragmentation freed space (else the next write raises
        NOSPACE again).

        :param alarm: ``"NOSPACE"`` or ``"CORRUPT"`` (``None``: every kind).
        :param member_id: only this member's alarms (0: every member's).
        :returns: the alarms that were raised and are now cleared.
        :raises ValueError: an unknown alarm kind.
        :raises AmbiguousResultError: a clear was sent and unanswered (clearing is safe to
            repeat: call again).
        """
        if alarm is not None and alarm not in ("NOSPACE", "CORRUPT"):
            raise ValueError(f"alarm must be 'NOSPACE', 'CORRUPT' or None, not {alarm!r}")
        check_int(member_id, "member_id")
        budget = self._budget(timeout)
        raised = [a for a in self.alarms(timeout=budget.left())
                  if (alarm is None or a.alarm == alarm)
                  and (not member_id or a.member_id == member_id)]
        for item in raised:
            body = {"action": "DEACTIVATE", "memberID": str(item.member_id), "alarm": item.alarm}
            self._caller.call("/v3/maintenance/alarm", body, idempotent=False,
                              timeout=budget.left())
        return raised

    def activate(self, alarm: AlarmType, *, member_id: int = 0,
                 timeout: CallTimeout = DEFAULT) -> list[Alarm]:
        """Raise an alarm by hand (the gateway's ACTIVATE action) -- **for tests and drills
        only**: a raised ``"NOSPACE"`` refuses every write of the cluster with
        :class:`~etcdmap.errors.NoSpace` exactly as a full database does, and ``"CORRUPT"``
        refuses reads and writes alike, until :meth:`disarm` clears it (etcd-io/etcd
        release-3.5:server/etcdserver/apply.go ``Alarm``). Use it to rehearse the NOSPACE
        runbook or to test how a program copes.

        :param alarm: ``"NOSPACE"`` or ``"CORRUPT"``.
        :param member_id: the member it is raised for (0: for no particular member, which
            etcd lists as member 0).
        :returns: the alarm as etcd holds it now (raising one already raised is no error).
        :raises ValueError: an unknown alarm kind.
        :raises AmbiguousResultError: sent and unanswered (raising is safe to repeat).
        """
        if alarm not in ("NOSPACE", "CORRUPT"):
            raise ValueError(f"alarm must be 'NOSPACE' or 'CORRUPT', not {alarm!r}")
        body = {"action": "ACTIVATE", "memberID": str(check_int(member_id, "member_id")),
                "alarm": alarm}
        data = self._caller.call("/v3/maintenance/alarm", body, idempotent=False,
                                 timeout=timeout)
        return parse_alarms(data)

    # ------------------------------------------------------------------ defragment, hashes

    def defragment(
        self, endpoint: str | Sequence[str] | None = None, *, timeout: CallTimeout = DEFAULT
    ) -> list[str]:
        """Defragment members' backend files, one member at a time (``etcdctl defrag``):
        gives the space freed by compaction back to the file system. A member answers
        nothing else while it defragments (seconds for a big database: pass a longer
        ``timeout``), so never defragment every member at once.

        :param endpoint: a member's client URL, or several (default: every endpoint of the
            client, in turn).
        :param timeout: the whole call's deadline, across the members.
        :returns: the endpoints defragmented, in order.
        :raises ClusterError: a member could not be reached (those before it are done).
        """
        if endpoint is None:
            targets = self._caller.transport.endpoints
        elif isinstance(endpoint, str):
            targets = [endpoint]
        else:
            targets = list(endpoint)
        budget = self._budget(timeout)
        done: list[str] = []
        for target in targets:
            self._caller.call("/v3/maintenance/defragment", {}, idempotent=True,
                              timeout=budget.left(), endpoint=target)
            done.append(target)
        return done

    def hash(self, *, endpoint: str | None = None, timeout: CallTimeout = DEFAULT) -> HashResponse:
        """A member's hash of its whole backend file (``/v3/maintenance/hash``).

        For a comparison of members' data use :meth:`hash_kv` (etcd 3.5.10 and later): etcd's
        gateway before 3.5.10 bound HashKV to the same route as Hash, which wins, so HashKV
        cannot be reached over HTTP there (etcd-io/etcd#16464).

        :param endpoint: the member (default: the pinned one, with failover).
        """
        data = self._caller.call("/v3/maintenance/hash", {}, idempotent=True, timeout=timeout,
                                 endpoint=endpoint)
        return HashResponse(parse_header(data.get("header")), as_int(data.get("hash"), "hash"))

    def hash_kv(
        self, revision: int = 0, *, endpoint: str | None = None, timeout: CallTimeout = DEFAULT
    ) -> HashKVResponse:
        """A member's hash of its keys and values up to ``revision`` (``etcdctl endpoint
        hashkv``): members that agree hold the same data.

        :param revision: the revision (0: the latest).
        :param endpoint: the member (default: the pinned one, with failover).
        :raises InvalidResponseError: the member is older than etcd 3.5.10, whose gateway
            cannot reach HashKV (see :meth:`hash`).
        :raises RevisionCompacted, FutureRevision: ``revision`` is out of the kept history.
        """
        body = {"revision": str(check_int(revision, "revision"))}
        try:
            data = self._caller.call("/v3/maintenance/hashkv", body, idempotent=True,
                                     timeout=timeout, endpoint=endpoint)
        except InvalidResponseError as exc:
            if "HTTP 404" not in str(exc):
                raise
            raise InvalidResponseError(
                f"{exc.endpoint or 'the member'} does not serve HashKV over HTTP: etcd's "
                "gateway reaches it only from 3.5.10 on (before, Hash and HashKV shared "
                "/v3/maintenance/hash and Hash wins; etcd-io/etcd#16464). Use hash(), or "
                "etcdctl endpoint hashkv (gRPC)", exc.endpoint,
            ) from exc
        return HashKVResponse(parse_header(data.get("header")), as_int(data.get("hash"), "hash"),
                              as_int(data.get("compact_revision"), "compact_revision"))

    # ------------------------------------------------------------------ snapshot

    def snapshot(
        self, dest: SnapshotTarget, *, endpoint: str | None = None,
        timeout: CallTimeout = DEFAULT,
    ) -> int:
        """Save a member's backend snapshot to ``dest`` (``etcdctl snapshot save``): streamed
        to disk, checked against the SHA-256 etcd appends, and written atomically (see
        :mod:`etcdmap.v3.snapshot`). ``etcdutl snapshot status`` reads the file and
        ``etcdutl snapshot restore`` restores it.

        :param dest: a path, or a binary file object open for writing.
        :param endpoint: the member (default: the pinned one, with failover).
        :param timeout: the whole transfer's deadline (a big database needs more than the
            client's default; ``None``: none, 30 s of silence still ends it).
        :returns: the bytes written (the database and its 32-byte digest).
        :raises InvalidResponseError: the stream ended early or its digest does not match
            (nothing is written).
        :raises TypeError: ``dest`` is neither a path nor a binary file.
        :raises OSError: ``dest`` cannot be written.
        """
        return save_snapshot(self._caller, dest, endpoint=endpoint, timeout=timeout)

    # ------------------------------------------------------------------ leadership

    def move_leader(self, member_id: int, *, timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Hand the leadership to another voting member (``etcdctl move-leader``). The request
        goes to the current leader, found through the members' status.

        :param member_id: the new leader's ID (:attr:`Member.id <etcdmap.v3.models.Member.id>`).
        :returns: the answer's header (etcd sends an empty one).
        :raises BadLeaderTransferee: no voting member has this ID.
        :raises NotLeader: the leadership moved while asking (retry).
        :raises NoLeaderV3: the cluster has no leader.
        :raises AmbiguousResultError: sent and unanswered: check
            :meth:`Members.leader <etcdmap.v3.cluster.Members.leader>`.
        """
        check_int(member_id, "member_id", 1)
        budget = self._budget(timeout)
        leader = Members(self._caller).leader(timeout=budget.left())
        if leader.id == member_id:
            return ResponseHeader()
        if not leader.client_urls:
            raise InvalidResponseError(f"the leader {leader.id:x} publishes no client URL")
        data = self._caller.call(
            "/v3/maintenance/transfer-leadership", {"targetID": str(member_id)},
            idempotent=False, timeout=budget.left(), endpoint=leader.client_urls[0],
        )
        return parse_header(data.get("header"))

    def downgrade(
        self, action: Literal["VALIDATE", "ENABLE", "CANCEL"], version: str = "", *,
        timeout: CallTimeout = DEFAULT,
    ) -> str:
        """Validate, start or cancel a cluster downgrade to the previous minor version
        (``/v3/maintenance/downgrade``; ``etcdctl downgrade`` in 3.6).

        :param action: ``"VALIDATE"`` (check only), ``"ENABLE"`` or ``"CANCEL"``.
        :param version: the target, e.g. ``"3.4"`` (not for ``"CANCEL"``).
        :returns: the cluster's current version.
        :raises InvalidDowngradeVersion: not one minor version below the cluster's.
        :raises NoDowngradeInProgress: ``"CANCEL"`` with no downgrade running.
        :raises ValueError: an unknown action.
        """
        if action not in _DOWNGRADE:
            raise ValueError(f"action must be one of {_DOWNGRADE}, not {action!r}")
        if not isinstance(version, str):
            raise TypeError(f"version must be a str, not {type(version).__name__}")
        data = self._caller.call("/v3/maintenance/downgrade",
                                 {"action": action, "version": version},
                                 idempotent=action == "VALIDATE", timeout=timeout)
        return _str(data.get("version"), "version")
