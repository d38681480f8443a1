"""Value objects every layer shares: nodes, changes, and the client's enums.

All of them are immutable and safe to share between threads.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["Change", "Health", "Node", "Permission", "Selection", "Versions"]


class Selection(enum.Enum):
    """How the client picks the endpoint it pins."""

    RANDOM = "random"
    """A random endpoint, kept while it works (the default)."""
    PRIORITIZE_LEADER = "prioritize_leader"
    """The leader's client URL, found by :meth:`etcdmap.Client.sync`."""


class Permission(enum.Enum):
    """A key-space permission for :meth:`etcdmap.v2.auth.RolesAPI.grant_kv`."""

    READ = "read"
    WRITE = "write"
    READ_WRITE = "readwrite"


@dataclass(frozen=True, slots=True)
class Node:
    """One etcd v2 node: a file (leaf key with a value) or a directory.

    :ivar key: the absolute key, e.g. ``"/config/db"``; ``""`` for the root of the key space.
    :ivar value: the value of a file; ``None`` for a directory or when etcd omitted it.
    :ivar dir: ``True`` for a directory.
    :ivar nodes: children of a directory (empty when not listed or none).
    :ivar created_index: index of the write that created the node (0 when etcd omitted it).
    :ivar modified_index: index of the last write to the node (0 when etcd omitted it).
    :ivar ttl: remaining seconds to live, rounded up; ``None`` for a permanent node.
    :ivar expiration: when the node expires, an aware UTC datetime; ``None`` for a permanent node.
    """

    key: str
    value: str | None = None
    dir: bool = False
    nodes: tuple[Node, ...] = ()
    created_index: int = 0
    modified_index: int = 0
    ttl: int | None = None
    expiration: datetime | None = None

    @property
    def name(self) -> str:
        """The last path segment of :attr:`key` (``""`` for the root)."""
        return self.key.rsplit("/", 1)[-1]

    @property
    def ttl_duration(self) -> timedelta | None:
        """:attr:`ttl` as a :class:`~datetime.timedelta`."""
        return None if self.ttl is None else timedelta(seconds=self.ttl)

    def __str__(self) -> str:
        return (
            f"{{Key: {self.key}, CreatedIndex: {self.created_index}, "
            f"ModifiedIndex: {self.modified_index}, TTL: {self.ttl or 0}}}"
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a watched key, as every backend reports it.

    :ivar action: what happened: ``set create update delete compareAndSwap compareAndDelete
        expire`` (v2 names them; the v3 backend maps its events onto them).
    :ivar node: the node after the change (for a removal: the key with no value).
    :ivar prev_node: the node before the change, when the backend knows it.
    :ivar index: the change's index (v2 ``modifiedIndex``; v3 revision).
    """

    action: str
    node: Node
    prev_node: Node | None = None
    index: int = 0


@dataclass(frozen=True, slots=True)
class Versions:
    """``/version`` (either API): the member's server version and the cluster version
    (``"not_decided"`` early)."""

    server: str
    cluster: str


@dataclass(frozen=True, slots=True)
class Health:
    """``/health`` of one member (either API).

    :ivar healthy: ``True`` when the member answered 200 ``{"health": "true"}``.
    :ivar reason: why not, e.g. ``"RAFT NO LEADER"`` (etcd 3.5 says; for 3.4, which sends no
        reason, or an unreachable member, etcdmap describes it); ``""`` when healthy.
    :ivar endpoint: the endpoint that answered (``""`` when none did).
    """

    healthy: bool
    reason: str = ""
    endpoint: str = ""

    def __bool__(self) -> bool:
        return self.healthy
