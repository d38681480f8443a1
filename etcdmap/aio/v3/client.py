"""``etcdmap.aio.v3.Client``: the etcd v3 client for asyncio code.

Example::

    from etcdmap.v3 import Compare, Op

    async with etcdmap.aio.v3.Client("http://127.0.0.1:2379") as client:
        await client.kv.put("cfg/a", "1")
        (await client.kv.range("cfg/", prefix=True)).kvs
        await client.kv.txn([Compare.value("cfg/a", "==", "1")], [Op.put("cfg/a", "2")])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from etcdmap.aio.backend import AsyncBackend
from etcdmap.aio.client_base import AsyncClient
from etcdmap.aio.holds import AsyncElection, AsyncHold, client_election, client_lock
from etcdmap.aio.replay import AsyncAPI, ReplayPort, replay, replayed
from etcdmap.aio.transport import AsyncTransport
from etcdmap.aio.v3.apis import (
    CALL,
    AsyncAuth,
    AsyncElectionService,
    AsyncLockService,
    AsyncMaintenance,
    AsyncMembers,
)
from etcdmap.aio.v3.call import AsyncCaller
from etcdmap.http import probes
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.http.options import TransportOptions, TransportSettings, with_settings_signature
from etcdmap.models import Health, Versions
from etcdmap.v3.client import Client as BlockingClient
from etcdmap.v3.errors import server_error
from etcdmap.v3.kv import KV
from etcdmap.v3.lease import Leases
from etcdmap.v3.models import Status

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from etcdmap.v3.keepalive import LeaseKeepAlive

__all__ = ["AsyncKV", "AsyncLeases", "Client"]


class AsyncKV(AsyncAPI[KV]):
    """``client.kv`` of :class:`Client`: keys and values as coroutines.

    Each method is :class:`etcdmap.v3.kv.KV`'s own, run on the asyncio caller
    (:mod:`etcdmap.aio.replay`): the same parameters, requests, answers, idempotency and errors.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: AsyncCaller) -> None:
        super().__init__(caller, KV, CALL)

    range = replayed(KV.range)
    get = replayed(KV.get)
    put = replayed(KV.put)
    delete = replayed(KV.delete)
    txn = replayed(KV.txn)
    compact = replayed(KV.compact)


class AsyncLeases(AsyncAPI[Leases]):
    """``client.lease`` of :class:`Client`: leases as coroutines (each method is
    :class:`etcdmap.v3.lease.Leases`'s own); :meth:`keep_alive` is the blocking twin's.

    :param caller: the client's call layer.
    :param blocking: gives the blocking twin's lease API.
    """

    def __init__(self, caller: AsyncCaller, blocking: Callable[[], Leases]) -> None:
        super().__init__(caller, Leases, CALL)
        self._blocking = blocking

    def keep_alive(self, lease_id: int, ttl: int, *,
                   on_lost: Callable[[BaseException], object] | None = None) -> LeaseKeepAlive:
        """Keep a lease alive in the background: :meth:`etcdmap.v3.lease.Leases.keep_alive`
        of the blocking twin (``on_lost`` is called from its thread). Its ``stop()`` may wait
        up to ~1 s for a refresh in flight: from the loop, ``await
        asyncio.to_thread(handle.stop)``.

        :returns: the started handle.
        """
        return self._blocking().keep_alive(lease_id, ttl, on_lost=on_lost)

    def stop_keep_alives(self) -> None:
        """Stop every keep-alive started through :meth:`keep_alive` (see
        :meth:`etcdmap.v3.lease.Leases.stop_keep_alives`)."""
        self._blocking().stop_keep_alives()

    grant = replayed(Leases.grant)
    revoke = replayed(Leases.revoke)
    keepalive_once = replayed(Leases.keepalive_once)
    time_to_live = replayed(Leases.time_to_live)
    leases = replayed(Leases.leases)


@with_settings_signature
class Client(AsyncClient):
    """An etcd v3 client for asyncio: the transport guarantees of :class:`etcdmap.v3.Client`
    (pinning, failover, whole-call deadline, TLS, token authentication, no duplicate
    non-idempotent writes) with its calls as coroutines.

    Use it as ``async with`` (or ``await client.aclose()``). It belongs to the event loop it
    is first used on.

    :param endpoints: one URL or a list.
    :param options: the transport settings as one value; keyword arguments (``settings``)
        override it: see :class:`etcdmap.aio.Client` (``username``/``password`` are the etcd
        user of token authentication here).
    :raises NoEndpointsError, ValueError, TypeError: as :class:`etcdmap.aio.Client`.
    """

    def __init__(
        self,
        endpoints: str | Sequence[str],
        *,
        options: TransportOptions | None = None,
        **settings: Unpack[TransportSettings],
    ) -> None:
        given = TransportOptions.build("etcdmap.aio.v3.Client", options, settings)
        self._options = given
        # v3 authenticates with a token (etcdmap.v3.caller), never with Basic auth.
        self.transport = AsyncTransport(endpoints,
                                        options=given.replace(username=None, password=None),
                                        server_error=server_error)
        """The asyncio transport every request goes through."""
        self._port: Any = ReplayPort(self.transport, frozenset({"request"}))
        self._caller = AsyncCaller(self.transport, given.username, given.password)
        self.kv = AsyncKV(self._caller)
        """Keys and values (:class:`AsyncKV`)."""
        self.lease = AsyncLeases(self._caller, lambda: self.blocking.lease)
        """Leases (:class:`AsyncLeases`)."""
        self.auth = AsyncAuth(self._caller)
        """Auth switch, users, roles, tokens (:class:`~etcdmap.aio.v3.apis.AsyncAuth`)."""
        self.members = AsyncMembers(self._caller)
        """Cluster membership (:class:`~etcdmap.aio.v3.apis.AsyncMembers`)."""
        self.maintenance = AsyncMaintenance(self._caller, lambda: self.blocking.maintenance)
        """Status, alarms, defragment, hashes, snapshot, leader transfer
        (:class:`~etcdmap.aio.v3.apis.AsyncMaintenance`)."""
        self.lock_service = AsyncLockService(self._caller)
        """etcd's lock service, one method per route
        (:class:`~etcdmap.aio.v3.apis.AsyncLockService`)."""
        self.election_service = AsyncElectionService(self._caller)
        """etcd's election service, one method per route
        (:class:`~etcdmap.aio.v3.apis.AsyncElectionService`)."""

    @property
    def blocking(self) -> BlockingClient:
        """The blocking :class:`etcdmap.v3.Client` on the same endpoints and settings (see
        :attr:`etcdmap.aio.client_base.AsyncClient.blocking`)."""
        return super().blocking  # type: ignore[return-value]

    def lock(self, name: str, ttl: int = 60, timeout: float | None = None) -> AsyncHold:
        """A distributed lock on etcd's lock service, for ``async with`` (see
        :meth:`etcdmap.v3.Client.lock` and :mod:`etcdmap.aio.holds`): a cancelled acquire
        leaves no waiter in etcd.

        :raises TypeError, ValueError: an empty name, a bad TTL or timeout.
        """
        return client_lock(self, name, ttl=ttl, timeout=timeout)

    def election(self, name: str, ttl: int = 60) -> AsyncElection:
        """A leader election (see :meth:`etcdmap.v3.Client.election` and
        :mod:`etcdmap.aio.holds`).

        :raises TypeError, ValueError: an empty name or a bad TTL.
        """
        return client_election(self, name, ttl=ttl)

    async def status(self, *, endpoint: str | None = None,
                     timeout: CallTimeout = DEFAULT) -> Status:
        """A member's status: see :meth:`etcdmap.v3.Client.status`."""
        return await self.maintenance.status(endpoint=endpoint, timeout=timeout)

    async def version(self, *, timeout: CallTimeout = DEFAULT) -> Versions:
        """See :meth:`etcdmap.v3.Client.version`."""
        return await replay(probes.version, self._port, timeout=timeout)

    async def health(self, *, endpoint: str | None = None, serializable: bool = False,
                     timeout: CallTimeout = DEFAULT) -> Health:
        """See :meth:`etcdmap.v3.Client.health` (never raises for an unhealthy cluster)."""
        return await replay(probes.health, self._port, endpoint=endpoint,
                            serializable=serializable, timeout=timeout)

    def _make_blocking(self) -> BlockingClient:
        return BlockingClient(self.endpoints, options=self._options)

    def _make_backend(self) -> AsyncBackend:
        return AsyncBackend.of_v3(self)

    def __repr__(self) -> str:
        user = f", username={self._caller.username!r}" if self._caller.username else ""
        return f"etcdmap.aio.v3.Client({self.endpoints!r}{user})"
