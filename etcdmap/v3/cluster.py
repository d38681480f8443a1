"""The v3 cluster and maintenance APIs: members (``/v3/cluster/member/*``) and status.

Member changes are non-idempotent (an ambiguous failure raises
:class:`~etcdmap.errors.AmbiguousResultError`); list and status are reads.

Thread-safety: :class:`Members` and :class:`Maintenance` are thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from etcdmap.http.transport import DEFAULT, CallTimeout, normalize_endpoint
from etcdmap.v3._call import Caller
from etcdmap.v3.models import MemberAddResponse, MembersResponse, Status
from etcdmap.v3.wire import check_int
from etcdmap.v3.wire_admin import parse_member_add, parse_members, parse_status

__all__ = ["Maintenance", "Members"]


def _peer_urls(urls: str | Sequence[str]) -> list[str]:
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, Sequence) or not urls:
        raise ValueError("give at least one peer URL")
    return [normalize_endpoint(u) for u in urls]


class Members:
    """``client.members``: cluster membership.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def list(self, *, linearizable: bool = False, timeout: CallTimeout = DEFAULT) -> MembersResponse:
        """Every member.

        :param linearizable: force a quorum read (default: the member's own view).
        """
        if not isinstance(linearizable, bool):
            raise TypeError(f"linearizable must be a bool, not {type(linearizable).__name__}")
        body: dict[str, Any] = {"linearizable": True} if linearizable else {}
        data = self._caller.call("/v3/cluster/member/list", body, idempotent=True, timeout=timeout)
        return parse_members(data)

    def add(self, peer_urls: str | Sequence[str], *, learner: bool = False,
            timeout: CallTimeout = DEFAULT) -> MemberAddResponse:
        """Add a member (start it afterwards with ``--initial-cluster-state=existing``).

        Mind quorum: a voting member counts towards it at once, before it has started. On a
        one-member cluster (a development server) the add succeeds and the cluster stops --
        writes and the :meth:`remove` that would undo it time out -- until the new etcd starts
        and joins. Add voting members to a cluster of three or more, one at a time, starting
        each before adding the next; or add a ``learner``, which does not vote and is safe on
        any cluster, and :meth:`promote` it once it has caught up.

        :param peer_urls: its peer URL(s).
        :param learner: add it as a non-voting learner (promote it once in sync).
        :raises MemberExistsV3: a member has these peer URLs.
        :raises ValueError: no or invalid URLs.
        :raises AmbiguousResultError: sent and unanswered.
        """
        body: dict[str, Any] = {"peerURLs": _peer_urls(peer_urls)}
        if not isinstance(learner, bool):
            raise TypeError(f"learner must be a bool, not {type(learner).__name__}")
        if learner:
            body["isLearner"] = True
        data = self._caller.call("/v3/cluster/member/add", body, idempotent=False, timeout=timeout)
        return parse_member_add(data)

    def remove(self, member_id: int, *, timeout: CallTimeout = DEFAULT) -> MembersResponse:
        """Remove a member.

        :raises MemberNotFoundV3: no such member.
        :raises AmbiguousResultError: sent and unanswered.
        """
        body = {"ID": str(check_int(member_id, "member_id", 1))}
        data = self._caller.call("/v3/cluster/member/remove", body, idempotent=False,
                                 timeout=timeout)
        return parse_members(data)

    def update(self, member_id: int, peer_urls: str | Sequence[str], *,
               timeout: CallTimeout = DEFAULT) -> MembersResponse:
        """Change a member's peer URLs.

        :raises MemberNotFoundV3: no such member.
        """
        body = {"ID": str(check_int(member_id, "member_id", 1)), "peerURLs": _peer_urls(peer_urls)}
        data = self._caller.call("/v3/cluster/member/update", body, idempotent=False,
                                 timeout=timeout)
        return parse_members(data)

    def promote(self, member_id: int, *, timeout: CallTimeout = DEFAULT) -> MembersResponse:
        """Promote a learner to a voting member.

        :raises FailedPrecondition: the learner is not in sync with the leader yet.
        """
        body = {"ID": str(check_int(member_id, "member_id", 1))}
        data = self._caller.call("/v3/cluster/member/promote", body, idempotent=False,
                                 timeout=timeout)
        return parse_members(data)


class Maintenance:
    """``client.maintenance``: member status.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def status(self, *, endpoint: str | None = None, timeout: CallTimeout = DEFAULT) -> Status:
        """A member's status: version, database size, leader, raft index and term.

        :param endpoint: ask exactly this member (default: the pinned one, with failover).
        """
        data = self._caller.call("/v3/maintenance/status", {}, idempotent=True, timeout=timeout,
                                 endpoint=endpoint)
        return parse_status(data)
