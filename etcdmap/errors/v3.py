"""The errors of etcd's v3 API, one class per meaning, each an :class:`EtcdError`.

The gateway reports a gRPC code and etcd's text (etcd-io/etcd
release-3.5:api/v3rpc/rpctypes/error.go); :mod:`etcdmap.v3.errors` maps them onto these
classes. Each family of gRPC codes has a class (``InvalidArgument``, ``NotFound``,
``FailedPrecondition``...), and an error that means the same as a v2 error is also an instance
of the v2 class, so one ``except`` serves both APIs::

    EtcdError
    └── V3Error                          .grpc_code .message .status
        ├── Canceled (1)
        ├── InvalidArgument (3)          also a ValueError
        │   ├── KeyNotProvided, ValueProvided, LeaseProvided, TooManyTxnOps, DuplicateKey,
        │   │   RequestTooLarge, MemberBadURLs, RoleNameEmpty, PermissionNotGiven,
        │   │   InvalidAuthManagement, AuthOldRevision, InvalidDowngradeVersion
        │   └── TouchMissingKey          also a KeyNotFound (v2's 100)
        ├── AuthenticationFailed (3)     also InsufficientCredentials
        ├── NoCredentials (3)            "user name is empty"; also InsufficientCredentials
        ├── InvalidAuthToken (16)        also InsufficientCredentials
        ├── PermissionDenied (7)         also Unauthorized (v2's 110) and an AuthError
        ├── NotFound (5)                 LeaseNotFound (also a KeyError),
        │                                MemberNotFoundV3 (also MemberNotFound)
        ├── FailedPrecondition (9)       LeaseExists, AuthNotEnabled, RootUserMissing,
        │                                RootRoleMissing, UserExistsV3, UserNotFoundV3,
        │                                RoleExistsV3, RoleNotFoundV3, RoleNotGranted,
        │                                PermissionNotGranted, MemberExistsV3, NotLeader,
        │                                NotEnoughStartedMembers (also MemberChangeRefused),
        │                                MemberNotLearner, LearnerNotReady, TooManyLearners,
        │                                ClusterIdMismatch, BadLeaderTransferee,
        │                                DowngradeInProgress, NoDowngradeInProgress
        ├── OutOfRange (11)              also a ValueError: RevisionCompacted (also
        │                                EventIndexCleared), FutureRevision, LeaseTTLTooLarge
        ├── ResourceExhausted (8)        NoSpace (the NOSPACE alarm: says the runbook),
        │                                TooManyRequests
        ├── Unavailable (14)             NoLeaderV3 (also NoLeaderError), LeaderChanged,
        │                                RequestTimedOut, ServerStopped, NotCapable,
        │                                LearnerUnsupported, UnhealthyCluster (also
        │                                MemberChangeRefused)
        ├── ServerTimeout (4, or 2)      "context deadline exceeded"; also a TimeoutError
        ├── ElectionNotLeader (2)        proclaim/resign by a campaigner that lost leadership
        ├── Internal (13)
        └── CorruptCluster (15)

Thread-safety: the classes are immutable once raised.
"""

from __future__ import annotations

from etcdmap.errors.admin import (
    AuthError,
    InsufficientCredentials,
    MemberChangeRefused,
    MemberExists,
    MemberNotFound,
    NoLeaderError,
    RoleExists,
    RoleNotFound,
    Unauthorized,
    UserExists,
    UserNotFound,
)
from etcdmap.errors.server import EtcdError, EventIndexCleared, KeyNotFound

__all__ = [
    "AuthNotEnabled", "AuthOldRevision", "AuthenticationFailed", "BadLeaderTransferee",
    "Canceled", "ClusterIdMismatch", "CorruptCluster", "DowngradeInProgress", "DuplicateKey",
    "ElectionNotLeader", "FailedPrecondition", "FutureRevision", "Internal",
    "InvalidArgument", "InvalidAuthManagement", "InvalidAuthToken", "InvalidDowngradeVersion",
    "KeyNotProvided", "LeaderChanged", "LearnerNotReady", "LearnerUnsupported", "LeaseExists",
    "LeaseNotFound", "LeaseProvided", "LeaseTTLTooLarge", "MemberBadURLs", "MemberExistsV3",
    "MemberNotFoundV3", "MemberNotLearner", "NoCredentials", "NoDowngradeInProgress",
    "NoLeaderV3", "NoSpace", "NotCapable", "NotEnoughStartedMembers", "NotFound", "NotLeader",
    "OutOfRange", "PermissionDenied", "PermissionNotGiven", "PermissionNotGranted",
    "RequestTimedOut", "RequestTooLarge", "ResourceExhausted", "RevisionCompacted",
    "RoleExistsV3", "RoleNameEmpty", "RoleNotFoundV3", "RoleNotGranted", "RootRoleMissing",
    "RootUserMissing", "ServerStopped", "ServerTimeout", "TooManyLearners", "TooManyRequests",
    "TooManyTxnOps", "TouchMissingKey", "Unavailable", "UnhealthyCluster", "UserExistsV3",
    "UserNotFoundV3", "V3Error", "ValueProvided",
]


class V3Error(EtcdError):
    """etcd's v3 API answered with a gRPC error.

    :param message: etcd's text, e.g. ``"etcdserver: key is not provided"``.
    :param grpc_code: the gRPC status code (default: the class's).
    :param status: the HTTP status of the answer (0 for an error line inside a stream).
    :ivar grpc_code: the gRPC status code (3 InvalidArgument, 5 NotFound, 16 Unauthenticated...).
    :ivar message: etcd's text.
    :ivar status: the HTTP status.
    """

    def __init__(self, message: str = "", *, grpc_code: int | None = None, status: int = 0):
        if grpc_code is not None:
            self.grpc_code = grpc_code
        self.message = message
        self.status = status
        self.cause, self.index = "", 0  # the v2 attributes every EtcdError has
        # Exception's own __init__: the v2 classes mixed in below have other signatures.
        Exception.__init__(self, message)

    def __str__(self) -> str:
        http = f", HTTP {self.status}" if self.status else ""
        return f"{self.message} (gRPC code {self.grpc_code}{http})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, grpc_code={self.grpc_code})"


class Canceled(V3Error):
    """1: the request was canceled (the caller went away)."""

    grpc_code = 1


# ------------------------------------------------------------------ 3 InvalidArgument


class InvalidArgument(V3Error, ValueError):
    """3: etcd refused the request's arguments. Also a :class:`ValueError`."""

    grpc_code = 3


class KeyNotProvided(InvalidArgument):
    """The key is empty."""


class ValueProvided(InvalidArgument):
    """``ignore_value`` was combined with a value."""


class LeaseProvided(InvalidArgument):
    """``ignore_lease`` was combined with a lease."""


class TouchMissingKey(InvalidArgument, KeyNotFound):
    """A put with ``ignore_value`` or ``ignore_lease`` names a key that does not exist. Also
    a :class:`~etcdmap.errors.KeyNotFound` (and so a ``KeyError``)."""

    def __str__(self) -> str:
        return V3Error.__str__(self)


class TooManyTxnOps(InvalidArgument):
    """A txn branch has more operations than the server's ``--max-txn-ops`` (128 by default)."""


class DuplicateKey(InvalidArgument):
    """A txn writes the same key twice."""


class RequestTooLarge(InvalidArgument):
    """The request is larger than the server's ``--max-request-bytes`` (1.5 MiB by default)."""


class MemberBadURLs(InvalidArgument):
    """The peer URLs of a member add or update are not valid URLs."""


class RoleNameEmpty(InvalidArgument):
    """A role call named no role."""


class PermissionNotGiven(InvalidArgument):
    """A role grant carried no permission."""


class InvalidAuthManagement(InvalidArgument):
    """An auth change that etcd refuses (e.g. revoking ``root``'s ``root`` role)."""


class AuthOldRevision(InvalidArgument):
    """The auth store changed under the request (its token's auth revision is old): retry."""


class InvalidDowngradeVersion(InvalidArgument):
    """A downgrade target version that is malformed or not one minor version below."""


class AuthenticationFailed(V3Error, InsufficientCredentials):
    """The user name or password is wrong (gRPC code 3). Also an :class:`AuthError`."""

    grpc_code = 3


class NoCredentials(V3Error, InsufficientCredentials):
    """Auth is enabled and the request carried no token (etcd: ``user name is empty``):
    pass ``username=`` and ``password=`` to the client."""

    grpc_code = 3


class InvalidAuthToken(V3Error, InsufficientCredentials):
    """16: the token is invalid or expired (the client re-authenticates once by itself)."""

    grpc_code = 16


class PermissionDenied(V3Error, Unauthorized):
    """7: the user's roles do not grant this key range or operation. Also v2's
    :class:`~etcdmap.errors.Unauthorized` (a refused request) and an :class:`AuthError`."""

    grpc_code = 7


# ------------------------------------------------------------------ 5 NotFound


class NotFound(V3Error):
    """5: the lease or member does not exist."""

    grpc_code = 5


class LeaseNotFound(NotFound, KeyError):
    """The lease does not exist (never granted, revoked or expired). Also a :class:`KeyError`."""

    def __str__(self) -> str:  # KeyError.__str__ would repr() the args
        return V3Error.__str__(self)


class MemberNotFoundV3(NotFound, MemberNotFound):
    """No member has this ID (also v2's :class:`~etcdmap.errors.MemberNotFound`)."""


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
