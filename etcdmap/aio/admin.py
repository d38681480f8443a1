"""The v2 cluster-admin APIs of :class:`etcdmap.aio.Client` as coroutines: members, auth,
users, roles, stats.

Each method is the blocking API's own (:mod:`etcdmap.v2.members`, :mod:`etcdmap.v2.auth`,
:mod:`etcdmap.v2.stats`), run on the asyncio transport by :mod:`etcdmap.aio.replay`: the same
parameters, requests, answers, idempotency, errors and whole-call deadlines (a call that
sends several requests spreads its ``timeout=`` over them, as the blocking one does).

Thread-safety: each API object belongs to its client's event loop.
"""

from __future__ import annotations

from etcdmap.aio.replay import AsyncAPI, replayed
from etcdmap.aio.transport import AsyncTransport
from etcdmap.v2.auth import AuthAPI, RolesAPI, UsersAPI
from etcdmap.v2.members import MembersAPI
from etcdmap.v2.stats import StatsAPI

__all__ = [
    "REQUEST",
    "AsyncAuthAPI",
    "AsyncMembersAPI",
    "AsyncRolesAPI",
    "AsyncStatsAPI",
    "AsyncUsersAPI",
]

REQUEST = frozenset({"request"})
"""The I/O method of a transport (see :class:`~etcdmap.aio.replay.ReplayPort`)."""


class AsyncMembersAPI(AsyncAPI[MembersAPI]):
    """``client.members``: :class:`etcdmap.v2.members.MembersAPI` as coroutines.

    :param transport: the client's transport.
    """

    def __init__(self, transport: AsyncTransport) -> None:
        super().__init__(transport, MembersAPI, REQUEST)

    list = replayed(MembersAPI.list)
    leader = replayed(MembersAPI.leader)
    add = replayed(MembersAPI.add)
    remove = replayed(MembersAPI.remove)
    update = replayed(MembersAPI.update)


class AsyncAuthAPI(AsyncAPI[AuthAPI]):
    """``client.auth``: :class:`etcdmap.v2.auth.AuthAPI` as coroutines.

    :param transport: the client's transport.
    """

    def __init__(self, transport: AsyncTransport) -> None:
        super().__init__(transport, AuthAPI, REQUEST)

    enabled = replayed(AuthAPI.enabled)
    enable = replayed(AuthAPI.enable)
    disable = replayed(AuthAPI.disable)


class AsyncUsersAPI(AsyncAPI[UsersAPI]):
    """``client.users``: :class:`etcdmap.v2.auth.UsersAPI` as coroutines.

    :param transport: the client's transport.
    """

    def __init__(self, transport: AsyncTransport) -> None:
        super().__init__(transport, UsersAPI, REQUEST)

    list = replayed(UsersAPI.list)
    get = replayed(UsersAPI.get)
    exists = replayed(UsersAPI.exists)
    add = replayed(UsersAPI.add)
    remove = replayed(UsersAPI.remove)
    grant = replayed(UsersAPI.grant)
    revoke = replayed(UsersAPI.revoke)
    change_password = replayed(UsersAPI.change_password)


class AsyncRolesAPI(AsyncAPI[RolesAPI]):
    """``client.roles``: :class:`etcdmap.v2.auth.RolesAPI` as coroutines.

    :param transport: the client's transport.
    """

    def __init__(self, transport: AsyncTransport) -> None:
        super().__init__(transport, RolesAPI, REQUEST)

    list = replayed(RolesAPI.list)
    get = replayed(RolesAPI.get)
    add = replayed(RolesAPI.add)
    remove = replayed(RolesAPI.remove)
    grant_kv = replayed(RolesAPI.grant_kv)
    revoke_kv = replayed(RolesAPI.revoke_kv)


class AsyncStatsAPI(AsyncAPI[StatsAPI]):
    """``client.stats``: :class:`etcdmap.v2.stats.StatsAPI` as coroutines.

    :param transport: the client's transport.
    """

    def __init__(self, transport: AsyncTransport) -> None:
        super().__init__(transport, StatsAPI, REQUEST)

    self = replayed(StatsAPI.self)
    store = replayed(StatsAPI.store)
    leader = replayed(StatsAPI.leader)
