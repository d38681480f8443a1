"""The errors of etcd's v3 API, as the HTTP/JSON gateway reports them.

The gateway answers ``{"error": text, "code": grpc_code, "message": text}`` (3.5, grpc-gateway
v1) or ``{"code": grpc_code, "message": text}`` (3.6, grpc-gateway v2); a stream ends with
``{"error": {"grpc_code": ..., "message": ...}}``. The HTTP status is not enough (400 covers
gRPC codes 3, 9 and 11), so errors are classified on the gRPC code plus etcd's exact text
(etcd-io/etcd release-3.5:api/v3rpc/rpctypes/error.go), through one table::

    EtcdMapError
    └── V3Error                          .grpc_code .message .status
        ├── InvalidArgument (3)          also a ValueError
        │   ├── TooManyTxnOps            more than --max-txn-ops (128) ops in a txn branch
        │   ├── DuplicateKey             two writes to one key in a txn
        │   ├── RequestTooLarge          more than --max-request-bytes (1.5 MiB)
        │   └── KeyNotProvided, ValueProvided, LeaseProvided, TouchMissingKey
        ├── AuthenticationFailed (3)     wrong user/password; also InsufficientCredentials
        ├── NoCredentials (3)            "user name is empty": auth is on and no token was sent
        ├── InvalidAuthToken (16)        a bad or expired token; also InsufficientCredentials
        ├── PermissionDenied (7)         also an AuthError
        ├── NotFound (5)                 LeaseNotFound, MemberNotFoundV3 (also MemberNotFound)
        ├── FailedPrecondition (9)       LeaseExists, AuthNotEnabled, RootUserMissing,
        │                                RootRoleMissing, UserExistsV3 (also UserExists),
        │                                RoleExistsV3, MemberExistsV3 (also MemberExists), NotLeader
        ├── OutOfRange (11)              also a ValueError
        │   ├── RevisionCompacted        history lost; .compact_revision; also EventIndexCleared
        │   ├── FutureRevision
        │   └── LeaseTTLTooLarge
        ├── ResourceExhausted (8)        too many requests, database space exceeded
        ├── Unavailable (14)             NoLeaderV3 (also NoLeaderError), UnhealthyCluster
        └── ServerTimeout (2 or 4)       "context deadline exceeded"; also a TimeoutError

Thread-safety: the classes are immutable once raised; :func:`error_from_body` is pure.
"""

from __future__ import annotations

from json import JSONDecodeError, loads
from typing import Any

from etcdmap.errors import (
    AuthError,
    EtcdMapError,
    EventIndexCleared,
    InsufficientCredentials,
    MemberExists,
    MemberNotFound,
    NoLeaderError,
    RoleExists,
    UserExists,
)

__all__ = [
    "AuthNotEnabled",
    "AuthenticationFailed",
    "DuplicateKey",
    "FailedPrecondition",
    "FutureRevision",
    "InvalidArgument",
    "InvalidAuthToken",
    "KeyNotProvided",
    "LeaseExists",
    "LeaseNotFound",
    "LeaseProvided",
    "LeaseTTLTooLarge",
    "MemberExistsV3",
    "MemberNotFoundV3",
    "NoCredentials",
    "NoLeaderV3",
    "NotFound",
    "NotLeader",
    "OutOfRange",
    "PermissionDenied",
    "RequestTooLarge",
    "ResourceExhausted",
    "RevisionCompacted",
    "RoleExistsV3",
    "RootRoleMissing",
    "RootUserMissing",
    "ServerTimeout",
    "TooManyTxnOps",
    "TouchMissingKey",
    "Unavailable",
    "UnhealthyCluster",
    "UserExistsV3",
    "V3Error",
    "ValueProvided",
    "error_from_body",
    "error_from_fields",
]


class V3Error(EtcdMapError):
    """etcd's v3 API answered with a gRPC error.

    :ivar grpc_code: the gRPC status code (3 InvalidArgument, 5 NotFound, 16 Unauthenticated...).
    :ivar message: etcd's text, e.g. ``"etcdserver: key is not provided"``.
    :ivar status: the HTTP status of the answer (0 for an error line inside a stream).
    """

    grpc_code: int = 0

    def __init__(self, message: str = "", *, grpc_code: int | None = None, status: int = 0):
        if grpc_code is not None:
            self.grpc_code = grpc_code
        self.message = message
        self.status = status
        # Exception's own __init__: the v2 classes mixed in below have other signatures.
        Exception.__init__(self, message)

    def __str__(self) -> str:
        http = f", HTTP {self.status}" if self.status else ""
        return f"{self.message} (gRPC code {self.grpc_code}{http})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, grpc_code={self.grpc_code})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.grpc_code, self.status))


def _rebuild(cls: type[V3Error], message: str, grpc_code: int, status: int) -> V3Error:
    return cls(message, grpc_code=grpc_code, status=status)


class InvalidArgument(V3Error, ValueError):
    """3: etcd refused the request's arguments. Also a :class:`ValueError`."""

    grpc_code = 3


class KeyNotProvided(InvalidArgument):
    """The key is empty."""


class ValueProvided(InvalidArgument):
    """``ignore_value`` was combined with a value."""


class LeaseProvided(InvalidArgument):
    """``ignore_lease`` was combined with a lease."""


class TouchMissingKey(InvalidArgument):
    """A put with ``ignore_value`` or ``ignore_lease`` names a key that does not exist."""


class TooManyTxnOps(InvalidArgument):
    """A txn branch has more operations than the server's ``--max-txn-ops`` (128 by default)."""


class DuplicateKey(InvalidArgument):
    """A txn writes the same key twice."""


class RequestTooLarge(InvalidArgument):
    """The request is larger than the server's ``--max-request-bytes`` (1.5 MiB by default)."""


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


class PermissionDenied(V3Error, AuthError):
    """7: the user's roles do not grant this key range or operation."""

    grpc_code = 7


class NotFound(V3Error):
    """5: the lease or member does not exist."""

    grpc_code = 5


class LeaseNotFound(NotFound, KeyError):
    """The lease does not exist (never granted, revoked or expired). Also a :class:`KeyError`."""

    def __str__(self) -> str:  # KeyError.__str__ would repr() the args
        return V3Error.__str__(self)


class MemberNotFoundV3(NotFound, MemberNotFound):
    """No member has this ID."""


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
    """The user already exists."""


class RoleExistsV3(FailedPrecondition, RoleExists):
    """The role already exists."""


class MemberExistsV3(FailedPrecondition, MemberExists):
    """A member with these peer URLs (or this ID) already exists."""


class NotLeader(FailedPrecondition):
    """The call must go to the leader."""


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
        self.cause, self.index = "", compact_revision  # the EtcdError attributes

    def __str__(self) -> str:
        at = f" (compacted at revision {self.compact_revision})" if self.compact_revision else ""
        return V3Error.__str__(self) + at

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_compacted, (self.message, self.status, self.compact_revision))


def _rebuild_compacted(message: str, status: int, compact_revision: int) -> RevisionCompacted:
    return RevisionCompacted(message, status=status, compact_revision=compact_revision)


class FutureRevision(OutOfRange):
    """The requested revision is newer than the store's."""


class LeaseTTLTooLarge(OutOfRange):
    """A lease TTL above 9,000,000,000 s."""


class ResourceExhausted(V3Error):
    """8: too many requests, database space exceeded (NOSPACE alarm) or message too large."""

    grpc_code = 8


class Unavailable(V3Error):
    """14: no leader, request timed out, leader changed, server stopped."""

    grpc_code = 14


class NoLeaderV3(Unavailable, NoLeaderError):
    """The member has no leader (an election is running or quorum is lost)."""


class UnhealthyCluster(Unavailable):
    """A membership change was refused, unapplied, because the leader has not been connected
    to a quorum for long enough (etcd's strict reconfiguration check, ~5 s after a start or
    a member failure): try again shortly."""


class ServerTimeout(V3Error, TimeoutError):
    """The server gave up on the request (gRPC 4, or 2 with ``context deadline exceeded``)."""

    grpc_code = 4


_BY_CODE: dict[int, type[V3Error]] = {
    3: InvalidArgument, 4: ServerTimeout, 5: NotFound, 7: PermissionDenied, 8: ResourceExhausted,
    9: FailedPrecondition, 11: OutOfRange, 14: Unavailable, 16: InvalidAuthToken,
}
# (code, text without the "etcdserver: " prefix) -> class; etcd's texts are stable per release.
_BY_TEXT: dict[tuple[int, str], type[V3Error]] = {
    (3, "key is not provided"): KeyNotProvided,
    (3, "value is provided"): ValueProvided,
    (3, "lease is provided"): LeaseProvided,
    (3, "key not found"): TouchMissingKey,
    (3, "too many operations in txn request"): TooManyTxnOps,
    (3, "duplicate key given in txn request"): DuplicateKey,
    (3, "request is too large"): RequestTooLarge,
    (3, "authentication failed, invalid user ID or password"): AuthenticationFailed,
    (3, "user name is empty"): NoCredentials,
    (5, "requested lease not found"): LeaseNotFound,
    (5, "member not found"): MemberNotFoundV3,
    (9, "lease already exists"): LeaseExists,
    (9, "authentication is not enabled"): AuthNotEnabled,
    (9, "root user does not exist"): RootUserMissing,
    (9, "root user does not have root role"): RootRoleMissing,
    (9, "user name already exists"): UserExistsV3,
    (9, "role name already exists"): RoleExistsV3,
    (9, "member ID already exist"): MemberExistsV3,
    (9, "Peer URLs already exists"): MemberExistsV3,
    (9, "not leader"): NotLeader,
    (11, "mvcc: required revision has been compacted"): RevisionCompacted,
    (11, "mvcc: required revision is a future revision"): FutureRevision,
    (11, "too large lease TTL"): LeaseTTLTooLarge,
    (14, "no leader"): NoLeaderV3,
    (14, "unhealthy cluster"): UnhealthyCluster,
    (2, "context deadline exceeded"): ServerTimeout,
}
_PREFIX = "etcdserver: "


def error_from_fields(grpc_code: int, message: str, status: int = 0) -> V3Error:
    """The most specific :class:`V3Error` for a gRPC code and etcd's text.

    :param grpc_code: the gRPC code.
    :param message: etcd's text (with or without the ``etcdserver:`` prefix).
    :param status: the HTTP status (0: none).
    :returns: the exception (not raised); an unknown code gives a plain :class:`V3Error`.
    """
    text = message.removeprefix(_PREFIX)
    cls = _BY_TEXT.get((grpc_code, text)) or _BY_CODE.get(grpc_code, V3Error)
    return cls(message, grpc_code=grpc_code, status=status)


def error_from_body(status: int, body: bytes) -> V3Error | None:
    """The error an answer's body describes, in the 3.5 or the 3.6 shape.

    :param status: the HTTP status.
    :param body: the raw body.
    :returns: the exception (not raised), or ``None`` when the body is not a gateway error
        (e.g. the plain-text ``404 page not found`` of an unknown route).
    """
    try:
        data = loads(body)
    except (JSONDecodeError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    inner = data.get("error")
    if isinstance(inner, dict):  # a stream's last line
        data, inner = inner, inner.get("message")
    code = data.get("code", data.get("grpc_code"))
    text = data.get("message") or inner
    if type(code) is not int or not isinstance(text, str):
        return None
    return error_from_fields(code, text, status)
