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

The classes of the request-side codes (1, 3, 5, 7, 16) are here; those about the cluster's
state (9, 11, 8, 14, 4, 2, 13, 15) are in :mod:`etcdmap.errors.v3_state`.

Thread-safety: the classes are immutable once raised.
"""

from __future__ import annotations

from etcdmap.errors.admin import (
    InsufficientCredentials,
    MemberNotFound,
    Unauthorized,
)
from etcdmap.errors.server import EtcdError, KeyNotFound

__all__ = [
    "AuthOldRevision",
    "AuthenticationFailed",
    "Canceled",
    "DuplicateKey",
    "InvalidArgument",
    "InvalidAuthManagement",
    "InvalidAuthToken",
    "InvalidDowngradeVersion",
    "KeyNotProvided",
    "LeaseNotFound",
    "LeaseProvided",
    "MemberBadURLs",
    "MemberNotFoundV3",
    "NoCredentials",
    "NotFound",
    "PermissionDenied",
    "PermissionNotGiven",
    "RequestTooLarge",
    "RoleNameEmpty",
    "TooManyTxnOps",
    "TouchMissingKey",
    "V3Error",
    "ValueProvided",
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
