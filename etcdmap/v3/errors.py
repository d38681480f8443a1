"""Reading the errors of etcd's v3 API, as the HTTP/JSON gateway reports them.

The gateway answers ``{"error": text, "code": grpc_code, "message": text}`` (3.5, grpc-gateway
v1) or ``{"code": grpc_code, "message": text}`` (3.6, grpc-gateway v2, no ``error`` field); a
stream ends with ``{"error": {"grpc_code": ..., "message": ...}}`` (3.5) or
``{"error": {"code": ..., "message": ...}}`` (3.6). The HTTP status alone is not enough (400
covers gRPC codes 3, 9 and 11), so errors are classified on the gRPC code plus etcd's exact
text (etcd-io/etcd release-3.5:api/v3rpc/rpctypes/error.go), through one table; a body with
a message but no code is classified by its HTTP status. The classes live in
:mod:`etcdmap.errors.v3` (the tree is drawn there) and are re-exported here.

Thread-safety: every function is pure.
"""

from __future__ import annotations

from json import JSONDecodeError, loads

from etcdmap.errors import EtcdError
from etcdmap.errors.v3 import (
    AuthenticationFailed,
    AuthOldRevision,
    Canceled,
    DuplicateKey,
    InvalidArgument,
    InvalidAuthManagement,
    InvalidAuthToken,
    InvalidDowngradeVersion,
    KeyNotProvided,
    LeaseNotFound,
    LeaseProvided,
    MemberBadURLs,
    MemberNotFoundV3,
    NoCredentials,
    NotFound,
    PermissionDenied,
    PermissionNotGiven,
    RequestTooLarge,
    RoleNameEmpty,
    TooManyTxnOps,
    TouchMissingKey,
    V3Error,
    ValueProvided,
)
from etcdmap.errors.v3_state import (
    NOSPACE_RUNBOOK,
    AuthNotEnabled,
    BadLeaderTransferee,
    ClusterIdMismatch,
    CorruptCluster,
    DowngradeInProgress,
    ElectionNotLeader,
    FailedPrecondition,
    FutureRevision,
    Internal,
    LeaderChanged,
    LearnerNotReady,
    LearnerUnsupported,
    LeaseExists,
    LeaseTTLTooLarge,
    MemberExistsV3,
    MemberNotLearner,
    NoDowngradeInProgress,
    NoLeaderV3,
    NoSpace,
    NotCapable,
    NotEnoughStartedMembers,
    NotLeader,
    OutOfRange,
    PermissionNotGranted,
    RequestTimedOut,
    ResourceExhausted,
    RevisionCompacted,
    RoleExistsV3,
    RoleNotFoundV3,
    RoleNotGranted,
    RootRoleMissing,
    RootUserMissing,
    ServerStopped,
    ServerTimeout,
    TooManyLearners,
    TooManyRequests,
    Unavailable,
    UnhealthyCluster,
    UserExistsV3,
    UserNotFoundV3,
)

__all__ = [
    "NOSPACE_RUNBOOK",
    "AuthNotEnabled",
    "AuthOldRevision",
    "AuthenticationFailed",
    "BadLeaderTransferee",
    "Canceled",
    "ClusterIdMismatch",
    "CorruptCluster",
    "DowngradeInProgress",
    "DuplicateKey",
    "ElectionNotLeader",
    "FailedPrecondition",
    "FutureRevision",
    "Internal",
    "InvalidArgument",
    "InvalidAuthManagement",
    "InvalidAuthToken",
    "InvalidDowngradeVersion",
    "KeyNotProvided",
    "LeaderChanged",
    "LearnerNotReady",
    "LearnerUnsupported",
    "LeaseExists",
    "LeaseNotFound",
    "LeaseProvided",
    "LeaseTTLTooLarge",
    "MemberBadURLs",
    "MemberExistsV3",
    "MemberNotFoundV3",
    "MemberNotLearner",
    "NoCredentials",
    "NoDowngradeInProgress",
    "NoLeaderV3",
    "NoSpace",
    "NotCapable",
    "NotEnoughStartedMembers",
    "NotFound",
    "NotLeader",
    "OutOfRange",
    "PermissionDenied",
    "PermissionNotGiven",
    "PermissionNotGranted",
    "RequestTimedOut",
    "RequestTooLarge",
    "ResourceExhausted",
    "RevisionCompacted",
    "RoleExistsV3",
    "RoleNameEmpty",
    "RoleNotFoundV3",
    "RoleNotGranted",
    "RootRoleMissing",
    "RootUserMissing",
    "ServerStopped",
    "ServerTimeout",
    "TooManyLearners",
    "TooManyRequests",
    "TooManyTxnOps",
    "TouchMissingKey",
    "Unavailable",
    "UnhealthyCluster",
    "UserExistsV3",
    "UserNotFoundV3",
    "V3Error",
    "ValueProvided",
    "error_from_body",
    "error_from_fields",
    "server_error",
]

_BY_CODE: dict[int, type[V3Error]] = {
    1: Canceled, 3: InvalidArgument, 4: ServerTimeout, 5: NotFound, 7: PermissionDenied,
    8: ResourceExhausted, 9: FailedPrecondition, 11: OutOfRange, 13: Internal, 14: Unavailable,
    15: CorruptCluster, 16: InvalidAuthToken,
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
    (3, "given member URLs are invalid"): MemberBadURLs,
    (3, "authentication failed, invalid user ID or password"): AuthenticationFailed,
    (3, "user name is empty"): NoCredentials,
    (3, "role name is empty"): RoleNameEmpty,
    (3, "permission not given"): PermissionNotGiven,
    (3, "invalid auth management"): InvalidAuthManagement,
    (3, "revision of auth store is old"): AuthOldRevision,
    (3, "wrong downgrade target version format"): InvalidDowngradeVersion,
    (3, "invalid downgrade target version"): InvalidDowngradeVersion,
    (5, "requested lease not found"): LeaseNotFound,
    (5, "member not found"): MemberNotFoundV3,
    (8, "mvcc: database space exceeded"): NoSpace,
    (8, "too many requests"): TooManyRequests,
    (9, "lease already exists"): LeaseExists,
    (9, "authentication is not enabled"): AuthNotEnabled,
    (9, "root user does not exist"): RootUserMissing,
    (9, "root user does not have root role"): RootRoleMissing,
    (9, "user name already exists"): UserExistsV3,
    (9, "user name not found"): UserNotFoundV3,
    (9, "role name already exists"): RoleExistsV3,
    (9, "role name not found"): RoleNotFoundV3,
    (9, "role is not granted to the user"): RoleNotGranted,
    (9, "permission is not granted to the role"): PermissionNotGranted,
    (9, "member ID already exist"): MemberExistsV3,
    (9, "Peer URLs already exists"): MemberExistsV3,
    (9, "re-configuration failed due to not enough started members"): NotEnoughStartedMembers,
    (9, "can only promote a learner member"): MemberNotLearner,
    (9, "can only promote a learner member which is in sync with leader"): LearnerNotReady,
    (9, "too many learner members in cluster"): TooManyLearners,
    (9, "cluster ID mismatch"): ClusterIdMismatch,
    (9, "not leader"): NotLeader,
    (9, "bad leader transferee"): BadLeaderTransferee,
    (9, "cluster has a downgrade job in progress"): DowngradeInProgress,
    (9, "no inflight downgrade job"): NoDowngradeInProgress,
    (11, "mvcc: required revision has been compacted"): RevisionCompacted,
    (11, "mvcc: required revision is a future revision"): FutureRevision,
    (11, "too large lease TTL"): LeaseTTLTooLarge,
    (14, "no leader"): NoLeaderV3,
    (14, "leader changed"): LeaderChanged,
    (14, "not capable"): NotCapable,
    (14, "server stopped"): ServerStopped,
    (14, "request timed out"): RequestTimedOut,
    (14, "request timed out, possibly due to previous leader failure"): RequestTimedOut,
    (14, "request timed out, possibly due to connection lost"): RequestTimedOut,
    (14, "request timed out, waiting for the applied index took too long"): RequestTimedOut,
    (14, "unhealthy cluster"): UnhealthyCluster,
    (14, "rpc not supported for learner"): LearnerUnsupported,
    (14, "cluster version not found during downgrade"): Unavailable,
    (2, "context deadline exceeded"): ServerTimeout,
    # The lock and election services return plain Go errors, which gRPC sends as Unknown (2)
    # and the gateway as HTTP 500 (etcd-io/etcd release-3.5:client/v3/concurrency/election.go).
    (2, "election: not leader"): ElectionNotLeader,
}
# A body with a message and no code (a proxy in between, a future gateway): its HTTP status
# stands for the gRPC code (grpc-gateway's HTTPStatusFromCode, read backwards).
_BY_STATUS: dict[int, int] = {
    400: 3, 401: 16, 403: 7, 404: 5, 408: 1, 412: 9, 429: 8, 499: 1, 503: 14, 504: 4,
}
_PREFIX = "etcdserver: "
# Answers of HTTP 500 that every member would give alike (the lock and election services'
# own errors): returned like a 4xx rather than failed over (see :func:`server_error`).
_DETERMINISTIC_500 = frozenset({
    "election: no leader", "election: not leader", '"leader" field must be provided',
    "mutex: session is expired",
})


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
    if not isinstance(text, str):
        return None
    if code is None and status in _BY_STATUS:
        code = _BY_STATUS[status]
    if type(code) is not int:
        return None
    return error_from_fields(code, text, status)


def server_error(status: int, body: bytes, endpoint: str) -> tuple[EtcdError | None, bool]:
    """How the v3 client's transport reads a 5xx answer (its ``server_error`` hook).

    :param status: the HTTP status (500 or above).
    :param body: the body.
    :param endpoint: the member that answered.
    :returns: ``(error, final)``: the v3 error the body describes (kept in the
        :class:`~etcdmap.errors.ServerError` of that attempt, so a
        :class:`~etcdmap.errors.ClusterError` says what each member answered), and whether
        every member would answer alike (the election service's ``election: no leader``):
        such an answer is returned like a 4xx instead of being failed over.
    """
    error = error_from_body(status, body)
    final = error is not None and error.message in _DETERMINISTIC_500
    return error, final
