"""etcd's v3 API over its HTTP/JSON gateway (``/v3/...``), without gRPC or protobuf.

Public names: :class:`Client` (``client.kv``, ``.lease``, ``.auth``, ``.members``,
``.maintenance``, ``.watch()``, ``.lock()``, ``.election()``, ``.version()``, ``.health()``),
the txn builders :class:`Compare` and :class:`Op`, the answer models
(:mod:`etcdmap.v3.models`), :class:`Lock`, :class:`Election`, :class:`LeaseKeepAlive`,
:class:`Alarm` and the v3 errors (:mod:`etcdmap.v3.errors`, also in :mod:`etcdmap.errors`).
Pure parsing lives in :mod:`etcdmap.v3.wire`.
"""

from __future__ import annotations

from etcdmap.v3 import errors
from etcdmap.v3.backend import V3Backend
from etcdmap.v3.client import Client
from etcdmap.v3.election import Election, ElectionService, LeaderKey, Observer
from etcdmap.v3.keepalive import LeaseKeepAlive
from etcdmap.v3.lock import Lock, LockService
from etcdmap.v3.maintenance import Alarm, HashKVResponse, HashResponse
from etcdmap.v3.models import (
    AuthStatus,
    DeleteResponse,
    Event,
    KeepAliveResponse,
    KeyValue,
    LeaseGrant,
    LeaseTimeToLive,
    Listing,
    Member,
    MemberAddResponse,
    MembersResponse,
    Permission,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    Status,
    TxnResponse,
    WatchResponse,
)
from etcdmap.v3.txn import Compare, Op
from etcdmap.v3.watch import Watcher
from etcdmap.v3.wire import prefix_end

__all__ = [
    "Alarm",
    "AuthStatus",
    "Client",
    "Compare",
    "DeleteResponse",
    "Election",
    "ElectionService",
    "Event",
    "HashKVResponse",
    "HashResponse",
    "KeepAliveResponse",
    "KeyValue",
    "LeaderKey",
    "LeaseGrant",
    "LeaseKeepAlive",
    "LeaseTimeToLive",
    "Listing",
    "Lock",
    "LockService",
    "Member",
    "MemberAddResponse",
    "MembersResponse",
    "Observer",
    "Op",
    "Permission",
    "PutResponse",
    "RangeResponse",
    "ResponseHeader",
    "Status",
    "TxnResponse",
    "V3Backend",
    "WatchResponse",
    "Watcher",
    "errors",
    "prefix_end",
]
