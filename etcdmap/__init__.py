"""etcdmap: a complete, fast, failure-proof etcd v2 client and a dict-like ``EtcdMap``.

The client layer::

    client = etcdmap.Client(["http://127.0.0.1:2379"])
    client.keys.set("/foo", "bar")

The mapping façade::

    config = etcdmap.EtcdMap(client, "/config")      # or etcdmap.connect(url, "/config")
    config["db"] = {"host": "h", "port": "5432"}

Importing etcdmap has no side effects. Exceptions live in :mod:`etcdmap.errors` and are all
re-exported here; signals live in :mod:`etcdmap.signals`. :mod:`etcdmap.testing` (real etcd
servers for tests) is imported explicitly.
"""

from __future__ import annotations

from etcdmap import signals
from etcdmap._connect import connect
from etcdmap._version import __version__
from etcdmap.errors import (
    AmbiguousResultError,
    AuthAlreadyExists,
    AuthError,
    AuthNotFound,
    ClusterError,
    CompareFailed,
    ConfigValidationError,
    DeadlineExceeded,
    DecodeError,
    DirectoryNotEmpty,
    DirectoryTTLUnsupported,
    EtcdError,
    EtcdMapError,
    EventIndexCleared,
    HistoryLost,
    IndexNaN,
    InsufficientCredentials,
    InvalidField,
    InvalidForm,
    InvalidResponseError,
    KeyNotFound,
    LeaderElect,
    MapClosed,
    MemberChangeRefused,
    MemberError,
    MemberExists,
    MemberNotFound,
    MemberRemoved,
    NodeExists,
    NoEndpointsError,
    NoLeaderEndpointError,
    NoLeaderError,
    NotADirectory,
    NotAFile,
    PrevValueRequired,
    RaftInternal,
    RefreshTTLRequired,
    RefreshValue,
    RequestError,
    RoleExists,
    RoleNotFound,
    RootReadOnly,
    ServerError,
    TooManyRedirectsError,
    TTLNaN,
    Unauthorized,
    UserExists,
    UserNotFound,
    V2DisabledError,
    ValueRequired,
    WatcherCleared,
    WatcherClosed,
)
from etcdmap.http.transport import disable_curl_debug, enable_curl_debug
from etcdmap.mapping.cache import ReadCache
from etcdmap.mapping.codecs import Base64Codec, Codec, JsonCodec, StrCodec
from etcdmap.mapping.emap import EtcdMap
from etcdmap.mapping.keepalive import KeepAlive
from etcdmap.mapping.memory import MemoryBackend
from etcdmap.mapping.mirror import Mirror, MirrorDir
from etcdmap.mapping.watch import Watch
from etcdmap.models import Node, Permission, Selection
from etcdmap.v2.auth import AuthAPI, RolesAPI, UsersAPI
from etcdmap.v2.client import Client
from etcdmap.v2.keys import KeysAPI
from etcdmap.v2.members import MembersAPI
from etcdmap.v2.models import (
    FollowerStats,
    Health,
    LeaderStats,
    Member,
    Response,
    Role,
    SelfStats,
    StoreStats,
    User,
    Versions,
)
from etcdmap.v2.stats import StatsAPI
from etcdmap.v2.sync import AutoSync
from etcdmap.v2.watcher import Watcher

__all__ = [
    "AmbiguousResultError",
    "AuthAPI",
    "AuthAlreadyExists",
    "AuthError",
    "AuthNotFound",
    "AutoSync",
    "Base64Codec",
    "Client",
    "ClusterError",
    "Codec",
    "CompareFailed",
    "ConfigValidationError",
    "DeadlineExceeded",
    "DecodeError",
    "DirectoryNotEmpty",
    "DirectoryTTLUnsupported",
    "EtcdError",
    "EtcdMap",
    "EtcdMapError",
    "EventIndexCleared",
    "FollowerStats",
    "Health",
    "HistoryLost",
    "IndexNaN",
    "InsufficientCredentials",
    "InvalidField",
    "InvalidForm",
    "InvalidResponseError",
    "JsonCodec",
    "KeepAlive",
    "KeyNotFound",
    "KeysAPI",
    "LeaderElect",
    "LeaderStats",
    "MapClosed",
    "Member",
    "MemberChangeRefused",
    "MemberError",
    "MemberExists",
    "MemberNotFound",
    "MemberRemoved",
    "MembersAPI",
    "MemoryBackend",
    "Mirror",
    "MirrorDir",
    "NoEndpointsError",
    "NoLeaderEndpointError",
    "NoLeaderError",
    "Node",
    "NodeExists",
    "NotADirectory",
    "NotAFile",
    "Permission",
    "PrevValueRequired",
    "RaftInternal",
    "ReadCache",
    "RefreshTTLRequired",
    "RefreshValue",
    "RequestError",
    "Response",
    "Role",
    "RoleExists",
    "RoleNotFound",
    "RolesAPI",
    "RootReadOnly",
    "Selection",
    "SelfStats",
    "ServerError",
    "StatsAPI",
    "StoreStats",
    "StrCodec",
    "TTLNaN",
    "TooManyRedirectsError",
    "Unauthorized",
    "User",
    "UserExists",
    "UserNotFound",
    "UsersAPI",
    "V2DisabledError",
    "ValueRequired",
    "Versions",
    "Watch",
    "Watcher",
    "WatcherCleared",
    "WatcherClosed",
    "__version__",
    "connect",
    "disable_curl_debug",
    "enable_curl_debug",
    "signals",
]
