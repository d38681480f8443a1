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
from etcdmap.auth import AuthAPI, RolesAPI, UsersAPI
from etcdmap.cache import ReadCache
from etcdmap.client import Client
from etcdmap.codecs import Base64Codec, Codec, JsonCodec, StrCodec
from etcdmap.errors import (
    AmbiguousResultError,
    AuthAlreadyExists,
    AuthError,
    AuthNotFound,
    ClusterError,
    CompareFailed,
    DeadlineExceeded,
    DecodeError,
    DirectoryNotEmpty,
    DirectoryTTLUnsupported,
    EtcdError,
    EtcdMapError,
    EventIndexCleared,
    IndexNaN,
    InsufficientCredentials,
    InvalidField,
    InvalidForm,
    InvalidResponseError,
    KeyNotFound,
    LeaderElect,
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
from etcdmap.keepalive import KeepAlive
from etcdmap.keys import KeysAPI
from etcdmap.mapping import EtcdMap, connect
from etcdmap.members import MembersAPI
from etcdmap.mirror import Mirror, MirrorDir
from etcdmap.models import (
    FollowerStats,
    Health,
    LeaderStats,
    Member,
    Node,
    Permission,
    Response,
    Role,
    Selection,
    SelfStats,
    StoreStats,
    User,
    Versions,
)
from etcdmap.stats import StatsAPI
from etcdmap.sync import AutoSync
from etcdmap.transport import disable_curl_debug, enable_curl_debug
from etcdmap.watch import Watch
from etcdmap.watcher import Watcher

__version__ = "0.1.0"

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
    "Member",
    "MemberChangeRefused",
    "MemberError",
    "MemberExists",
    "MemberNotFound",
    "MemberRemoved",
    "MembersAPI",
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
