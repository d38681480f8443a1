"""``etcdmap.aio.v3.Client``: the etcd v3 client for asyncio code.

Example::

    from etcdmap.v3 import Compare, Op

    async with etcdmap.aio.v3.Client("http://127.0.0.1:2379") as client:
        await client.kv.put("cfg/a", "1")
        (await client.kv.range("cfg/", prefix=True)).kvs
        await client.kv.txn([Compare.value("cfg/a", "==", "1")], [Op.put("cfg/a", "2")])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from etcdmap.aio.base import AsyncClient
from etcdmap.aio.replay import AsyncAPI, replayed
from etcdmap.aio.transport import AsyncTransport
from etcdmap.aio.v3.call import AsyncCaller
from etcdmap.http.options import TransportOptions, TransportSettings, with_settings_signature
from etcdmap.v3.kv import KV
from etcdmap.v3.lease import Leases

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AsyncKV", "AsyncLeases", "Client"]

_CALL = frozenset({"call"})


class AsyncKV(AsyncAPI[KV]):
    """``client.kv`` of :class:`Client`: keys and values as coroutines.

    Each method is :class:`etcdmap.v3.kv.KV`'s own, run on the asyncio caller
    (:mod:`etcdmap.aio.replay`): the same parameters, requests, answers, idempotency and errors.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: AsyncCaller) -> None:
        super().__init__(caller, KV, _CALL)

    range = replayed(KV.range)
    get = replayed(KV.get)
    put = replayed(KV.put)
    delete = replayed(KV.delete)
    txn = replayed(KV.txn)
    compact = replayed(KV.compact)


class AsyncLeases(AsyncAPI[Leases]):
    """``client.lease`` of :class:`Client`: leases as coroutines (each method is
    :class:`etcdmap.v3.lease.Leases`'s own; keeping a lease alive comes with the mapping).

    :param caller: the client's call layer.
    """

    def __init__(self, caller: AsyncCaller) -> None:
        super().__init__(caller, Leases, _CALL)

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
        # v3 authenticates with a token (etcdmap.v3._call), never with Basic auth.
        self.transport = AsyncTransport(endpoints,
                                        options=given.replace(username=None, password=None))
        """The asyncio transport every request goes through."""
        self._caller = AsyncCaller(self.transport, given.username, given.password)
        self.kv = AsyncKV(self._caller)
        """Keys and values (:class:`AsyncKV`)."""
        self.lease = AsyncLeases(self._caller)
        """Leases (:class:`AsyncLeases`)."""

    def __repr__(self) -> str:
        user = f", username={self._caller.username!r}" if self._caller.username else ""
        return f"etcdmap.aio.v3.Client({self.endpoints!r}{user})"
