"""etcdmap for asyncio: the same clients, on the same policy, as coroutines.

Example::

    import etcdmap.aio

    async with etcdmap.aio.Client("http://127.0.0.1:2379") as client:        # etcd v2
        await client.keys.set("/config/db", "postgres://...")
    async with etcdmap.aio.v3.Client("http://127.0.0.1:2379") as client:     # etcd v3
        await client.kv.put("config/db", "postgres://...")
        (await client.kv.range("config/", prefix=True)).kvs

What is there: :class:`Client` (the v2 API) and :class:`etcdmap.aio.v3.Client` (the v3 API),
over :class:`~etcdmap.aio.transport.AsyncTransport`, with the blocking clients' guarantees:
pinning and failover, the whole-call deadline and per-attempt budgets, no duplicate
non-idempotent writes (:class:`~etcdmap.errors.AmbiguousResultError`), redirects, TLS, Basic
auth (v2) and token authentication (v3), cURL debugging, at most ``max_connections`` per
member (a line beyond); cancelling any await leaves the connection pool clean.
:func:`connect` and :class:`AsyncEtcdMap` (:mod:`etcdmap.aio.emap`) are the map; its watches,
mirror and typed binding are in :mod:`etcdmap.aio.watch` and :mod:`etcdmap.aio.typed`, its
locks, elections and keep-alives in :mod:`etcdmap.aio.holds`.

**One policy, not two.** Nothing of what the blocking clients decide is written again here:

- *HTTP policy* -- endpoint order and pinning, deadlines and budgets, failover, idempotency,
  5xx decoding, the cluster id, redirects -- is pure (:mod:`etcdmap.http.policy`,
  :mod:`etcdmap.http.pinning`); :class:`etcdmap.http.transport.Transport` and
  :class:`~etcdmap.aio.transport.AsyncTransport` are two thin shells looping over one
  :class:`~etcdmap.http.policy.Plan` (their common face: :mod:`etcdmap.http.transport_shell`).
- *Settings*: one :class:`~etcdmap.http.options.TransportOptions`, validated once.
- *v3 calls*: the token decisions and answer reading are :mod:`etcdmap.v3.caller`'s
  (:class:`~etcdmap.v3.caller.TokenAuth`...); :class:`~etcdmap.aio.v3.call.AsyncCaller` awaits.
- *Framing*: :mod:`etcdmap.http.framing`, the blocking adapter's (request heads written and
  checked once, answers parsed by httptools or h11), mapped onto the asyncio connection's
  events by :mod:`etcdmap.aio.framing`.
- *Everything above the transport* -- every API method, the map's methods, the v2 and v3
  backends' operations, locks and elections -- **is the blocking code**, run by
  :mod:`etcdmap.aio.replay` over stand-ins of its I/O objects: ``get =
  replayed(KeysAPI.get)``, ``set = replayed(EtcdMap.set)``; the run records every step (the
  I/O call it stops at, attributes, the clock of a deadline, the read-through cache) and a
  cancellation is replayed into the blocking code's own cleanup.
- *Watches, mirrors, keep-alives, held locks' leases* wait and keep state: they are the
  blocking ones, on the client's blocking twin (:attr:`Client.blocking`), whose watch hub
  (one I/O thread; v3: one WebSocket per member) hands what it sees to the event loop
  (:mod:`etcdmap.aio.watch`); signals are sent on the loop, coroutine receivers awaited
  (:func:`etcdmap.signals.send_async`).
- *Choosing the API*: :func:`connect` checks its arguments and chooses ``"auto"``'s API with
  :mod:`etcdmap._connect`'s and :mod:`etcdmap._api`'s functions.

A generated copy (unasync, as httpcore does) was the other way: it needs a source written
async-first and a CI check that the generated side is current, and would rewrite modules that
four engineers are editing; replaying shares the blocking code as it is.

Thread-safety: an asyncio client belongs to the event loop it is first used on.
"""

from etcdmap.aio import v3
from etcdmap.aio.answers import AsyncStreamResponse
from etcdmap.aio.backend import AsyncBackend
from etcdmap.aio.client import AsyncKeysAPI, Client
from etcdmap.aio.connect import connect
from etcdmap.aio.emap import AsyncEtcdMap
from etcdmap.aio.transport import AsyncTransport

__all__ = ["AsyncBackend", "AsyncEtcdMap", "AsyncKeysAPI", "AsyncStreamResponse",
           "AsyncTransport", "Client", "connect", "v3"]
