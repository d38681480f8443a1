"""python-etcd's :class:`EtcdResult`, and how one is made from an etcdmap v2 answer.

An ``EtcdResult`` holds the node's ``key``, ``value``, ``expiration`` (RFC 3339 text),
``ttl``, ``modifiedIndex``, ``createdIndex``, ``newKey`` and ``dir``, the ``action``, the
raw child nodes of a directory (walked by :meth:`EtcdResult.get_subtree`, ``.leaves``), the
previous node (``_prev_node``) and the headers' ``etcd_index`` and ``raft_index``.

Thread-safety: not mutated after it is built, unless you set its attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timezone
from typing import Any

from etcdmap.models import Change, Node
from etcdmap.v2.models import Response

__all__ = ["EtcdResult", "node_dict", "result_of", "result_of_change"]


class EtcdResult:
    """A key (or directory) as etcd returned it.

    :param action: etcd's action (``get``, ``set``, ``delete``...).
    :param node: etcd's node object (a dict).
    :param prevNode: etcd's previous node object, if any.
    """

    _node_props: dict[str, Any] = {
        "key": None, "value": None, "expiration": None, "ttl": None, "modifiedIndex": None,
        "createdIndex": None, "newKey": False, "dir": False,
    }
    key: Any
    value: Any
    expiration: Any
    ttl: Any
    modifiedIndex: Any
    createdIndex: Any
    newKey: Any
    dir: Any
    _prev_node: EtcdResult

    def __init__(self, action: str | None = None, node: dict[str, Any] | None = None,
                 prevNode: dict[str, Any] | None = None, **kwdargs: Any) -> None:
        node = node or {}
        self.action = action
        for name, default in self._node_props.items():
            setattr(self, name, node.get(name, default))
        self._children: list[dict[str, Any]] = list(node["nodes"]) if self.dir and "nodes" in node else []
        if prevNode:
            self._prev_node = EtcdResult(None, node=prevNode)
            if self._prev_node.dir and not self.dir:  # a write's answer on a directory
                self.dir = True
        self.etcd_index = 1
        self.raft_index = 1

    def get_subtree(self, leaves_only: bool = False) -> Iterator[EtcdResult]:
        """This node and every node below it (depth first); only the leaves with ``leaves_only``."""
        if not self._children:
            yield self
            return
        if not leaves_only:
            yield self
        for child in self._children:
            yield from EtcdResult(None, child).get_subtree(leaves_only=leaves_only)

    @property
    def leaves(self) -> Iterator[EtcdResult]:
        """The leaf nodes below (this node itself when it is a leaf)."""
        return self.get_subtree(leaves_only=True)

    @property
    def children(self) -> Iterator[EtcdResult]:
        """Deprecated name of :attr:`leaves` (as in python-etcd)."""
        return self.leaves

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        return all(getattr(self, k, None) == getattr(other, k, None) for k in self._node_props)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self.__class__}({self.__dict__!r})"


def node_dict(node: Node) -> dict[str, Any]:
    """etcd's JSON object of a node (fields etcd leaves out are left out)."""
    out: dict[str, Any] = {"key": node.key}
    if node.dir:
        out["dir"] = True
    elif node.value is not None:
        out["value"] = node.value
    if node.expiration is not None:
        out["expiration"] = node.expiration.astimezone(timezone.utc).isoformat().replace(
            "+00:00", "Z")
    if node.ttl is not None:
        out["ttl"] = node.ttl
    if node.modified_index:
        out["modifiedIndex"] = node.modified_index
    if node.created_index:
        out["createdIndex"] = node.created_index
    if node.nodes:
        out["nodes"] = [node_dict(child) for child in node.nodes]
    return out


def result_of(response: Response) -> EtcdResult:
    """The :class:`EtcdResult` of an etcdmap v2 answer (``newKey`` when etcd answered
    201 Created: a create, or a set of a key that did not exist; etcd-io/etcd
    release-3.5:server/etcdserver/api/v2store/event.go ``IsCreated``)."""
    node = node_dict(response.node) if response.node is not None else {}
    prev = node_dict(response.prev_node) if response.prev_node is not None else None
    result = EtcdResult(response.action, node=node, prevNode=prev)
    if response.action == "create" or (response.action == "set" and response.prev_node is None):
        result.newKey = True
    result.etcd_index = response.index or 1
    result.raft_index = response.raft_index or 1
    return result


def result_of_change(change: Change, index: int) -> EtcdResult:
    """The :class:`EtcdResult` of a watched change."""
    prev = node_dict(change.prev_node) if change.prev_node is not None else None
    result = EtcdResult(change.action, node=node_dict(change.node), prevNode=prev)
    result.etcd_index = index or 1
    return result
