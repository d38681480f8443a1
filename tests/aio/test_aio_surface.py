"""The asyncio API covers the blocking one: every public method of every request/answer API
class (and of the clients and the map) has an asyncio counterpart of the same name, a
coroutine function unless listed below with the reason.

The table :data:`PAIRS` is the coverage table of the README's "asyncio" section.
"""

from __future__ import annotations

import inspect

import pytest

import etcdmap.aio
import etcdmap.v3
from etcdmap.aio.admin import (
    AsyncAuthAPI,
    AsyncMembersAPI,
    AsyncRolesAPI,
    AsyncStatsAPI,
    AsyncUsersAPI,
)
from etcdmap.aio.client import AsyncKeysAPI
from etcdmap.aio.v3.apis import (
    AsyncAuth,
    AsyncElectionService,
    AsyncLockService,
    AsyncMaintenance,
    AsyncMembers,
)
from etcdmap.aio.v3.client import AsyncKV, AsyncLeases
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.auth import AuthAPI, RolesAPI, UsersAPI
from etcdmap.v2.keys import KeysAPI
from etcdmap.v2.members import MembersAPI
from etcdmap.v2.stats import StatsAPI
from etcdmap.v3.auth import Auth
from etcdmap.v3.cluster import Members
from etcdmap.v3.election_service import ElectionService
from etcdmap.v3.kv import KV
from etcdmap.v3.lease import Leases
from etcdmap.v3.lock import LockService
from etcdmap.v3.maintenance import Maintenance

PAIRS: list[tuple[type, type]] = [
    (KeysAPI, AsyncKeysAPI),
    (MembersAPI, AsyncMembersAPI),
    (AuthAPI, AsyncAuthAPI),
    (UsersAPI, AsyncUsersAPI),
    (RolesAPI, AsyncRolesAPI),
    (StatsAPI, AsyncStatsAPI),
    (etcdmap.Client, etcdmap.aio.Client),
    (KV, AsyncKV),
    (Leases, AsyncLeases),
    (Auth, AsyncAuth),
    (Members, AsyncMembers),
    (Maintenance, AsyncMaintenance),
    (LockService, AsyncLockService),
    (ElectionService, AsyncElectionService),
    (etcdmap.v3.Client, etcdmap.aio.v3.Client),
    (EtcdMap, etcdmap.aio.AsyncEtcdMap),
]

ELSEWHERE = {
    # the blocking name: where asyncio code finds it instead, and why
    (KeysAPI, "watcher"): "AsyncEtcdMap.changes(): watches run on the client's watch hub",
    (etcdmap.v3.Client, "watch"): "AsyncEtcdMap.changes(): watches run on the client's hub",
    (ElectionService, "observe"): "client.election(name).observe(): a stream, not a call",
    (etcdmap.Client, "close"): "await client.aclose()",
    (etcdmap.v3.Client, "close"): "await client.aclose()",
    (etcdmap.Client, "session"): "the asyncio clients do not use requests",
    (etcdmap.v3.Client, "session"): "the asyncio clients do not use requests",
    (EtcdMap, "items"): "AsyncEtcdMap.items(): a coroutine giving a list",
    (EtcdMap, "values"): "AsyncEtcdMap.values(): a coroutine giving a list",
    (EtcdMap, "keys"): "AsyncEtcdMap.keys(): a coroutine giving a list",
}
"""Blocking methods whose asyncio counterpart has another name or form."""

DUNDERS = {"__getitem__": "getitem", "__setitem__": "set", "__delitem__": "delete",
           "__contains__": "contains", "__len__": "len", "__iter__": "__aiter__",
           "__eq__": "equals", "__enter__": "__aenter__", "__exit__": "__aexit__"}
"""The map's protocol methods, which cannot be coroutines, and their asyncio names."""

NOT_COROUTINES = {
    "auto_sync": "returns the running handle at once",
    "set_endpoints": "no I/O", "endpoints": "a property", "blocking": "a property",
    "backend": "a property", "options": "a property", "transport": "an attribute",
    "lock": "returns the lock; acquire with async with", "election": "returns the election",
    "keep_alive": "returns the handle at once (async with)", "stop_keep_alives": "no I/O",
    "child": "a view, no I/O", "changes": "an async iterator", "watch": "async with",
    "mirror": "async with", "bind": "async with, or await", "token": "a property",
    "__aiter__": "an async generator", "path": "a property", "client": "a property",
    "codec": "a property", "quorum": "a property", "index": "a property",
}


def _public(cls: type) -> list[str]:
    names = [n for n in dir(cls) if not n.startswith("_")]
    if cls is EtcdMap:
        names += [n for n in DUNDERS if n in vars(EtcdMap) or n in ("__enter__", "__exit__")]
    return sorted(names)


@pytest.mark.parametrize(("sync", "aio"), PAIRS, ids=[p[1].__qualname__ for p in PAIRS])
def test_every_blocking_method_has_an_asyncio_counterpart(sync: type, aio: type) -> None:
    missing, blocking = [], []
    for name in _public(sync):
        if (sync, name) in ELSEWHERE:
            continue
        target = DUNDERS.get(name, name) if sync is EtcdMap else name
        if not hasattr(aio, target):
            missing.append(name)
            continue
        member = inspect.getattr_static(aio, target)
        if target in NOT_COROUTINES or isinstance(member, property) or not callable(
                getattr(aio, target)):
            continue
        func = getattr(aio, target)
        if not (inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)
                or isinstance(member, etcdmap.aio.replay.replayed)):
            blocking.append(name)
    assert missing == [], f"{aio.__qualname__} lacks {missing}"
    assert blocking == [], f"{aio.__qualname__}: not coroutines: {blocking}"


def test_replayed_methods_show_the_blocking_signature() -> None:
    sig = inspect.signature(etcdmap.aio.Client("http://127.0.0.1:1").keys.get)
    assert list(sig.parameters) == list(inspect.signature(KeysAPI.get).parameters)[1:]
    assert AsyncKV.put.__doc__ == KV.put.__doc__


def test_the_exclusions_name_real_methods() -> None:
    for (cls, name), why in ELSEWHERE.items():
        assert hasattr(cls, name), (cls, name)
        assert why
