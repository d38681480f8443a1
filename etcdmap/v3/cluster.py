"""The v3 cluster API: members (``/v3/cluster/member/*``). The maintenance API (status,
alarms, defragment, snapshot...) is :mod:`etcdmap.v3.maintenance`.

Member changes are non-idempotent (an ambiguous failure raises
:class:`~etcdmap.errors.AmbiguousResultError`); list is a read.

Thread-safety: :class:`Members` is thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from etcdmap.errors import NoLeaderV3
from etcdmap.http.budget import Budget
from etcdmap.http.transport import DEFAULT, CallTimeout, normalize_endpoint
from etcdmap.v3.caller import Caller
from etcdmap.v3.models import Member, MemberAddResponse, MembersResponse
from etcdmap.v3.wire import check_int
from etcdmap.v3.wire_admin import parse_member_add, parse_members, parse_status

__all__ = ["Members"]


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

    def leader(self, *, timeout: CallTimeout = DEFAULT) -> Member:
        """The current leader (as v2's ``client.members.leader()``): the pinned member's
        status names it, the member list gives its URLs.

        :raises NoLeaderV3: the member asked knows no leader (an election, or no quorum);
            also a :class:`~etcdmap.errors.NoLeaderError`.
        """
        budget = Budget(timeout, self._caller.transport.timeout)
        status = parse_status(self._caller.call("/v3/maintenance/status", {}, idempotent=True,
                                                timeout=budget.left()))
        if status.leader:
            for member in self.list(timeout=budget.left()).members:
                if member.id == status.leader:
                    return member
        raise NoLeaderV3(f"etcdserver: no leader (member {status.header.member_id:x} knows "
                         "none: an election is running or quorum is lost)", grpc_code=14)

