"""The etcdmap exception tree.

Every exception etcdmap raises derives from :class:`EtcdMapError`::

    EtcdMapError
    ├── EtcdError                      etcd refused a request (either API): .message .status
    │   │                              .code .cause .index (v2) .grpc_code (v3)
    │   ├── KeyNotFound (100)          also a KeyError
    │   ├── CompareFailed (101)
    │   ├── NotAFile (102)
    │   ├── NotADirectory (104)
    │   ├── NodeExists (105)
    │   ├── RootReadOnly (107)
    │   ├── DirectoryNotEmpty (108)
    │   ├── RequestError (2xx)         also a ValueError
    │   │   ├── PrevValueRequired (201), TTLNaN (202), IndexNaN (203),
    │   │   ├── InvalidField (209), InvalidForm (210),
    │   │   └── RefreshValue (211), RefreshTTLRequired (212)
    │   ├── RaftInternal (300)
    │   │   └── DirectoryTTLUnsupported    the etcd 3.5 directory-TTL regression
    │   ├── LeaderElect (301)
    │   ├── WatcherCleared (400)       also a HistoryLost
    │   ├── EventIndexCleared (401)    also a HistoryLost
    │   ├── MemberError                {"message": ...} errors of /v2/members; .status .message
    │   │   ├── MemberNotFound (404)
    │   │   ├── MemberExists (409)
    │   │   ├── MemberRemoved (410)
    │   │   ├── MemberChangeRefused (500)  etcd's strict reconfig check refused; not applied
    │   │   └── NoLeaderError (503 "During election")
    │   ├── AuthError                  {"message": ...} errors of /v2/auth; .status .message
    │   │   ├── AuthNotFound (404)     UserNotFound, RoleNotFound
    │   │   ├── AuthAlreadyExists (409)    UserExists, RoleExists
    │   │   ├── InsufficientCredentials (401)
    │   │   └── Unauthorized (110)     a refused key request (v3: PermissionDenied)
    │   └── V3Error                    a v3 gRPC error; .grpc_code (tree: etcdmap.errors.v3)
    │       ├── InvalidArgument (3) ... NotFound (5) ... FailedPrecondition (9) ...
    │       ├── NoSpace (8)            the NOSPACE alarm; the message says the runbook
    │       └── ...                    each also an instance of the v2 class of the same
    │                                  meaning (UserNotFoundV3 is a UserNotFound, ...)
    ├── HistoryLost                    a watch's start is older than the store's history
    ├── ClusterError                   every endpoint failed; .errors lists one failure per endpoint
    ├── ServerError                    one member answered 5xx (an entry of ClusterError.errors)
    ├── WatcherClosed                  Watcher.close() was called
    ├── MapClosed                      an EtcdMap used after its close() (also a RuntimeError)
    ├── NoEndpointsError               no endpoint configured (also a ValueError)
    ├── NoLeaderEndpointError
    ├── TooManyRedirectsError
    ├── InvalidResponseError           not JSON, HTML, empty body: probably not an etcd v2 endpoint
    │   └── V2DisabledError            etcd answered 404 "page not found": start it with --enable-v2=true
    ├── DeadlineExceeded               the whole-call ``timeout`` ran out (also a TimeoutError)
    │   └── LockTimeout                a lock or an election was not won in time
    ├── LeaseLost                      a kept-alive lease can no longer be counted on
    ├── LockLost                       a held lock was lost (leaving its ``with`` raises it)
    │   └── LeadershipLost             an election's leader lost its leadership
    ├── AmbiguousResultError           a non-idempotent write was sent; no answer or a 5xx came
    ├── DecodeError                    EtcdMap's codec cannot decode a stored value (also a ValueError)
    └── ConfigValidationError          a bound model rejects the directory's content (also a ValueError)

v2 server errors are mapped by their ``errorCode`` (never by the HTTP status: etcd sends 401
"event index cleared" as HTTP 400 and 110 "unauthorized" as HTTP 401) through one registry,
:func:`error_for_code`; v3 errors on their gRPC code and etcd's text
(:mod:`etcdmap.v3.errors`). Every server error of either API is an :class:`EtcdError`, and
an error that means the same on both APIs is an instance of the same class (catch
``UserNotFound``, ``MemberNotFound``, ``NoLeaderError``, ``Unauthorized``,
``EventIndexCleared`` ... and both APIs are covered).
"""

from etcdmap.errors.admin import (
    AuthAlreadyExists,
    AuthError,
    AuthNotFound,
    InsufficientCredentials,
    MemberChangeRefused,
    MemberError,
    MemberExists,
    MemberNotFound,
    MemberRemoved,
    NoLeaderError,
    RoleExists,
    RoleNotFound,
    Unauthorized,
    UserExists,
    UserNotFound,
)
from etcdmap.errors.base import (
    EtcdMapError,
    HistoryLost,
)
from etcdmap.errors.client import (
    AmbiguousResultError,
    ClusterError,
    ConfigValidationError,
    DeadlineExceeded,
    DecodeError,
    InvalidResponseError,
    MapClosed,
    NoEndpointsError,
    NoLeaderEndpointError,
    ServerError,
    TooManyRedirectsError,
    V2DisabledError,
    WatcherClosed,
)
from etcdmap.errors.locks import LeadershipLost, LeaseLost, LockLost, LockTimeout
from etcdmap.errors.server import (
    CompareFailed,
    DirectoryNotEmpty,
    DirectoryTTLUnsupported,
    EtcdError,
    EventIndexCleared,
    IndexNaN,
    InvalidField,
    InvalidForm,
    KeyNotFound,
    LeaderElect,
    NodeExists,
    NotADirectory,
    NotAFile,
    PrevValueRequired,
    RaftInternal,
    RefreshTTLRequired,
    RefreshValue,
    RequestError,
    RootReadOnly,
    TTLNaN,
    ValueRequired,
    WatcherCleared,
    error_for_code,
)
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
    "AmbiguousResultError",
    "AuthAlreadyExists",
    "AuthError",
    "AuthNotEnabled",
    "AuthNotFound",
    "AuthOldRevision",
    "AuthenticationFailed",
    "BadLeaderTransferee",
    "Canceled",
    "ClusterError",
    "ClusterIdMismatch",
    "CompareFailed",
    "ConfigValidationError",
    "CorruptCluster",
    "DeadlineExceeded",
    "DecodeError",
    "DirectoryNotEmpty",
    "DirectoryTTLUnsupported",
    "DowngradeInProgress",
    "DuplicateKey",
    "ElectionNotLeader",
    "EtcdError",
    "EtcdMapError",
    "EventIndexCleared",
    "FailedPrecondition",
    "FutureRevision",
    "HistoryLost",
    "IndexNaN",
    "InsufficientCredentials",
    "Internal",
    "InvalidArgument",
    "InvalidAuthManagement",
    "InvalidAuthToken",
    "InvalidDowngradeVersion",
    "InvalidField",
    "InvalidForm",
    "InvalidResponseError",
    "KeyNotFound",
    "KeyNotProvided",
    "LeaderChanged",
    "LeaderElect",
    "LeadershipLost",
    "LearnerNotReady",
    "LearnerUnsupported",
    "LeaseExists",
    "LeaseLost",
    "LeaseNotFound",
    "LeaseProvided",
    "LeaseTTLTooLarge",
    "LockLost",
    "LockTimeout",
    "MapClosed",
    "MemberBadURLs",
    "MemberChangeRefused",
    "MemberError",
    "MemberExists",
    "MemberExistsV3",
    "MemberNotFound",
    "MemberNotFoundV3",
    "MemberNotLearner",
    "MemberRemoved",
    "NoCredentials",
    "NoDowngradeInProgress",
    "NoEndpointsError",
    "NoLeaderEndpointError",
    "NoLeaderError",
    "NoLeaderV3",
    "NoSpace",
    "NodeExists",
    "NotADirectory",
    "NotAFile",
    "NotCapable",
    "NotEnoughStartedMembers",
    "NotFound",
    "NotLeader",
    "OutOfRange",
    "PermissionDenied",
    "PermissionNotGiven",
    "PermissionNotGranted",
    "PrevValueRequired",
    "RaftInternal",
    "RefreshTTLRequired",
    "RefreshValue",
    "RequestError",
    "RequestTimedOut",
    "RequestTooLarge",
    "ResourceExhausted",
    "RevisionCompacted",
    "RoleExists",
    "RoleExistsV3",
    "RoleNameEmpty",
    "RoleNotFound",
    "RoleNotFoundV3",
    "RoleNotGranted",
    "RootReadOnly",
    "RootRoleMissing",
    "RootUserMissing",
    "ServerError",
    "ServerStopped",
    "ServerTimeout",
    "TTLNaN",
    "TooManyLearners",
    "TooManyRedirectsError",
    "TooManyRequests",
    "TooManyTxnOps",
    "TouchMissingKey",
    "Unauthorized",
    "Unavailable",
    "UnhealthyCluster",
    "UserExists",
    "UserExistsV3",
    "UserNotFound",
    "UserNotFoundV3",
    "V2DisabledError",
    "V3Error",
    "ValueProvided",
    "ValueRequired",
    "WatcherCleared",
    "WatcherClosed",
    "error_for_code",
]
