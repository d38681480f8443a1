"""etcdmap: a complete, failure-proof etcd client (v2 and v3 APIs) and a dict-like ``EtcdMap``.

The mapping façade, on whichever API the server serves::

    config = etcdmap.connect("http://127.0.0.1:2379", "/config")   # api="auto": v3 where served
    config["db"] = {"host": "h", "port": "5432"}

``api="auto"`` (the default) asks ``/version`` once and picks etcd's v3 API (over its HTTP/JSON
gateway, no gRPC) on etcd 3.4 and later, the v2 API on older servers; ``api="v2"`` or
``api="v3"`` choose. :class:`EtcdMap` also wraps a client (or a :class:`MemoryBackend`) you
make yourself: ``EtcdMap(client, "/config")``.

The clients::

    client = etcdmap.Client(["http://127.0.0.1:2379"])        # the v2 API
    client.keys.set("/foo", "bar")
    client3 = etcdmap.v3.Client(["http://127.0.0.1:2379"])    # the v3 API
    client3.kv.put("foo", "bar")

asyncio: :mod:`etcdmap.aio` has the same clients and map as coroutines
(``etcdmap.aio.Client``, ``etcdmap.aio.v3.Client``, ``etcdmap.aio.connect``). Drop-ins for the
abandoned python-etcd and python-etcd3 packages: :mod:`etcdmap.compat.etcd` and
:mod:`etcdmap.compat.etcd3`.

Importing etcdmap has no side effects. Exceptions live in :mod:`etcdmap.errors` and are all
re-exported here; signals live in :mod:`etcdmap.signals`. :mod:`etcdmap.aio`,
:mod:`etcdmap.compat` and :mod:`etcdmap.testing` (real etcd servers for tests) are imported
explicitly.
"""

from __future__ import annotations

from etcdmap import errors as _errors
from etcdmap import signals
from etcdmap._connect import connect
from etcdmap._version import __version__
from etcdmap.errors import *  # noqa: F403 - every error, listed once: etcdmap.errors.__all__
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
    "AuthAPI",
    "AutoSync",
    "Base64Codec",
    "Client",
    "Codec",
    "EtcdMap",
    "FollowerStats",
    "Health",
    "JsonCodec",
    "KeepAlive",
    "KeysAPI",
    "LeaderStats",
    "Member",
    "MembersAPI",
    "MemoryBackend",
    "Mirror",
    "MirrorDir",
    "Node",
    "Permission",
    "ReadCache",
    "Response",
    "Role",
    "RolesAPI",
    "Selection",
    "SelfStats",
    "StatsAPI",
    "StoreStats",
    "StrCodec",
    "User",
    "UsersAPI",
    "Versions",
    "Watch",
    "Watcher",
    "__version__",
    "connect",
    "disable_curl_debug",
    "enable_curl_debug",
    "signals",
]
__all__ += _errors.__all__  # the errors, re-exported
__all__.sort()
