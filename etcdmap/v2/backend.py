"""The v2 client as a :class:`~etcdmap.backend.Backend` of the mapping layer.

Each call is one keys request (etcd-io/etcd release-3.4: ``Documentation/v2/api.md``):
conditions become ``prevExist``/``prevValue``/``prevIndex``, directories are real nodes,
TTLs are etcd's, in-order keys are a ``POST``, and changes come from a hub subscription
(:class:`~etcdmap.v2.subscription.V2Subscription`; pulled: ``changes()``).

Thread-safety: as the client (safe to share).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from etcdmap.backend import ALWAYS, ChangeSink, Cond
from etcdmap.errors import EtcdError, InvalidResponseError, KeyNotFound, NotADirectory
from etcdmap.http.client_hub import ClientHub
from etcdmap.http.hub_backend import HubBackend
from etcdmap.models import Node
from etcdmap.v2.listing import json_to_dict
from etcdmap.v2.subscription import V2Subscription

if TYPE_CHECKING:
    from etcdmap.http.transport import Transport
    from etcdmap.v2.keys import KeysAPI
    from etcdmap.v2.models import Response

__all__ = ["V2Backend"]

_INDEX_PROBE = "_etcdmap_index_probe"


class V2Client(Protocol):
    """What the backend needs of :class:`etcdmap.Client` (keeps this module below it)."""

    keys: KeysAPI
    transport: Transport

    @property
    def endpoints(self) -> list[str]:
        """The client's endpoints."""

    def close(self) -> None:
        """Close the client."""


class V2Backend(HubBackend[V2Client, ClientHub]):
    """The mapping layer's store on etcd's v2 keys API (one per :class:`~etcdmap.Client`).

    The client, ``describe()``, ``changes()``, the hub and ``close()`` are
    :class:`~etcdmap.http.hub_backend.HubBackend`'s.

    :param client: the v2 client (not owned: :meth:`close` closes it only through the map
        that owns it).
    """

    name = "v2"
    capabilities = frozenset({"dirs", "ttl", "in_order", "hidden_keys", "refresh"})

    def __init__(self, client: V2Client) -> None:
        super().__init__(client, ClientHub(client.transport))
        self._keys = client.keys

    def read(self, key: str, *, recursive: bool = False, quorum: bool = False) -> tuple[Node, int]:
        """One GET, children sorted. :raises KeyNotFound: no such key."""
        resp = self._keys.get(key, recursive=recursive, sort=True, quorum=quorum)
        return _node_of(resp, key), resp.index

    def read_tree(
        self, key: str, decode: Callable[[str, str], Any] | None, *, quorum: bool = False
    ) -> tuple[dict[str, Any] | None, int]:
        """One recursive GET, walked as etcd's JSON (no model per key: ~3x faster).

        :raises NotADirectory: ``key`` is a file.
        :raises InvalidResponseError: the answer is not an etcd v2 listing.
        """
        try:
            event, index = self._keys.get_json(key, recursive=True, sort=True, quorum=quorum)
        except KeyNotFound as exc:
            return None, exc.index
        node = event.get("node")
        if not isinstance(node, dict):
            raise InvalidResponseError(f"the answer for {key!r} has no node")
        if node.get("dir") is not True:
            if type(node.get("key")) is str and type(node.get("value", "")) is str:
                raise NotADirectory("Not a directory", key, index)
            raise InvalidResponseError(f"the answer for {key!r} is not an etcd node")
        try:
            return json_to_dict(node, decode), index
        except (TypeError, KeyError, AttributeError) as exc:  # a broken answer, not etcd's
            raise InvalidResponseError(
                f"the answer for {key!r} is not an etcd v2 listing: {exc}"
            ) from exc

    def read_listing(self, key: str) -> tuple[dict[str, Any] | None, int]:
        """One recursive GET, its ``node`` left as etcd's JSON (the live mirror's load:
        :meth:`etcdmap.mapping.tree.Tree.load_listing`).

        :returns: the node object (``None``: no such key) and the answer's index.
        :raises InvalidResponseError: the answer has no node object.
        """
        try:
            event, index = self._keys.get_json(key, recursive=True, sort=True)
        except KeyNotFound as exc:
            return None, exc.index
        node = event.get("node")
        if not isinstance(node, dict):
            raise InvalidResponseError(f"the answer for {key!r} has no node")
        return node, index

    def put(
        self, key: str, value: str, *, ttl: int | None = None, cond: Cond = ALWAYS
    ) -> tuple[Node, int]:
        """One PUT (``prevExist``/``prevValue``/``prevIndex`` from ``cond``)."""
        resp = self._keys.set(key, value, ttl=ttl, **_params(cond))
        return _node_of(resp, key), resp.index

    def make_dir(
        self, key: str, *, ttl: int | None = None, cond: Cond = ALWAYS
    ) -> tuple[Node, int]:
        """One PUT with ``dir=true``."""
        resp = self._keys.set(key, "", dir=True, ttl=ttl, **_params(cond))
        return _node_of(resp, key), resp.index

    def delete(self, key: str, *, recursive: bool = False, cond: Cond = ALWAYS) -> int:
        """One DELETE (a compare-and-delete with ``cond``)."""
        params = _params(cond)
        params.pop("prev_exist", None)  # a DELETE of a missing key fails anyway
        return self._keys.delete(key, recursive=recursive, **params).index

    def append(self, dir_key: str, value: str, *, ttl: int | None = None) -> tuple[Node, int]:
        """One POST: etcd names the key ``<dir>/<20-digit index>``."""
        resp = self._keys.create_in_order(dir_key, value, ttl=ttl)
        return _node_of(resp, dir_key), resp.index

    def refresh(self, key: str, ttl: int) -> tuple[Node, int]:
        """``refresh=true&prevExist=true``: watchers are not woken."""
        resp = self._keys.refresh(key, ttl)
        return _node_of(resp, key), resp.index

    def current_index(self, key: str) -> int:
        """The cluster's index from one quorum read of a hidden, normally absent key below
        ``key`` (so a big directory is not listed just to learn the index)."""
        probe = f"{key.rstrip('/')}/{_INDEX_PROBE}"
        try:
            return int(self._keys.get(probe, quorum=True).index)
        except EtcdError as exc:  # 100 key not found (or 104 if ``key`` is a file)
            return exc.index

    def subscribe(
        self, key: str, sink: ChangeSink, *, after: int, recursive: bool = True,
        idle_timeout: float = 1.0,
    ) -> V2Subscription:
        """The changes below ``key`` after ``after``, pushed to ``sink`` by the client's watch
        hub (one I/O thread per client; see :mod:`etcdmap.v2.subscription`).

        :returns: the started subscription (close it).
        """
        hub, liveness = self.hub()
        return V2Subscription(
            self._client.transport, hub, liveness, key.rstrip("/"), sink, after=after,
            recursive=recursive, idle_timeout=idle_timeout,
        ).start()


def _params(cond: Cond) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if cond.exists is not None:
        params["prev_exist"] = cond.exists
    if cond.value is not None:
        params["prev_value"] = cond.value
    if cond.revision is not None:
        params["prev_index"] = cond.revision
    return params


def _node_of(resp: Response, key: str) -> Node:
    if resp.node is None:
        raise InvalidResponseError(f"the answer for {key!r} has no node")
    return resp.node
