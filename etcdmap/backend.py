"""The seam between the mapping layer and a store: what ``EtcdMap``, the mirror, the signals and
keep-alive need of etcd, and nothing more.

The v2 client implements it (:class:`etcdmap.v2.backend.V2Backend`), the v3 client too, and
:class:`etcdmap.mapping.memory.MemoryBackend` keeps a store in memory for tests. Keys are
absolute (``"/config/db/host"``), values ``str``; a backend raises etcdmap's errors only
(:class:`~etcdmap.errors.KeyNotFound` with ``.index``, :class:`~etcdmap.errors.NodeExists`,
:class:`~etcdmap.errors.CompareFailed`, :class:`~etcdmap.errors.NotAFile`,
:class:`~etcdmap.errors.NotADirectory`, :class:`~etcdmap.errors.HistoryLost`, ...), never an
HTTP library's.

Every write answers ``(node, index)``: the node as written and the store's index (v2
``X-Etcd-Index``, v3 header revision) after it, which :attr:`etcdmap.EtcdMap.index` reports and
``wait_for`` waits on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from etcdmap.models import Change, Node

if TYPE_CHECKING:
    from etcdmap.errors import LockLost

__all__ = [
    "ALWAYS",
    "Backend",
    "ChangeSink",
    "ChangeStream",
    "Cond",
    "HeldLock",
    "Progress",
    "Subscribable",
    "Subscription",
    "SupportsBackend",
    "SupportsLeaseRefresh",
    "SupportsListing",
    "SupportsLocks",
    "SupportsTreeWrites",
    "TreeWrite",
]


class Cond(NamedTuple):
    """The condition of a write (all given parts must hold; nothing given: unconditional).

    :ivar exists: ``True``: the key must exist; ``False``: it must not.
    :ivar value: the key's current value must equal this.
    :ivar revision: the key's current modified index (v3: ``mod_revision``) must equal this.
    """

    exists: bool | None = None
    value: str | None = None
    revision: int | None = None


ALWAYS = Cond()
"""No condition: the write is unconditional."""


class TreeWrite(NamedTuple):
    """One part of a multi-key write for backends with the ``"txn"`` capability (see
    :meth:`Backend.write_trees <SupportsTreeWrites.write_trees>`): replace ``key`` and
    everything below it by a leaf (``value``), by a directory holding ``entries``
    (``value is None``), or by nothing (``delete``).

    :ivar key: the absolute key.
    :ivar value: a leaf's text; ``None`` for a directory.
    :ivar entries: a directory's contents: ``(relative path, text, or None for a directory)``.
    :ivar delete: remove the key (a missing key is fine) instead of writing it.
    """

    key: str
    value: str | None = None
    entries: tuple[tuple[str, str | None], ...] = ()
    delete: bool = False


class SupportsTreeWrites(Protocol):
    """An optional part of a :class:`Backend` (v3): several keys written in one atomic step.

    The mapping layer uses it, when the backend lists ``"txn"`` in its capabilities, for
    assigning a mapping, ``update()`` and ``clear()``; other backends write one key at a time.
    """

    def write_trees(
        self, writes: Sequence[TreeWrite], *, ttl: int | None = None, create: bool = False
    ) -> int:
        """Apply every write, atomically when the store allows it in one step.

        :param ttl: every written key expires after ``ttl`` seconds.
        :param create: the (single) written key must not exist.
        :returns: the store's index after the writes.
        :raises NodeExists: ``create`` and the key exists.
        :raises NotADirectory: a parent of a written key is a leaf.
        """


class Progress(NamedTuple):
    """From a :class:`ChangeStream`: every change up to ``revision`` has been delivered."""

    revision: int


class ChangeStream(Protocol):
    """The changes below a key from a start index on, in index order, none lost or repeated.

    Iterating yields :class:`~etcdmap.models.Change` and :class:`Progress` items until
    :meth:`close`; member failures are handled inside (failover, backfill) and reported to the
    ``on_error`` callback given to :meth:`Backend.changes`. When the store no longer has the
    history from the start index, iteration raises :class:`~etcdmap.errors.HistoryLost`: the
    consumer re-reads and opens a new stream after the re-read's index.
    """

    def __iter__(self) -> Iterator[Change | Progress]: ...

    def close(self) -> None:
        """End the iteration (from any thread; idempotent)."""

    def nudge(self) -> None:
        """Look for missed changes now (a consumer is waiting for an index)."""

    @property
    def endpoint(self) -> str | None:
        """The member the stream reads from, when known."""


class ChangeSink(Protocol):
    """What receives a :class:`Subscription`'s changes (the mapping-level watch).

    The subscription calls these one at a time, in index order, on a dispatcher thread of
    the client's watch hub; a method may block (it delays this subscription only).
    """

    def on_change(self, change: Change) -> None:
        """One change (index order, none lost or repeated)."""

    def on_progress(self, index: int) -> None:
        """Every change up to ``index`` has been passed to :meth:`on_change`."""

    def on_history_lost(self, error: BaseException) -> None:
        """The store no longer has the history: re-read, then call
        :meth:`Subscription.resume` with the re-read's index (the subscription waits until
        then). If this raises, it is reported to :meth:`on_error` and called again later."""

    def on_error(self, error: BaseException) -> None:
        """A failure the subscription recovered from (it goes on by itself)."""


class Subscription(Protocol):
    """A push-style change stream (see :meth:`Subscribable.subscribe`): no thread of its own.

    Thread-safety: every method may be called from any thread, :meth:`resume` and
    :meth:`close` also from inside the sink.
    """

    @property
    def endpoint(self) -> str | None:
        """The member the stream reads from, when known."""

    @property
    def running(self) -> bool:
        """Whether it still delivers (``False`` once closed, or its client closed)."""

    probes: int
    """How many probe polls were sent (v2: one per busy period)."""
    dropped: int
    """How many times the stream was found dropped by etcd (then reconnected)."""

    def resume(self, after: int) -> None:
        """Go on after a re-read at ``after`` (after :meth:`ChangeSink.on_history_lost`)."""

    def nudge(self) -> None:
        """Look for missed changes now (a consumer is waiting for an index)."""

    def close(self, timeout: float | None = 2.0) -> None:
        """Stop; wait (at most ``timeout``) for a sink call in progress, unless called from it."""


@runtime_checkable
class SupportsLeaseRefresh(Protocol):
    """An optional part of a :class:`Backend` (v3): a refresh for ``keep_alive`` that renews
    the key's lease only, after a first full refresh."""

    def lease_refresher(self, key: str, ttl: int) -> Callable[[], object]:
        """A callable that refreshes ``key`` to ``ttl`` each time it is called."""


@runtime_checkable
class SupportsListing(Protocol):
    """An optional part of a :class:`Backend` (v2): a recursive read left as the store's JSON,
    which the live mirror loads without a :class:`~etcdmap.models.Node` per key
    (:meth:`etcdmap.mapping.tree.Tree.load_listing`)."""

    def read_listing(self, key: str) -> tuple[dict[str, Any] | None, int]:
        """The JSON ``node`` object of a recursive read of ``key`` (``None``: no such key) and
        the read's index."""


@runtime_checkable
class Subscribable(Protocol):
    """A backend whose changes are pushed by a shared per-client hub (v2 and v3): watches and
    keep-alives then cost no thread of their own. Other backends give :meth:`Backend.changes`
    only (the memory backend: one thread per watch)."""

    def subscribe(
        self, key: str, sink: ChangeSink, *, after: int, recursive: bool = True,
        idle_timeout: float = 1.0,
    ) -> Subscription:
        """Start delivering the changes below ``key`` with an index above ``after`` to
        ``sink`` (see :class:`ChangeSink`). :returns: the started subscription."""


class HeldLock(Protocol):
    """A lock of the mapping layer (:meth:`etcdmap.EtcdMap.lock`): etcd's lock service on v3
    (:class:`etcdmap.v3.lock.Lock`), the v2 recipe elsewhere
    (:class:`etcdmap.mapping.lock.RecipeLock`). Acquired by ``with`` or :meth:`acquire`;
    leaving the ``with`` of a lock lost while held raises :class:`~etcdmap.errors.LockLost`.
    """

    @property
    def name(self) -> str:
        """The lock's name in etcd."""

    @property
    def key(self) -> str | None:
        """The key that holds it while held, else ``None``."""

    @property
    def revision(self) -> int:
        """The holding key's creation index/revision (a fencing token), 0 when not held."""

    @property
    def held(self) -> bool:
        """Acquired, not released, not known to be lost."""

    @property
    def lost(self) -> bool:
        """The current hold was lost."""

    @property
    def error(self) -> LockLost | None:
        """The loss, once lost."""

    def acquire(self, timeout: float | object | None = ...) -> HeldLock:
        """Wait until held (:class:`~etcdmap.errors.LockTimeout` after ``timeout``)."""

    def release(self) -> None:
        """Release (:class:`~etcdmap.errors.LockLost` if it was lost while held)."""

    def __enter__(self) -> HeldLock: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


@runtime_checkable
class SupportsLocks(Protocol):
    """An optional part of a :class:`Backend` (v3): locks on the store's own lock service.
    Backends without it get the v2 lock recipe (:mod:`etcdmap.mapping.lock`)."""

    def lock(self, key: str, *, ttl: int, timeout: float | None) -> HeldLock:
        """The lock named ``key`` (not acquired yet)."""


@runtime_checkable
class Backend(Protocol):
    """A store of keys in directories, as the mapping layer sees it (see the module docstring).

    Implementations are thread-safe.
    """

    name: str
    """``"v2"``, ``"v3"`` or ``"memory"``."""

    capabilities: frozenset[str]
    """What the store can do natively: ``"dirs"`` (real directory nodes), ``"ttl"``,
    ``"in_order"``, ``"hidden_keys"`` (``_``-keys left out of listings), ``"refresh"``,
    ``"txn"`` (several writes in one atomic step), ``"bytes"`` (values may be any bytes: one
    that is not UTF-8 reads as text with surrogate escapes, and such text is written back as
    those bytes)."""

    @property
    def client(self) -> Any:
        """The client behind the backend (``EtcdMap.client``)."""

    def describe(self) -> str:
        """A short description for ``repr`` (endpoints without credentials)."""

    def read(self, key: str, *, recursive: bool = False, quorum: bool = False) -> tuple[Node, int]:
        """A node (a directory: its children, sorted; recursive: the whole subtree).

        :raises KeyNotFound: no such key (``.index``: the store's index).
        """

    def read_tree(
        self, key: str, decode: Callable[[str, str], Any] | None, *, quorum: bool = False
    ) -> tuple[dict[str, Any] | None, int]:
        """The subtree below ``key`` as plain nested dicts (``None``: no such directory).

        :param decode: ``decode(key, text)`` for each value; ``None`` keeps the text.
        :raises NotADirectory: ``key`` is a leaf.
        """

    def put(
        self, key: str, value: str, *, ttl: int | None = None, cond: Cond = ALWAYS
    ) -> tuple[Node, int]:
        """Write a leaf (making missing parent directories).

        :raises NodeExists: ``cond.exists`` is ``False`` and the key exists.
        :raises KeyNotFound: ``cond.exists`` (or a compared part) and the key is missing.
        :raises CompareFailed: ``cond.value``/``cond.revision`` did not match.
        :raises NotAFile: the key is a directory.
        """

    def make_dir(
        self, key: str, *, ttl: int | None = None, cond: Cond = ALWAYS
    ) -> tuple[Node, int]:
        """Make a directory (``cond.exists=False``: it must not exist)."""

    def delete(self, key: str, *, recursive: bool = False, cond: Cond = ALWAYS) -> int:
        """Delete a key (``recursive``: a directory with everything below). :returns: the index.

        :raises KeyNotFound: no such key.
        :raises CompareFailed: the condition did not hold.
        """

    def append(self, dir_key: str, value: str, *, ttl: int | None = None) -> tuple[Node, int]:
        """A new key below ``dir_key`` whose name sorts after every earlier one."""

    def refresh(self, key: str, ttl: int) -> tuple[Node, int]:
        """Reset a key's TTL, keeping its value, without a change event where possible."""

    def current_index(self, key: str) -> int:
        """The store's current index, from a linearizable read."""

    def changes(
        self,
        key: str,
        *,
        after: int,
        recursive: bool = True,
        idle_timeout: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> ChangeStream:
        """The changes below ``key`` with an index above ``after`` (see :class:`ChangeStream`).

        :param idle_timeout: how long a silent member goes unchecked.
        :param on_error: called with each failure the stream recovered from.
        """

    def close(self) -> None:
        """Release the backend's connections (closes the client it owns)."""


class SupportsBackend(Protocol):
    """A client that can serve as an ``EtcdMap``'s store (``etcdmap.Client`` does)."""

    @property
    def backend(self) -> Backend:
        """The client's backend (one per client)."""
