"""The v3 errors about the cluster's state (gRPC codes 9, 11, 8, 14, 4, 2, 13, 15); the tree
of every v3 error is drawn in :mod:`etcdmap.errors.v3`.

Thread-safety: the classes are immutable once raised.
"""

from __future__ import annotations

from etcdmap.errors.admin import (
    AuthError,
    MemberChangeRefused,
    MemberExists,
    NoLeaderError,
    RoleExists,
    RoleNotFound,
    UserExists,
    UserNotFound,
)
from etcdmap.errors.server import EventIndexCleared
from etcdmap.errors.v3 import V3Error

__all__ = [
    "NOSPACE_RUNBOOK",
    "AuthNotEnabled",
    "BadLeaderTransferee",
    "ClusterIdMismatch",
    "CorruptCluster",
    "DowngradeInProgress",
    "ElectionNotLeader",
    "FailedPrecondition",
    "FutureRevision",
    "Internal",
    "LeaderChanged",
    "LearnerNotReady",
    "LearnerUnsupported",
    "LeaseExists",
    "LeaseTTLTooLarge",
    "MemberExistsV3",
    "MemberNotLearner",
    "NoDowngradeInProgress",
    "NoLeaderV3",
    "NoSpace",
    "NotCapable",
    "NotEnoughStartedMembers",
    "NotLeader",
    "OutOfRange",
    "PermissionNotGranted",
    "RequestTimedOut",
    "ResourceExhausted",
    "RevisionCompacted",
    "RoleExistsV3",
    "RoleNotFoundV3",
    "RoleNotGranted",
    "RootRoleMissing",
    "RootUserMissing",
    "ServerStopped",
    "ServerTimeout",
    "TooManyLearners",
    "TooManyRequests",
    "Unavailable",
    "UnhealthyCluster",
    "UserExistsV3",
    "UserNotFoundV3",
]


# ------------------------------------------------------------------ 9 FailedPrecondition


class FailedPrecondition(V3Error):
    """9: the cluster's state does not allow the call."""

    grpc_code = 9


class LeaseExists(FailedPrecondition):
    """A lease with the requested ID already exists."""


class AuthNotEnabled(FailedPrecondition, AuthError):
    """Authentication was asked for but auth is not enabled."""


class RootUserMissing(FailedPrecondition, AuthError):
    """Auth cannot be enabled before a ``root`` user exists."""


class RootRoleMissing(FailedPrecondition, AuthError):
    """Auth cannot be enabled before the ``root`` user has the ``root`` role."""


class UserExistsV3(FailedPrecondition, UserExists):
    """The user already exists (also v2's :class:`~etcdmap.errors.UserExists`)."""


class UserNotFoundV3(FailedPrecondition, UserNotFound):
    """No such user (also v2's :class:`~etcdmap.errors.UserNotFound`)."""


class RoleExistsV3(FailedPrecondition, RoleExists):
    """The role already exists (also v2's :class:`~etcdmap.errors.RoleExists`)."""


class RoleNotFoundV3(FailedPrecondition, RoleNotFound):
    """No such role (also v2's :class:`~etcdmap.errors.RoleNotFound`)."""


class RoleNotGranted(FailedPrecondition, AuthError):
    """The user does not hold the role being revoked."""


class PermissionNotGranted(FailedPrecondition, AuthError):
    """The role does not hold the permission being revoked."""


class MemberExistsV3(FailedPrecondition, MemberExists):
    """A member with these peer URLs (or this ID) already exists (also v2's
    :class:`~etcdmap.errors.MemberExists`)."""


class NotEnoughStartedMembers(FailedPrecondition, MemberChangeRefused):
    """The membership change would leave too few started members for a quorum: refused,
    not applied (also v2's :class:`~etcdmap.errors.MemberChangeRefused`)."""


class MemberNotLearner(FailedPrecondition):
    """Only a learner can be promoted."""


class LearnerNotReady(FailedPrecondition):
    """The learner has not caught up with the leader yet: promote it later."""


class TooManyLearners(FailedPrecondition):
    """The cluster already has as many learners as etcd allows (one)."""


class ClusterIdMismatch(FailedPrecondition):
    """The request came from a member of another cluster."""


class NotLeader(FailedPrecondition):
    """The call must go to the leader (e.g. ``move_leader``)."""


class BadLeaderTransferee(FailedPrecondition):
    """The member asked to become leader cannot (not a voting member, or unknown)."""


class DowngradeInProgress(FailedPrecondition):
    """A downgrade job is already running."""


class NoDowngradeInProgress(FailedPrecondition):
    """There is no downgrade job to cancel."""


# ------------------------------------------------------------------ 11 OutOfRange


class OutOfRange(V3Error, ValueError):
    """11: a revision or TTL is out of range. Also a :class:`ValueError`."""

    grpc_code = 11


class RevisionCompacted(OutOfRange, EventIndexCleared):
    """The requested revision was compacted away: history is lost.

    Re-read the state with a range, then watch from the range's ``header.revision + 1``. Also
    an :class:`~etcdmap.errors.EventIndexCleared` (v2's "history lost"), so code that handles
    history loss on v2 handles it on v3.

    :ivar compact_revision: the oldest revision still kept (0 when the server did not say).
    """

    def __init__(
        self,
        message: str = "etcdserver: mvcc: required revision has been compacted",
        *,
        grpc_code: int | None = None,
        status: int = 0,
        compact_revision: int = 0,
    ):
        super().__init__(message, grpc_code=grpc_code, status=status)
        self.compact_revision = compact_revision
        self.index = compact_revision  # the EtcdError attribute

    def __str__(self) -> str:
        at = f" (compacted at revision {self.compact_revision})" if self.compact_revision else ""
        return V3Error.__str__(self) + at


class FutureRevision(OutOfRange):
    """The requested revision is newer than the store's."""


class LeaseTTLTooLarge(OutOfRange):
    """A lease TTL above 9,000,000,000 s."""


# ------------------------------------------------------------------ 8 ResourceExhausted


class ResourceExhausted(V3Error):
    """8: too many requests, database space exceeded (NOSPACE alarm) or message too large."""

    grpc_code = 8


NOSPACE_RUNBOOK = (
    "the cluster's database reached its space quota (--quota-backend-bytes) and etcd raised "
    "the NOSPACE alarm: every write is refused until it is cleared. Runbook: (1) compact the "
    "history: client.kv.compact(client.status().header.revision); (2) defragment every "
    "member: client.maintenance.defragment(endpoint=url) for each; (3) disarm the alarm: "
    "client.maintenance.disarm(); or raise --quota-backend-bytes"
)
"""What :class:`NoSpace` tells the user to do (etcd's own maintenance guide, "Space quota")."""


class NoSpace(ResourceExhausted):
    """A write was refused because the database is full (``mvcc: database space exceeded``,
    the NOSPACE alarm). The message says the way out: compact, defragment every member,
    disarm (:data:`NOSPACE_RUNBOOK`)."""

    def __str__(self) -> str:
        return f"{V3Error.__str__(self)}: {NOSPACE_RUNBOOK}"


class TooManyRequests(ResourceExhausted):
    """The member's applied index is too far behind its committed index (more than 5,000
    entries): it sheds load. Retry after a short pause."""


# ------------------------------------------------------------------ 14 Unavailable


class Unavailable(V3Error):
    """14: no leader, request timed out, leader changed, server stopped."""

    grpc_code = 14


class NoLeaderV3(Unavailable, NoLeaderError):
    """The member has no leader (an election is running or quorum is lost); also v2's
    :class:`~etcdmap.errors.NoLeaderError`."""


class LeaderChanged(Unavailable):
    """The leader changed while the request was served: retry."""


class RequestTimedOut(Unavailable):
    """etcd gave up waiting for the request's proposal (lost leader, lost connection, slow
    apply). A write may or may not have applied."""


class ServerStopped(Unavailable):
    """The member is stopping."""


class NotCapable(Unavailable):
    """The cluster's version does not support the call yet."""


class LearnerUnsupported(Unavailable):
    """A learner member does not serve this call: ask a voting member."""


class UnhealthyCluster(Unavailable, MemberChangeRefused):
    """A membership change was refused, unapplied, because the leader has not been connected
    to a quorum for long enough (etcd's strict reconfiguration check, ~5 s after a start or
    a member failure): try again shortly. Also v2's :class:`~etcdmap.errors.MemberChangeRefused`."""


# ------------------------------------------------------------------ the others


class ServerTimeout(V3Error, TimeoutError):
    """The server gave up on the request (gRPC 4, or 2 with ``context deadline exceeded``)."""

    grpc_code = 4


class ElectionNotLeader(V3Error):
    """A proclaim or resign came from a campaigner that is no longer the leader (its key is
    gone: the lease expired, or it resigned) -- etcd's ``election: not leader``."""

    grpc_code = 2


class Internal(V3Error):
    """13: an internal server error."""

    grpc_code = 13


class CorruptCluster(V3Error):
    """15: etcd found its data corrupt (the CORRUPT alarm): see etcd's data corruption guide."""

    grpc_code = 15
