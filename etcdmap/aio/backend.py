"""The mapping layer's store for asyncio: :class:`AsyncBackend`, the v2 and v3 backends' own
operations as coroutines.

Each operation (``read``, ``put``, ``delete``, ``write_trees``...) is the blocking backend's
method -- :class:`~etcdmap.v2.backend.V2Backend` or :class:`~etcdmap.v3.backend.V3Backend`,
with their conditions, txns, marker keys, leases and error mapping -- run by
:func:`~etcdmap.aio.replay.replay` over the asyncio client: the blocking backend here is built
over :class:`~etcdmap.aio.replay.ReplayPort` objects of the asyncio transport (v2) or caller
(v3). One blocking backend per asyncio client keeps what the v3 backend remembers between
calls (the TTL each lease was granted for) and its ``max_txn_ops``. The one step of a v3
operation that is not an HTTP request -- renewing a lease on the lease stream, when
``refresh`` keeps a key's lease alive -- is one ``/v3/lease/keepalive`` request here.

The memory backend (:class:`~etcdmap.mapping.memory.MemoryBackend`) does no I/O: its
operations are called as they are.

Watches are not operations: :meth:`AsyncBackend.watching` is the blocking backend whose watch
hub feeds the asyncio watches (:mod:`etcdmap.aio.watch`).

Thread-safety: an :class:`AsyncBackend` belongs to its client's event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

from etcdmap.aio.replay import ReplayPort, replay
from etcdmap.backend import ALWAYS, Backend, Cond, TreeWrite
from etcdmap.models import Node
from etcdmap.v2.backend import V2Backend
from etcdmap.v2.keys import KeysAPI
from etcdmap.v3.backend import V3Backend
from etcdmap.v3.kv import KV
from etcdmap.v3.lease import Leases

__all__ = ["AsyncBackend", "V2ClientFace", "V3ClientFace"]

_REQUEST = frozenset({"request"})
_CALL = frozenset({"call", "refresh_token"})


class _ClientFace(Protocol):
    transport: Any

    @property
    def endpoints(self) -> list[str]:
        """The client's endpoints."""

    @property
    def blocking(self) -> Any:
        """The client's blocking twin."""


class V2ClientFace(_ClientFace, Protocol):
    """What the v2 backend needs of :class:`etcdmap.aio.Client` (keeps this module below it)."""

    keys: Any


class V3ClientFace(_ClientFace, Protocol):
    """What the v3 backend, locks and elections need of :class:`etcdmap.aio.v3.Client`."""

    _caller: Any
    lease: Any


class AsyncBackend:
    """A store of keys in directories, as coroutines (the asyncio face of
    :class:`~etcdmap.backend.Backend`; see the module docstring).

    :param blocking: the blocking backend whose operations these are (over ports of the
        asyncio client, or the memory backend).
    :param client: the asyncio client (``None`` for the memory backend).
    :param replays: whether the operations do I/O (run by :func:`replay`) or not (called).
    :param watching: gives the blocking backend of the watch engine.
    """

    def __init__(self, blocking: Backend, client: object, *, replays: bool,
                 watching: Callable[[], Backend]) -> None:
        self._blocking = blocking
        self._replays = replays
        self._watching = watching
        self.client = client
        """The asyncio client (``None`` for the memory backend)."""
        self.name = blocking.name
        """``"v2"``, ``"v3"`` or ``"memory"``."""
        self.capabilities = blocking.capabilities
        """What the store can do natively (see :attr:`etcdmap.backend.Backend.capabilities`)."""

    @classmethod
    def of_memory(cls, backend: Backend) -> AsyncBackend:
        """The memory backend (or any blocking backend that does no I/O), as coroutines."""
        return cls(backend, None, replays=False, watching=lambda: backend)

    @classmethod
    def of_v2(cls, client: V2ClientFace) -> AsyncBackend:
        """The v2 backend of an :class:`etcdmap.aio.Client`."""
        return cls(V2Backend(_V2Parts(client)), client, replays=True,
                   watching=lambda: client.blocking.backend)

    @classmethod
    def of_v3(cls, client: V3ClientFace) -> AsyncBackend:
        """The v3 backend of an :class:`etcdmap.aio.v3.Client`."""
        streams = ReplayPort(_Renewals(client.lease), frozenset())
        # replayed code keeps no state across calls: no known-marker shortcut
        return cls(V3Backend(_V3Parts(client), streams=cast(Any, streams), remember_markers=False),
                   client,
                   replays=True, watching=lambda: client.blocking.backend)

    @property
    def blocking(self) -> Backend:
        """The blocking backend the operations run (for its settings, e.g. ``max_txn_ops``)."""
        return self._blocking

    def watching(self) -> Backend:
        """The blocking backend whose watch hub feeds asyncio watches, keep-alives and locks
        (the blocking twin of the asyncio client, made on first use; the memory backend)."""
        return self._watching()

    def describe(self) -> str:
        """A short description for ``repr`` (endpoints without credentials)."""
        return self._blocking.describe()

    async def _run(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._replays:
            return await replay(method, *args, **kwargs)
        return method(*args, **kwargs)

    async def read(self, key: str, *, recursive: bool = False,
                   quorum: bool = False) -> tuple[Node, int]:
        """See :meth:`etcdmap.backend.Backend.read`."""
        return cast(tuple[Node, int], await self._run(
            self._blocking.read, key, recursive=recursive, quorum=quorum))

    async def read_tree(self, key: str, decode: Callable[[str, str], Any] | None, *,
                        quorum: bool = False) -> tuple[dict[str, Any] | None, int]:
        """See :meth:`etcdmap.backend.Backend.read_tree`."""
        return cast(tuple[dict[str, Any] | None, int], await self._run(
            self._blocking.read_tree, key, decode, quorum=quorum))

    async def put(self, key: str, value: str, *, ttl: int | None = None,
                  cond: Cond = ALWAYS) -> tuple[Node, int]:
        """See :meth:`etcdmap.backend.Backend.put`."""
        return cast(tuple[Node, int], await self._run(
            self._blocking.put, key, value, ttl=ttl, cond=cond))

    async def make_dir(self, key: str, *, ttl: int | None = None,
                       cond: Cond = ALWAYS) -> tuple[Node, int]:
        """See :meth:`etcdmap.backend.Backend.make_dir`."""
        return cast(tuple[Node, int], await self._run(
            self._blocking.make_dir, key, ttl=ttl, cond=cond))

    async def delete(self, key: str, *, recursive: bool = False, cond: Cond = ALWAYS) -> int:
        """See :meth:`etcdmap.backend.Backend.delete`."""
        return cast(int, await self._run(
            self._blocking.delete, key, recursive=recursive, cond=cond))

    async def append(self, dir_key: str, value: str, *,
                     ttl: int | None = None) -> tuple[Node, int]:
        """See :meth:`etcdmap.backend.Backend.append`."""
        return cast(tuple[Node, int], await self._run(
            self._blocking.append, dir_key, value, ttl=ttl))

    async def refresh(self, key: str, ttl: int) -> tuple[Node, int]:
        """See :meth:`etcdmap.backend.Backend.refresh`."""
        return cast(tuple[Node, int], await self._run(self._blocking.refresh, key, ttl))

    async def current_index(self, key: str) -> int:
        """See :meth:`etcdmap.backend.Backend.current_index`."""
        return cast(int, await self._run(self._blocking.current_index, key))

    async def write_trees(self, writes: Sequence[TreeWrite], *, ttl: int | None = None,
                          create: bool = False) -> int:
        """See :meth:`etcdmap.backend.SupportsTreeWrites.write_trees` (backends with the
        ``"txn"`` capability)."""
        write_trees = getattr(self._blocking, "write_trees", None)
        if write_trees is None:
            raise TypeError(f"the {self.name} backend has no atomic tree writes")
        return cast(int, await self._run(write_trees, writes, ttl=ttl, create=create))

    def __repr__(self) -> str:
        return f"<AsyncBackend {self.name} {self.describe()}>"


class _V2Parts:
    """What :class:`~etcdmap.v2.backend.V2Backend` needs of a client, over the asyncio one."""

    def __init__(self, client: V2ClientFace) -> None:
        self._client = client
        self.transport = cast(Any, ReplayPort(client.transport, _REQUEST))
        self.keys = KeysAPI(self.transport, client.keys.prefix)

    @property
    def endpoints(self) -> list[str]:
        return self._client.endpoints

    def close(self) -> None:
        """Nothing: the asyncio client is closed by its owner."""


class _V3Parts:
    """What :class:`~etcdmap.v3.backend.V3Backend` needs of a client, over the asyncio one
    (its streams, watches and locks are the blocking twin's: never used here)."""

    def __init__(self, client: V3ClientFace) -> None:
        self._client = client
        self._caller = cast(Any, ReplayPort(client._caller, _CALL))
        self.transport = cast(Any, ReplayPort(client.transport, _REQUEST))
        self.kv = KV(self._caller)
        self.lease = Leases(self._caller)

    @property
    def endpoints(self) -> list[str]:
        return self._client.endpoints

    def watch(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("watches of an asyncio client run on its blocking twin")

    def lock(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("locks of an asyncio client are etcdmap.aio's")

    def close(self) -> None:
        """Nothing: the asyncio client is closed by its owner."""


class _Renewals:
    """The lease stream as :class:`~etcdmap.v3.backend.V3Backend` uses it in ``refresh``
    (``streams.leases().renew_once(lease)``): one ``/v3/lease/keepalive`` request."""

    def __init__(self, leases: Any) -> None:
        self._leases = leases
        self._port = ReplayPort(self, frozenset({"renew_once"}))

    def leases(self) -> ReplayPort:
        return self._port

    async def renew_once(self, lease_id: int) -> int:
        """Renew ``lease_id`` once. :returns: its TTL (0: the lease is gone)."""
        return int((await self._leases.keepalive_once(lease_id)).ttl)
