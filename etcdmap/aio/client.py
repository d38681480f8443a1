"""``etcdmap.aio.Client``: the etcd v2 client for asyncio code.

Example::

    async with etcdmap.aio.Client("http://127.0.0.1:2379") as client:
        await client.keys.set("/foo", "bar")
        assert (await client.keys.get("/foo")).node.value == "bar"
        await client.members.list()
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from etcdmap.aio.admin import (
    REQUEST,
    AsyncAuthAPI,
    AsyncMembersAPI,
    AsyncRolesAPI,
    AsyncStatsAPI,
    AsyncUsersAPI,
)
from etcdmap.aio.backend import AsyncBackend
from etcdmap.aio.client_base import AsyncClient
from etcdmap.aio.replay import AsyncAPI, ReplayPort, replay, replayed
from etcdmap.aio.transport import AsyncTransport
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.http.options import TransportOptions, TransportSettings, with_settings_signature
from etcdmap.models import Health, Selection, Versions
from etcdmap.v2 import discovery as _discovery
from etcdmap.v2 import stats as _stats
from etcdmap.v2 import sync as _sync
from etcdmap.v2 import wire as _wire
from etcdmap.v2.client import Client as BlockingClient
from etcdmap.v2.keys import KeysAPI

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AsyncKeysAPI", "Client"]

_SYNC_WAIT = 60.0  # seconds an auto-sync thread waits for one sync on the loop


class AsyncKeysAPI(AsyncAPI[KeysAPI]):
    """``client.keys`` of :class:`Client`: the v2 keys API as coroutines.

    Each method is :class:`etcdmap.v2.keys.KeysAPI`'s own, run on the asyncio transport
    (:mod:`etcdmap.aio.replay`): the same parameters, requests, answers, idempotency and errors.
    Watching is :meth:`etcdmap.aio.AsyncEtcdMap.changes` (on the client's watch hub).

    :param transport: the client's transport.
    :param prefix: the API path prefix (``/v2/keys``).
    """

    def __init__(self, transport: AsyncTransport, prefix: str = _wire.KEYS_PREFIX) -> None:
        super().__init__(transport, lambda io: KeysAPI(io, prefix), REQUEST)
        self.transport = transport
        self.prefix = prefix

    get = replayed(KeysAPI.get)
    get_json = replayed(KeysAPI.get_json)
    set = replayed(KeysAPI.set)
    create = replayed(KeysAPI.create)
    update = replayed(KeysAPI.update)
    create_in_order = replayed(KeysAPI.create_in_order)
    refresh = replayed(KeysAPI.refresh)
    mkdir = replayed(KeysAPI.mkdir)
    delete = replayed(KeysAPI.delete)

    def __repr__(self) -> str:
        return f"<AsyncKeysAPI {self.prefix} on {self.transport!r}>"


@with_settings_signature
class Client(AsyncClient):
    """An etcd v2 client for asyncio: pinning and failover as :class:`etcdmap.Client`, and the
    v2 APIs as coroutines (:attr:`keys`, :attr:`members`, :attr:`auth`, :attr:`users`,
    :attr:`roles`, :attr:`stats`, :meth:`version`, :meth:`health`, :meth:`machines`,
    :meth:`sync`).

    Use it as ``async with`` (or ``await client.aclose()``) to release its connections. It
    belongs to the event loop it is first used on.

    :param endpoints: one URL or a list.
    :param options: the transport settings as one value
        (:class:`~etcdmap.http.options.TransportOptions`); keyword arguments override it.
    :param settings: the transport settings as keyword arguments, as :class:`etcdmap.Client`
        takes them, but ``session`` (the asyncio client does not use requests).
    :raises NoEndpointsError: no endpoint.
    :raises ValueError: an invalid endpoint URL or setting.
    :raises TypeError: an unknown keyword argument, a setting of the wrong type, a session.
    """

    def __init__(
        self,
        endpoints: str | Sequence[str],
        *,
        options: TransportOptions | None = None,
        **settings: Unpack[TransportSettings],
    ) -> None:
        self._options = TransportOptions.build("etcdmap.aio.Client", options, settings)
        self.transport = AsyncTransport(endpoints, options=self._options,
                                        server_error=_wire.server_error)
        """The asyncio transport every request goes through."""
        self._port: Any = ReplayPort(self.transport, REQUEST)  # the blocking probes' transport
        self.keys = AsyncKeysAPI(self.transport)
        """The keys API (:class:`AsyncKeysAPI`)."""
        self.members = AsyncMembersAPI(self.transport)
        """Cluster membership (:class:`~etcdmap.aio.admin.AsyncMembersAPI`)."""
        self.auth = AsyncAuthAPI(self.transport)
        """Switch auth on and off (:class:`~etcdmap.aio.admin.AsyncAuthAPI`)."""
        self.users = AsyncUsersAPI(self.transport)
        """Auth users (:class:`~etcdmap.aio.admin.AsyncUsersAPI`)."""
        self.roles = AsyncRolesAPI(self.transport)
        """Auth roles (:class:`~etcdmap.aio.admin.AsyncRolesAPI`)."""
        self.stats = AsyncStatsAPI(self.transport)
        """Member statistics (:class:`~etcdmap.aio.admin.AsyncStatsAPI`)."""

    @property
    def blocking(self) -> BlockingClient:
        """The blocking :class:`etcdmap.Client` on the same endpoints and settings (see
        :attr:`etcdmap.aio.client_base.AsyncClient.blocking`)."""
        return super().blocking  # type: ignore[return-value]

    @classmethod
    async def from_srv(cls, domain: str, service_name: str = "", *,
                       resolver: _discovery.Resolver | None = None, **options: Any) -> Client:
        """A client whose endpoints come from DNS SRV records (see
        :meth:`etcdmap.Client.from_srv`); the lookup runs in a worker thread.

        :raises ImportError: dnspython is missing and no resolver was given.
        :raises NoEndpointsError: both lookups failed.
        """
        endpoints = await asyncio.to_thread(_discovery.discover_srv, domain, service_name,
                                            resolver=resolver)
        return cls(endpoints, **options)

    async def version(self, *, timeout: CallTimeout = DEFAULT) -> Versions:
        """See :meth:`etcdmap.Client.version`."""
        return await replay(_stats.version, self._port, timeout=timeout)

    async def health(self, *, endpoint: str | None = None, serializable: bool = False,
                     timeout: CallTimeout = DEFAULT) -> Health:
        """See :meth:`etcdmap.Client.health` (never raises for an unhealthy cluster)."""
        return await replay(_stats.health, self._port, endpoint=endpoint,
                            serializable=serializable, timeout=timeout)

    async def machines(self, *, timeout: CallTimeout = DEFAULT) -> list[str]:
        """See :meth:`etcdmap.Client.machines`."""
        return await replay(_stats.machines, self._port, timeout=timeout)

    async def sync(self) -> list[str]:
        """Replace the endpoints with the members' client URLs (see
        :meth:`etcdmap.Client.sync`; the asyncio client's selection is random).

        :returns: the new endpoints.
        :raises NoEndpointsError: the members publish no usable client URL.
        """
        urls = await replay(_sync.sync, self._port, Selection.RANDOM)
        if self._twin is not None:
            self._twin.set_endpoints(urls)
        return urls

    def auto_sync(self, interval: float) -> _sync.AutoSync:
        """:meth:`sync` now and then every ``interval`` seconds, as
        :meth:`etcdmap.Client.auto_sync` does: the handle's thread runs each sync on this
        event loop; failures are logged (logger ``etcdmap.sync``) and retried.

        :returns: the started handle (``stop()``, or a context manager).
        :raises ValueError: ``interval`` <= 0.
        """
        loop = asyncio.get_running_loop()
        return _sync.AutoSync(
            lambda: asyncio.run_coroutine_threadsafe(self.sync(), loop).result(_SYNC_WAIT), interval,
        ).start()

    def _make_blocking(self) -> BlockingClient:
        return BlockingClient(self.endpoints, options=self._options)

    def _make_backend(self) -> AsyncBackend:
        return AsyncBackend.of_v2(self)

    def __repr__(self) -> str:
        user = f", username={self.transport.username!r}" if self.transport.username else ""
        return f"etcdmap.aio.Client({self.endpoints!r}{user})"
