"""The etcdmap exception tree.

Every exception etcdmap raises derives from :class:`EtcdMapError`::

    EtcdMapError
    ├── EtcdError                      server answered {"errorCode": ...}; .code .message .cause .index
    │   ├── KeyNotFound (100)          also a KeyError
    │   ├── CompareFailed (101)
    │   ├── NotAFile (102)
    │   ├── NotADirectory (104)
    │   ├── NodeExists (105)
    │   ├── RootReadOnly (107)
    │   ├── DirectoryNotEmpty (108)
    │   ├── Unauthorized (110)         also an AuthError
    │   ├── RequestError (2xx)         also a ValueError
    │   │   ├── PrevValueRequired (201), TTLNaN (202), IndexNaN (203),
    │   │   ├── InvalidField (209), InvalidForm (210),
    │   │   └── RefreshValue (211), RefreshTTLRequired (212)
    │   ├── RaftInternal (300)
    │   │   └── DirectoryTTLUnsupported    the etcd 3.5 directory-TTL regression
    │   ├── LeaderElect (301)
    │   ├── WatcherCleared (400)       also a HistoryLost
    │   └── EventIndexCleared (401)    also a HistoryLost
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
    ├── AmbiguousResultError           a non-idempotent write was sent; no answer or a 5xx came
    ├── DecodeError                    EtcdMap's codec cannot decode a stored value (also a ValueError)
    ├── ConfigValidationError          a bound model rejects the directory's content (also a ValueError)
    ├── MemberError                    {"message": ...} errors of /v2/members; .status .message
    │   ├── MemberNotFound (404)
    │   ├── MemberExists (409)
    │   ├── MemberRemoved (410)
    │   ├── MemberChangeRefused (500)  etcd's strict reconfig check refused; not applied
    │   └── NoLeaderError (503 "During election")
    └── AuthError                      {"message": ...} errors of /v2/auth; .status .message
        ├── AuthNotFound (404)         UserNotFound, RoleNotFound
        ├── AuthAlreadyExists (409)    UserExists, RoleExists
        ├── InsufficientCredentials (401)
        └── Unauthorized (also an EtcdError, code 110)

Server errors are mapped by their ``errorCode`` (never by the HTTP status: etcd sends 401
"event index cleared" as HTTP 400 and 110 "unauthorized" as HTTP 401) through one registry,
:func:`error_for_code`.
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

__all__ = [
    "AmbiguousResultError",
    "AuthAlreadyExists",
    "AuthError",
    "AuthNotFound",
    "ClusterError",
    "CompareFailed",
    "ConfigValidationError",
    "DeadlineExceeded",
    "DecodeError",
    "DirectoryNotEmpty",
    "DirectoryTTLUnsupported",
    "EtcdError",
    "EtcdMapError",
    "EventIndexCleared",
    "HistoryLost",
    "IndexNaN",
    "InsufficientCredentials",
    "InvalidField",
    "InvalidForm",
    "InvalidResponseError",
    "KeyNotFound",
    "LeaderElect",
    "MapClosed",
    "MemberChangeRefused",
    "MemberError",
    "MemberExists",
    "MemberNotFound",
    "MemberRemoved",
    "NoEndpointsError",
    "NoLeaderEndpointError",
    "NoLeaderError",
    "NodeExists",
    "NotADirectory",
    "NotAFile",
    "PrevValueRequired",
    "RaftInternal",
    "RefreshTTLRequired",
    "RefreshValue",
    "RequestError",
    "RoleExists",
    "RoleNotFound",
    "RootReadOnly",
    "ServerError",
    "TTLNaN",
    "TooManyRedirectsError",
    "Unauthorized",
    "UserExists",
    "UserNotFound",
    "V2DisabledError",
    "ValueRequired",
    "WatcherCleared",
    "WatcherClosed",
    "error_for_code",
]
