"""Locks and elections for asyncio: ``async with m.lock(name)``, ``async with
client.lock(name)``, ``client.election(name)``.

**The blocking objects, not copies.** On v3 a lock is :class:`etcdmap.v3.lock.Lock` and an
election :class:`etcdmap.v3.election.Election` -- their acquire/campaign sequences, fencing
tokens, lost-state bookkeeping and cleanups -- whose ``acquire``, ``release``, ``campaign``,
``proclaim``, ``leader`` and ``resign`` are replayed (:mod:`etcdmap.aio.replay`) on the
asyncio client, each run on a copy of the object whose state is kept from the last run. The
one thing they keep going between calls, the lease's keep-alive, is the blocking twin's
(:attr:`etcdmap.aio.client_base.AsyncClient.blocking`, its ``lease.keep_alive``); stopping it is
awaited in a worker thread.

**No waiter left behind.** Cancelling an ``acquire`` (or a ``campaign``) at any await
replays the blocking code's own cleanup for an interrupted wait -- stop the keep-alive,
revoke the lease, which deletes the waiter's key -- shielded from further cancellation and
bounded by :data:`~etcdmap.aio.replay.CLEANUP_SECONDS`; then the cancellation propagates.

On v2 (and the memory backend) a map's lock is the recipe of
:class:`etcdmap.mapping.lock.RecipeLock`, which waits on a watch: its ``acquire`` runs in a
worker thread, and a cancelled ``acquire`` withdraws it (:meth:`RecipeLock.abort
<etcdmap.mapping.lock.RecipeLock.abort>`: the waiter key is deleted) before the cancellation
propagates. Keep-alives: :mod:`etcdmap.aio.keepalive`.

:data:`etcdmap.signals.lock_lost` is sent by the blocking lock (``sender`` =
:attr:`AsyncHold.blocking`) from the keep-alive's thread.

Thread-safety: these objects belong to their client's event loop; their properties may be
read from any thread.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from etcdmap.aio.backend import V3ClientFace
from etcdmap.aio.map_protocol import AsyncMapFace
from etcdmap.aio.replay import CLEANUP_SECONDS, ReplayPort, replay
from etcdmap.aio.v3.apis import CALL
from etcdmap.errors import LockLost
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.mapping import paths as _mappath
from etcdmap.mapping.lock import LOCKS_DIR, RecipeLock
from etcdmap.mapping.lock import map_lock as blocking_map_lock
from etcdmap.v3.election import Election
from etcdmap.v3.election_service import ElectionService
from etcdmap.v3.kv import KV
from etcdmap.v3.lock import Lock, LockService

if TYPE_CHECKING:
    from etcdmap.v3.keepalive import LeaseKeepAlive

__all__ = ["AsyncElection", "AsyncHold", "client_election", "client_lock", "map_lock"]

_O = TypeVar("_O")
_UNSET: Any = object()


# ---------------------------------------------------------------------- the blocking objects' I/O


class _KeptLease:
    """A lease kept alive by the blocking twin, as the replayed code sees it: its ``stop``
    (which may wait for a refresh in flight) is awaited in a worker thread."""

    def __init__(self, handle: LeaseKeepAlive) -> None:
        self._handle = handle

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    async def stop(self, *, revoke: bool = False) -> None:
        await asyncio.to_thread(self._handle.stop, revoke=revoke)


class _Leases:
    """The lease API a replayed lock or election is given: its calls are the asyncio
    client's, its keep-alives the blocking twin's."""

    def __init__(self, client: V3ClientFace) -> None:
        self._client = client
        leases = client.lease
        self.grant = leases.grant
        self.revoke = leases.revoke
        self.keepalive_once = leases.keepalive_once
        self.time_to_live = leases.time_to_live

    def keep_alive(self, lease_id: int, ttl: int, *,
                   on_lost: Callable[[BaseException], object] | None = None) -> Any:
        handle = self._client.blocking.lease.keep_alive(lease_id, ttl, on_lost=on_lost)
        return ReplayPort(_KeptLease(handle), frozenset({"stop"}))


def _parts(client: V3ClientFace) -> tuple[Any, Any, Any]:
    """The caller, KV and lease API of the blocking objects, over the asyncio client."""
    caller: Any = ReplayPort(client._caller, CALL)
    leases: Any = ReplayPort(_Leases(client),
                             frozenset({"grant", "revoke", "keepalive_once", "time_to_live"}))
    return caller, KV(caller), leases


async def _replay_on_copy(obj: _O, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Replay ``method`` of a stateful blocking object: each run on a shallow copy of it,
    the last run's state kept (its attributes copied back, even when it raised)."""
    last: list[Any] = []

    def run(*a: Any, **k: Any) -> Any:
        twin = copy.copy(obj)
        last[:] = [twin]
        return method(twin, *a, **k)

    try:
        return await replay(run, *args, **kwargs)
    finally:
        if last:
            vars(obj).update(vars(last[0]))


# ---------------------------------------------------------------------- locks


class AsyncHold:
    """A lock for asyncio code (see the module docstring): ``async with`` acquires and
    releases; the properties are the blocking lock's.

    :param lock: the blocking lock.
    """

    def __init__(self, lock: Lock | RecipeLock) -> None:
        self._lock = lock

    @property
    def blocking(self) -> Lock | RecipeLock:
        """The blocking lock (the ``sender`` of :data:`etcdmap.signals.lock_lost`)."""
        return self._lock

    @property
    def name(self) -> str:
        """The lock's name in etcd."""
        return self._lock.name

    @property
    def key(self) -> str | None:
        """The key that holds the lock while held, else ``None``."""
        return self._lock.key

    @property
    def revision(self) -> int:
        """The holding key's create revision while held: a fencing token."""
        return self._lock.revision

    @property
    def held(self) -> bool:
        """Acquired, not released, not known to be lost."""
        return self._lock.held

    @property
    def lost(self) -> bool:
        """The current hold was lost."""
        return self._lock.lost

    @property
    def error(self) -> LockLost | None:
        """The loss, once lost."""
        return self._lock.error

    async def acquire(self, timeout: float | Any | None = _UNSET) -> AsyncHold:
        """Wait until held (see :meth:`etcdmap.v3.lock.Lock.acquire`).

        :returns: this lock.
        :raises LockTimeout: not acquired in time; nothing is left waiting in etcd.
        """
        raise NotImplementedError

    async def release(self) -> None:
        """Release (see :meth:`etcdmap.v3.lock.Lock.release`).

        :raises LockLost: the lock was lost while held.
        """
        raise NotImplementedError

    async def __aenter__(self) -> AsyncHold:
        return await self.acquire()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        """Release: the blocking lock's ``__exit__`` (a lost lock raises
        :class:`~etcdmap.errors.LockLost`; a failed release only when the block did not
        raise)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Async{self._lock!r}>"


class _ReplayedLock(AsyncHold):
    """etcd's lock service: :class:`etcdmap.v3.lock.Lock` replayed."""

    _lock: Lock

    @property
    def lease(self) -> int:
        """The current acquisition's lease (0 when not held)."""
        return self._lock.lease

    async def acquire(self, timeout: float | Any | None = _UNSET) -> AsyncHold:
        args = () if timeout is _UNSET else (timeout,)
        await _replay_on_copy(self._lock, Lock.acquire, *args)
        return self

    async def release(self) -> None:
        await _replay_on_copy(self._lock, Lock.release)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await _replay_on_copy(self._lock, Lock.__exit__, exc_type, exc, tb)


class _ThreadedLock(AsyncHold):
    """The v2 recipe: :class:`etcdmap.mapping.lock.RecipeLock` in a worker thread."""

    _lock: RecipeLock

    async def acquire(self, timeout: float | Any | None = _UNSET) -> AsyncHold:
        lock = self._lock
        args = () if timeout is _UNSET else (timeout,)
        waiting = asyncio.ensure_future(asyncio.to_thread(lock.acquire, *args))
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            lock.abort()  # the waiter key goes; a lock acquired meanwhile is released
            await asyncio.wait({waiting}, timeout=CLEANUP_SECONDS)
            if waiting.done() and not waiting.cancelled() and waiting.exception() is None:
                await asyncio.to_thread(lock.release)
            raise
        return self

    async def release(self) -> None:
        await asyncio.to_thread(self._lock.release)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await asyncio.to_thread(self._lock.__exit__, exc_type, exc, tb)


def client_lock(client: V3ClientFace, name: str, ttl: int = 60,
                timeout: float | None = None) -> AsyncHold:
    """``client.lock(name)`` of :class:`etcdmap.aio.v3.Client` (see
    :meth:`etcdmap.v3.Client.lock` for the parameters).

    :raises TypeError, ValueError: an empty name, a bad TTL or timeout.
    """
    caller, kv, leases = _parts(client)
    return _ReplayedLock(Lock(LockService(caller), kv, leases, name, ttl=ttl, timeout=timeout))


def map_lock(emap: AsyncMapFace, name: str, *, ttl: int = 60,
             timeout: float | None = None) -> AsyncHold:
    """``m.lock(name)``: the lock ``<map>/_locks/<name>``, as :meth:`etcdmap.EtcdMap.lock`.

    :raises TypeError, ValueError: a bad name, TTL or timeout.
    """
    key = _mappath.join(_mappath.join(emap.path, LOCKS_DIR), _mappath.validate_key(name))
    store = emap.backend
    if store.name == "v3":
        return client_lock(store.client, key, ttl=ttl, timeout=timeout)  # type: ignore[arg-type]
    lock = blocking_map_lock(store.watching(), key, ttl=ttl, timeout=timeout)
    assert isinstance(lock, RecipeLock)
    return _ThreadedLock(lock)


# ---------------------------------------------------------------------- elections


class AsyncElection:
    """A leader election for asyncio code: :class:`etcdmap.v3.election.Election` replayed
    (see the module docstring). ``async with`` resigns at the end.

    :param election: the blocking election.
    """

    def __init__(self, election: Election) -> None:
        self._election = election

    @property
    def blocking(self) -> Election:
        """The blocking election (its ``name``, ``key``, ``revision``, ``lease``, ``lost``)."""
        return self._election

    @property
    def is_leader(self) -> bool:
        """``True`` while this object leads and has not lost it."""
        return self._election.is_leader

    async def campaign(self, value: str | bytes, timeout: float | None = None) -> AsyncElection:
        """See :meth:`etcdmap.v3.election.Election.campaign`. :returns: this election."""
        await _replay_on_copy(self._election, Election.campaign, value, timeout)
        return self

    async def proclaim(self, value: str | bytes, *, timeout: CallTimeout = DEFAULT) -> None:
        """See :meth:`etcdmap.v3.election.Election.proclaim`."""
        await _replay_on_copy(self._election, Election.proclaim, value, timeout=timeout)

    async def leader(self, *, timeout: CallTimeout = DEFAULT) -> bytes | None:
        """See :meth:`etcdmap.v3.election.Election.leader`."""
        return await _replay_on_copy(  # type: ignore[no-any-return]
            self._election, Election.leader, timeout=timeout)

    async def resign(self, *, timeout: CallTimeout = DEFAULT) -> None:
        """See :meth:`etcdmap.v3.election.Election.resign`."""
        await _replay_on_copy(self._election, Election.resign, timeout=timeout)

    async def observe(self, *, read_timeout: float = 30.0) -> AsyncIterator[bytes]:
        """The leader's values as they change (:meth:`etcdmap.v3.election.Election.observe`
        of the blocking twin, each value awaited from a worker thread)."""
        observer = self._twin.observe(read_timeout=read_timeout)
        try:
            while True:
                value = await asyncio.to_thread(next, observer, None)
                if value is None:
                    return
                yield value
        finally:
            observer.close()

    _twin: Election

    async def __aenter__(self) -> AsyncElection:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.resign()

    def __repr__(self) -> str:
        return f"<Async{self._election!r}>"


def client_election(client: V3ClientFace, name: str, ttl: int = 60) -> AsyncElection:
    """``client.election(name)`` of :class:`etcdmap.aio.v3.Client` (see
    :meth:`etcdmap.v3.Client.election`).

    :raises TypeError, ValueError: an empty name or a bad TTL.
    """
    caller, _, leases = _parts(client)
    election = AsyncElection(Election(ElectionService(caller), leases, name, ttl=ttl))
    election._twin = client.blocking.election(name, ttl=ttl)
    return election
