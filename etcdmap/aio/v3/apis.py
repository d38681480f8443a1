"""The v3 admin and service APIs of :class:`etcdmap.aio.v3.Client` as coroutines: auth,
cluster membership, maintenance, the lock and election services.

Each method is the blocking API's own (:mod:`etcdmap.v3.auth`, :mod:`etcdmap.v3.cluster`,
:mod:`etcdmap.v3.maintenance`, :mod:`etcdmap.v3.lock`, :mod:`etcdmap.v3.election_service`),
run on the asyncio caller by :mod:`etcdmap.aio.replay`: the same parameters, requests,
answers, errors and whole-call deadlines.

Streamed answers are not replayed: a snapshot is written by the blocking twin in a worker
thread (:meth:`AsyncMaintenance.snapshot`); ``observe`` of an election is
:meth:`etcdmap.aio.v3.lock.AsyncElection.observe`.

Thread-safety: each API object belongs to its client's event loop.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from etcdmap.aio.replay import AsyncAPI, replayed
from etcdmap.aio.v3.call import AsyncCaller
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.v3.auth import Auth
from etcdmap.v3.cluster import Members
from etcdmap.v3.election_service import ElectionService
from etcdmap.v3.lock import LockService
from etcdmap.v3.maintenance import Maintenance

if TYPE_CHECKING:
    from collections.abc import Callable

    from etcdmap.v3.snapshot import SnapshotTarget

__all__ = ["CALL", "AsyncAuth", "AsyncElectionService", "AsyncLockService",
           "AsyncMaintenance", "AsyncMembers"]

CALL = frozenset({"call", "refresh_token"})
"""The I/O methods of a v3 caller (see :class:`~etcdmap.aio.replay.ReplayPort`)."""


class AsyncAuth(AsyncAPI[Auth]):
    """``client.auth``: :class:`etcdmap.v3.auth.Auth` as coroutines.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: AsyncCaller) -> None:
        super().__init__(caller, Auth, CALL)
        self._caller = caller

    @property
    def token(self) -> str | None:
        """The token the client sends now (see :attr:`etcdmap.v3.auth.Auth.token`)."""
        return self._caller.token

    enable = replayed(Auth.enable)
    disable = replayed(Auth.disable)
    status = replayed(Auth.status)
    authenticate = replayed(Auth.authenticate)
    user_add = replayed(Auth.user_add)
    user_delete = replayed(Auth.user_delete)
    user_remove = user_delete
    user_get = replayed(Auth.user_get)
    user_list = replayed(Auth.user_list)
    user_change_password = replayed(Auth.user_change_password)
    user_grant_role = replayed(Auth.user_grant_role)
    user_revoke_role = replayed(Auth.user_revoke_role)
    role_add = replayed(Auth.role_add)
    role_delete = replayed(Auth.role_delete)
    role_remove = role_delete
    role_get = replayed(Auth.role_get)
    role_list = replayed(Auth.role_list)
    role_grant_permission = replayed(Auth.role_grant_permission)
    role_revoke_permission = replayed(Auth.role_revoke_permission)


class AsyncMembers(AsyncAPI[Members]):
    """``client.members``: :class:`etcdmap.v3.cluster.Members` as coroutines.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: AsyncCaller) -> None:
        super().__init__(caller, Members, CALL)

    list = replayed(Members.list)
    add = replayed(Members.add)
    remove = replayed(Members.remove)
    update = replayed(Members.update)
    promote = replayed(Members.promote)
    leader = replayed(Members.leader)


class AsyncMaintenance(AsyncAPI[Maintenance]):
    """``client.maintenance``: :class:`etcdmap.v3.maintenance.Maintenance` as coroutines.

    :param caller: the client's call layer.
    :param blocking: gives the client's blocking twin (for :meth:`snapshot`).
    """

    def __init__(self, caller: AsyncCaller, blocking: Callable[[], Maintenance]) -> None:
        super().__init__(caller, Maintenance, CALL)
        self._blocking = blocking

    status = replayed(Maintenance.status)
    alarms = replayed(Maintenance.alarms)
    activate = replayed(Maintenance.activate)
    disarm = replayed(Maintenance.disarm)
    defragment = replayed(Maintenance.defragment)
    hash = replayed(Maintenance.hash)
    hash_kv = replayed(Maintenance.hash_kv)
    move_leader = replayed(Maintenance.move_leader)
    downgrade = replayed(Maintenance.downgrade)

    async def snapshot(self, dest: SnapshotTarget, *, endpoint: str | None = None,
                       timeout: CallTimeout = DEFAULT) -> int:
        """Save a member's snapshot to ``dest``: :meth:`etcdmap.v3.maintenance.Maintenance.snapshot`
        of the blocking twin, in a worker thread (the file is written as the stream
        arrives). A cancelled await does not stop the transfer: it ends by its ``timeout``.

        :returns: the bytes written.
        """
        maintenance = self._blocking()
        return await asyncio.to_thread(maintenance.snapshot, dest, endpoint=endpoint,
                                       timeout=timeout)


class AsyncLockService(AsyncAPI[LockService]):
    """``client.lock_service``: :class:`etcdmap.v3.lock.LockService` as coroutines (most code
    wants :meth:`etcdmap.aio.v3.Client.lock`).

    :param caller: the client's call layer.
    """

    def __init__(self, caller: AsyncCaller) -> None:
        super().__init__(caller, LockService, CALL)

    lock = replayed(LockService.lock)
    unlock = replayed(LockService.unlock)


class AsyncElectionService(AsyncAPI[ElectionService]):
    """``client.election_service``: :class:`etcdmap.v3.election_service.ElectionService` as
    coroutines (most code wants :meth:`etcdmap.aio.v3.Client.election`).

    :param caller: the client's call layer.
    """

    def __init__(self, caller: AsyncCaller) -> None:
        super().__init__(caller, ElectionService, CALL)

    campaign = replayed(ElectionService.campaign)
    proclaim = replayed(ElectionService.proclaim)
    leader = replayed(ElectionService.leader)
    resign = replayed(ElectionService.resign)
