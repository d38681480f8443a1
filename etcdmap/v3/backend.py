"""The v3 client as a :class:`~etcdmap.backend.Backend` of the mapping layer.

The key space is laid out as :mod:`etcdmap.v3.layout` says (keys are the v2 paths,
directories are prefixes with a marker key ``dir/``). Every write is one txn
(etcd-io/etcd release-3.5: ``api/etcdserverpb/rpc.proto`` ``TxnRequest``) whose compares check
what v2 checks (:mod:`etcdmap.v3.conds`) and whose success branch also creates the markers of
missing parent directories, so a directory made on the way by a write stays when its last key
goes, as on v2. Reads are one read-only txn of two ranges (the key, and the prefix below it),
linearizable, so a node and its children come from one revision.

TTLs are leases: ``put(ttl=)`` grants one lease per write; :meth:`V3Backend.refresh` keeps
the lease alive (no watch event) when the requested TTL is the lease's, else attaches a new
lease by rewriting the same value (watchers see an ``updated`` event with an unchanged
value). In-order keys are ``dir/<20 digits>``: the store revision before the write plus one,
created by a txn that fails if a key with a greater or equal name exists (then it retries),
so names sort in creation order.

Thread-safety: as the client (safe to share).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from etcdmap._checks import check_ttl
from etcdmap.backend import ALWAYS, Cond, TreeWrite
from etcdmap.errors import KeyNotFound, NotADirectory, RootReadOnly
from etcdmap.http.hub_backend import HubBackend
from etcdmap.models import Node
from etcdmap.v3 import conds
from etcdmap.v3.backend_leases import BackendLeases
from etcdmap.v3.batch import value_bytes, write_trees
from etcdmap.v3.known_markers import KnownMarkers
from etcdmap.v3.layout import ancestors, build_dict, build_node, marker
from etcdmap.v3.models import KeyValue, PutResponse, RangeResponse, TxnResponse
from etcdmap.v3.streams import V3Streams
from etcdmap.v3.subscription import V3Subscription
from etcdmap.v3.txn import Compare, Op

if TYPE_CHECKING:
    from etcdmap.backend import ChangeSink
    from etcdmap.v3.client_protocol import V3Parts
    from etcdmap.v3.lock import Lock

__all__ = ["V3Backend"]

_ORDER_END = ":"  # sorts right after "9": in-order names are 20 digits


class V3Backend(HubBackend["V3Parts", V3Streams]):
    """The mapping layer's store on etcd's v3 API (one per :class:`etcdmap.v3.Client`).

    The client, ``describe()``, ``changes()``, the hub and ``close()`` are
    :class:`~etcdmap.http.hub_backend.HubBackend`'s.

    :param client: the v3 client (closed by :meth:`close`, i.e. by the map that owns it).
    :param max_txn_ops: the server's ``--max-txn-ops`` (128 by default): atomic tree writes
        larger than this are split into several txns.
    :param streams: the client's streams (default: made here); :mod:`etcdmap.aio` passes
        its own, whose lease renewal is an asyncio request.
    :param remember_markers: skip the nested txn of a parent's marker seen to exist (a
        compare instead; :mod:`etcdmap.v3.known_markers`); ``False`` for replayed code.
    """

    name = "v3"
    capabilities = frozenset({"dirs", "ttl", "in_order", "hidden_keys", "refresh", "txn",
                              "bytes"})

    def __init__(self, client: V3Parts, *, max_txn_ops: int = 128,
                 streams: V3Streams | None = None, remember_markers: bool = True) -> None:
        super().__init__(client, V3Streams(client) if streams is None else streams)
        self._kv = client.kv
        self.max_txn_ops = max_txn_ops
        """Operations per txn branch before a tree write is split (etcd's ``--max-txn-ops``)."""
        self._leases = BackendLeases(client.lease, self._streams)
        self._markers = KnownMarkers(enabled=remember_markers)

    def lock(self, key: str, *, ttl: int, timeout: float | None) -> Lock:
        """The lock ``key`` on etcd's lock service (:meth:`etcdmap.v3.Client.lock`): the
        mapping layer's locks on v3 (:class:`~etcdmap.backend.SupportsLocks`)."""
        return self._client.lock(key, ttl=ttl, timeout=timeout)

    # ------------------------------------------------------------------ reads

    def _pair(
        self, key: str, *, keys_only: bool = False
    ) -> tuple[KeyValue | None, tuple[KeyValue, ...], int]:
        """The key's own kv and every kv below it, from one read-only txn (one revision)."""
        root = key.rstrip("/")
        ops = [Op.get(marker(root), prefix=True, keys_only=keys_only)]
        if root:
            ops.append(Op.get(root, keys_only=keys_only))
        resp = self._kv.txn([], ops)
        below = _range(resp, 0).kvs
        leaf = next(iter(_range(resp, 1).kvs), None) if root else None
        return leaf, below, resp.header.revision

    def read(self, key: str, *, recursive: bool = False, quorum: bool = False) -> tuple[Node, int]:
        """A node from one linearizable read-only txn (``quorum`` is always true on v3).

        The TTL of the node itself (a leaf, or a directory's marker) is looked up with one
        more request when it has a lease; listed children carry no TTL.

        :raises KeyNotFound: nothing at ``key`` (``.index``: the store revision).
        """
        leaf, below, rev = self._pair(key)
        node = build_node(key, leaf, below, recursive=recursive)
        if node is None:
            raise KeyNotFound("Key not found", key.rstrip("/") or "/", rev)
        own = _own(key, leaf, below)
        if own is not None and own.lease:
            ttl = self._leases.ttl_of(own.lease)
            node = dataclasses.replace(
                node, ttl=ttl, expiration=datetime.now(timezone.utc) + timedelta(seconds=ttl))
        return node, rev

    def read_tree(
        self, key: str, decode: Callable[[str, str], Any] | None, *, quorum: bool = False
    ) -> tuple[dict[str, Any] | None, int]:
        """The subtree as nested dicts from one read-only txn.

        :raises NotADirectory: ``key`` is a leaf.
        """
        leaf, below, rev = self._pair(key)
        if not below:
            if leaf is not None:
                raise NotADirectory("Not a directory", key, rev)
            return None, rev
        return build_dict(key, below, decode), rev

    # ------------------------------------------------------------------ writes

    def put(
        self, key: str, value: str, *, ttl: int | None = None, cond: Cond = ALWAYS
    ) -> tuple[Node, int]:
        """One txn: the compares of :mod:`etcdmap.v3.conds`, then the put and the missing
        parent markers. A ``ttl`` grants a lease first (revoked if the txn fails).

        :raises NodeExists, KeyNotFound, CompareFailed, NotAFile, NotADirectory: as on v2.
        :raises RootReadOnly: ``key`` is the root.
        :raises ValueError, TypeError: an invalid ``ttl``, or a value with a surrogate that
            stands for no byte.
        """
        _writable(key)
        data = value_bytes(value)
        markers = self._markers
        while True:
            known = markers.of(key)  # parents whose markers need a compare, not a nested txn
            lease = self._leases.grant(ttl)
            checks = [*conds.parents_ok(key), conds.no_dir(key), *conds.compares(key, cond),
                      *markers.checks(known)]
            success = [Op.put(key, data, lease=lease, prev_kv=True),
                       *conds.marker_ops(key, frozenset(known))]
            resp = self._txn(checks, success, [*conds.failure_reads(key), *markers.reads(known)],
                             lease)
            if resp.succeeded:
                markers.saw(key)
                break
            if markers.still_there(known, resp):
                raise conds.failure(key, cond, resp)
        put = resp.responses[0]
        assert isinstance(put, PutResponse)
        rev = resp.header.revision
        created = put.prev_kv.create_revision if put.prev_kv is not None else rev
        return Node(key, value, False, (), created, rev, ttl and int(check_ttl(ttl))), rev

    def _txn(self, checks: list[Compare], success: list[Op], failure: list[Op],
             lease: int) -> TxnResponse:
        try:
            resp = self._kv.txn(checks, success, failure)
        except BaseException:
            self._leases.revoke(lease)
            raise
        if not resp.succeeded:
            self._leases.revoke(lease)
        return resp

    def make_dir(
        self, key: str, *, ttl: int | None = None, cond: Cond = ALWAYS
    ) -> tuple[Node, int]:
        """Write the directory's marker (with a lease for ``ttl``: the marker expires, the
        keys later written below it do not). ``cond.exists=False``: nothing may be at
        ``key``; no condition: a leaf there is replaced, a directory raises ``NotAFile``;
        ``cond.exists=True``: the directory must exist (its marker's TTL is updated).

        :raises NodeExists, NotAFile, KeyNotFound, NotADirectory, RootReadOnly: as on v2.
        """
        _writable(key)
        lease = self._leases.grant(ttl)
        mark = marker(key)
        checks = conds.parents_ok(key)
        success = [Op.put(mark, "", lease=lease, prev_kv=True), *conds.marker_ops(key)]
        if cond.exists:
            checks.append(Compare.create(mark, ">", 0, prefix=True))
        else:
            checks.append(conds.no_dir(key))
            if cond.exists is False:
                checks.append(Compare.create(key, "==", 0))
            else:
                success.insert(1, Op.delete(key))
        resp = self._txn(checks, success, conds.failure_reads(key), lease)
        if not resp.succeeded:
            raise conds.failure(key, cond, resp, is_dir=bool(cond.exists))
        put = resp.responses[0]
        assert isinstance(put, PutResponse)
        rev = resp.header.revision
        created = put.prev_kv.create_revision if put.prev_kv is not None else rev
        return Node(key.rstrip("/"), None, True, (), created, rev,
                    ttl and int(check_ttl(ttl))), rev

    def delete(self, key: str, *, recursive: bool = False, cond: Cond = ALWAYS) -> int:
        """One txn. ``recursive``: the key and everything below it (one revision); else a
        leaf only; with ``cond.value``/``cond.revision`` a compare-and-delete of a leaf.

        :returns: the revision of the deletion.
        :raises KeyNotFound: nothing at ``key``.
        :raises NotAFile: a directory without ``recursive``, or compared.
        :raises CompareFailed: the condition did not hold.
        :raises RootReadOnly: ``key`` is the root.
        """
        _writable(key)
        compared = cond.value is not None or bool(cond.revision)
        ops = [Op.delete(key)]
        checks: list[Compare] = []
        if recursive and not compared:
            ops.append(Op.delete(marker(key), prefix=True))
            self._markers.forget()
        else:
            checks = [conds.no_dir(key), *conds.compares(key, cond._replace(exists=None))]
        resp = self._kv.txn(checks, ops, conds.failure_reads(key))
        if not resp.succeeded:
            raise conds.failure(key, cond._replace(exists=None), resp)
        if not sum(getattr(r, "deleted", 0) for r in resp.responses):
            raise KeyNotFound("Key not found", key, resp.header.revision)
        return resp.header.revision

    def append(self, dir_key: str, value: str, *, ttl: int | None = None) -> tuple[Node, int]:
        """A new key ``dir_key/<20 digits>`` whose name sorts after every earlier one (see
        the module docstring); makes the directory if missing.

        :raises NotADirectory: ``dir_key`` or a parent is a leaf.
        :raises ValueError, TypeError: an invalid ``ttl``, or a value with a surrogate that
            stands for no byte.
        """
        root = dir_key.rstrip("/")
        data = value_bytes(value)
        lease = self._leases.grant(ttl)
        rev = self._kv.range(marker(root), prefix=True, count_only=True).header.revision
        while True:
            key = f"{root}/{rev + 1:020d}"
            later = Compare.create(key, "==", 0, range_end=f"{root}/{_ORDER_END}")
            checks = [*conds.parents_ok(key), later]
            success = [Op.put(key, data, lease=lease), *conds.marker_ops(key)]
            fail = [Op.get(a) for a in ancestors(key)]
            try:
                resp = self._kv.txn(checks, success, fail)
            except BaseException:
                self._leases.revoke(lease)
                raise
            if resp.succeeded:
                rev = resp.header.revision
                return Node(key, value, False, (), rev, rev, ttl and int(check_ttl(ttl))), rev
            for parent, got in zip(ancestors(key), resp.responses, strict=True):
                if isinstance(got, RangeResponse) and got.kvs:
                    self._leases.revoke(lease)
                    raise NotADirectory("Not a directory", parent, resp.header.revision)
            rev = max(resp.header.revision, self._last_in_order(root))  # name after the last

    def _last_in_order(self, root: str) -> int:
        """The number of the greatest 20-digit name below ``root`` (0: none)."""
        last = self._kv.range(f"{root}/", range_end=f"{root}/{_ORDER_END}", limit=1,
                              keys_only=True, sort_order="DESCEND").kvs
        name = last[0].key_text[len(root) + 1:] if last else ""
        return int(name[:20]) if name[:20].isdigit() else 0

    def refresh(self, key: str, ttl: int) -> tuple[Node, int]:
        """Reset a key's TTL keeping its value: a keep-alive of its lease when the lease was
        granted for ``ttl`` (no event, the revision stays), else a new lease attached by
        rewriting the value under a ``mod_revision`` compare (an ``updated`` event).

        :raises KeyNotFound: no such key (it may have expired).
        :raises ValueError, TypeError: an invalid ``ttl``.
        """
        seconds = int(check_ttl(ttl))
        while True:
            leaf, below, rev = self._pair(key)
            own = _own(key, leaf, below)
            if own is None and not below:
                raise KeyNotFound("Key not found", key, rev)
            if own is not None and own.lease and self._leases.keep(own.lease, seconds):
                node, rev = self.read(key)
                return node, rev
            target = marker(key) if below else key
            lease = self._leases.grant(seconds)
            mod = own.mod_revision if own is not None else 0
            value = own.value if own is not None else b""  # as stored, UTF-8 or not
            resp = self._txn([Compare.mod(target, "==", mod)],
                             [Op.put(target, value, lease=lease)], [], lease)
            if resp.succeeded:
                node, _ = self.read(key)
                return node, resp.header.revision

    def lease_refresher(self, key: str, ttl: int) -> Callable[[], object]:
        """What ``EtcdMap.keep_alive`` calls each time: the first call is :meth:`refresh` and
        learns the key's lease; later ones renew that lease on the lease stream only (no HTTP
        request), and fall back to :meth:`refresh` when the lease is gone or changed.

        :raises KeyNotFound: (from a call) the key is gone.
        """
        seconds = int(check_ttl(ttl))
        known = [0]

        def refresh() -> None:
            if known[0] and self._leases.renew(known[0]):
                return
            self.refresh(key, seconds)
            leaf, below, _ = self._pair(key, keys_only=True)
            own = _own(key, leaf, below)
            known[0] = own.lease if own is not None else 0

        return refresh

    def write_trees(self, writes: Sequence[TreeWrite], *, ttl: int | None = None,
                    create: bool = False) -> int:
        """Replace each key's subtree, atomically when it fits in one txn (see
        :func:`etcdmap.v3.batch.write_trees`). :returns: the revision after the writes."""
        lease = self._leases.grant(ttl)
        try:
            return write_trees(self._kv, writes, lease=lease, create=create,
                               max_ops=self.max_txn_ops)
        except BaseException:
            self._leases.revoke(lease)
            raise

    def current_index(self, key: str) -> int:
        """The store revision from one linearizable range (count only)."""
        return self._kv.range(marker(key), prefix=True, count_only=True).header.revision

    def subscribe(
        self, key: str, sink: ChangeSink, *, after: int, recursive: bool = True,
        idle_timeout: float = 1.0,
    ) -> V3Subscription:
        """The changes below ``key`` after revision ``after``, pushed to ``sink`` by the
        client's watch hub (one I/O thread per client; :mod:`etcdmap.v3.subscription`), on
        the member's shared WebSocket (:mod:`etcdmap.v3.watch_mux`).

        :returns: the started subscription (close it).
        """
        hub, liveness = self._streams.hub()
        return V3Subscription(self._client, hub, liveness, key, sink, after=after,
                              recursive=recursive, idle_timeout=idle_timeout,
                              channel=self._streams.watches()).start()

    @property
    def streams(self) -> V3Streams:
        """The client's watch hub, watch WebSockets and lease keep-alive stream
        (:class:`~etcdmap.v3.streams.V3Streams`; ``streams.leases().keep(...)``)."""
        return self._streams

    @property
    def watch_mode(self) -> str:
        """What carries the client's watches: ``"websocket"`` (one per member in use) or
        ``"http"`` (one stream per watch: the upgrade was refused, see
        :class:`~etcdmap.v3.watch_mux.WatchMux`)."""
        return self._streams.watch_mode


def _own(key: str, leaf: KeyValue | None, below: tuple[KeyValue, ...]) -> KeyValue | None:
    """The kv that carries ``key``'s own lease: a directory's marker, or the leaf."""
    if below:
        return below[0] if below[0].key_text == marker(key) else None
    return leaf


def _range(resp: TxnResponse, i: int) -> RangeResponse:
    got = resp.responses[i]
    assert isinstance(got, RangeResponse)
    return got


def _writable(key: str) -> None:
    if not key.strip("/"):
        raise RootReadOnly("Root is read only", "/", 0)


if TYPE_CHECKING:  # mypy checks that the backend and its locks implement the seam's protocols
    from etcdmap.backend import HeldLock, SupportsLocks

    _LOCKS: type[SupportsLocks] = V3Backend
    _LOCK: type[HeldLock] = Lock
