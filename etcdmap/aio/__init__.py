"""etcdmap for asyncio: the same clients, on the same policy, as coroutines.

Example::

    import etcdmap.aio

    async with etcdmap.aio.Client("http://127.0.0.1:2379") as client:        # etcd v2
        await client.keys.set("/config/db", "postgres://...")
    async with etcdmap.aio.v3.Client("http://127.0.0.1:2379") as client:     # etcd v3
        await client.kv.put("config/db", "postgres://...")
        (await client.kv.range("config/", prefix=True)).kvs

What is there: :class:`Client` (the v2 keys API), :class:`etcdmap.aio.v3.Client` (kv and
lease), both over :class:`~etcdmap.aio.transport.AsyncTransport` with the blocking clients'
guarantees: pinning and failover, the whole-call deadline and per-attempt budgets, no
duplicate non-idempotent writes (:class:`~etcdmap.errors.AmbiguousResultError`), redirects,
TLS, Basic auth (v2) and token authentication (v3), cURL debugging; cancelling any await
leaves the connection pool clean. What comes next: the rest of the API, ``AsyncEtcdMap``
(``etcdmap.aio.connect``), watches, the mirror, keep-alives and locks.

**One policy, not two.** Nothing of what the blocking clients decide is written again here:

- *HTTP policy* -- endpoint order and pinning, deadlines and budgets, failover, idempotency,
  5xx decoding, the cluster id, redirects -- is pure (:mod:`etcdmap.http.policy`,
  :mod:`etcdmap.http.pinning`); :class:`etcdmap.http.transport.Transport` and
  :class:`~etcdmap.aio.transport.AsyncTransport` are two thin shells looping over one
  :class:`~etcdmap.http.policy.Plan` (their common face: :mod:`etcdmap.http.shell`).
- *Settings*: one :class:`~etcdmap.http.options.TransportOptions`, validated once.
- *v3 calls*: the token decisions and answer reading are :mod:`etcdmap.v3._call`'s
  (:class:`~etcdmap.v3._call.TokenAuth`...); :class:`~etcdmap.aio.v3.call.AsyncCaller` awaits.
- *Framing*: :mod:`etcdmap.aio.framing` (bytes in, events out; h11 inside) -- the seam where
  :mod:`etcdmap.http`'s framing engines (h11, httptools) plug in.
- *API calls*: each asyncio API method **is** the blocking method, run by
  :mod:`etcdmap.aio.replay` -- ``get = replayed(KeysAPI.get)`` -- which records the method's
  I/O call, awaits it on the asyncio transport or caller, and runs the method again with the
  answer: request building, argument checks, idempotency, answer parsing and error mapping are
  the blocking client's own code, in one copy.

**How the rest of the surface is shared** (the plan, not yet code):

- every request/answer call of both APIs (v2 members, auth, users, roles, stats, version,
  health, machines; v3 auth, cluster, maintenance, status): one ``replayed(...)`` line each;
- ``AsyncEtcdMap``: the map's methods replayed over the store: the blocking
  :class:`~etcdmap.EtcdMap` (its codecs, paths, trees, CAS loops) over a stand-in for its
  :class:`~etcdmap.backend.Backend`, whose asyncio counterpart is the v2/v3 backend replayed
  over the asyncio clients (the backend protocol is the map's one I/O object); state that is
  not replayable (the read-through cache) is kept out of the replayed part;
- ``changes()``, the mirror, ``bind``: the watch hub and its pure cursors stay the only watch
  code; an asyncio sink takes their deliveries onto the map's loop
  (``loop.call_soon_threadsafe`` into an :class:`asyncio.Queue`), the mirror's tree and the
  typed binding are the blocking ones fed from it, ``wait_for`` waits on an
  :class:`asyncio.Event`;
- ``keep_alive``, ``lock``, elections: their decisions (when to refresh, lease lost, the
  acquire/release sequence) as pure steps in the modules that own them, driven by a thread
  today and by an asyncio task here;
- signals: for an asyncio map, :meth:`blinker.Signal.send_async` on the map's loop:
  coroutine receivers are awaited there, plain functions called as today.

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
