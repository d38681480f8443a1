"""``etcdmap.aio.Client``: the etcd v2 client for asyncio code.

Example::

    async with etcdmap.aio.Client("http://127.0.0.1:2379") as client:
        await client.keys.set("/foo", "bar")
        assert (await client.keys.get("/foo")).node.value == "bar"
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from etcdmap.aio.base import AsyncClient
from etcdmap.aio.replay import AsyncAPI, replayed
from etcdmap.aio.transport import AsyncTransport
from etcdmap.http.options import TransportOptions, TransportSettings, with_settings_signature
from etcdmap.v2 import wire as _wire
from etcdmap.v2.keys import KeysAPI

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AsyncKeysAPI", "Client"]


class AsyncKeysAPI(AsyncAPI[KeysAPI]):
    """``client.keys`` of :class:`Client`: the v2 keys API as coroutines.

    Each method is :class:`etcdmap.v2.keys.KeysAPI`'s own, run on the asyncio transport
    (:mod:`etcdmap.aio.replay`): the same parameters, requests, answers, idempotency and errors.

    :param transport: the client's transport.
    :param prefix: the API path prefix (``/v2/keys``).
    """

    def __init__(self, transport: AsyncTransport, prefix: str = _wire.KEYS_PREFIX) -> None:
        super().__init__(transport, lambda io: KeysAPI(io, prefix), frozenset({"request"}))
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
    keys API as coroutines (:attr:`keys`).

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
        self.transport = AsyncTransport(
            endpoints, options=TransportOptions.build("etcdmap.aio.Client", options, settings),
            server_error=_wire.server_error,
        )
        """The asyncio transport every request goes through."""
        self.keys = AsyncKeysAPI(self.transport)
        """The keys API (:class:`AsyncKeysAPI`)."""

    def __repr__(self) -> str:
        user = f", username={self.transport.username!r}" if self.transport.username else ""
        return f"etcdmap.aio.Client({self.endpoints!r}{user})"
