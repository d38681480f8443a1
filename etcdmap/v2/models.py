"""Value objects returned by the v2 client layer: frozen, slotted, hashable dataclasses.

All of them are immutable and safe to share between threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from etcdmap.models import Health, Node, Versions

__all__ = [
    "Health",
    "LeaderStats",
    "Member",
    "Response",
    "Role",
    "SelfStats",
    "StoreStats",
    "User",
    "Versions",
]


@dataclass(frozen=True, slots=True)
class Response:
    """The answer to a keys request or one watch event.

    :ivar action: etcd's action: ``get set create update delete compareAndSwap
        compareAndDelete expire``.
    :ivar node: the node after the operation (``None`` with ``no_value_on_success``).
    :ivar prev_node: the node before the operation, when there was one.
    :ivar index: the ``X-Etcd-Index`` header: the store index after the operation (for a watch,
        the index when the watch started; use ``node.modified_index`` for the event's index).
    :ivar cluster_id: the ``X-Etcd-Cluster-Id`` header (``""`` when absent).
    :ivar raft_index: the ``X-Raft-Index`` header: the answering member's raft log index
        (``None`` when absent or malformed; like ``index``, a watch event carries the header
        of the answer it came in, for a stream the one sent when it started).
    :ivar raft_term: the ``X-Raft-Term`` header: the raft term (``None`` when absent).
    """

    action: str
    node: Node | None = None
    prev_node: Node | None = None
    index: int = 0
    cluster_id: str = ""
    raft_index: int | None = None
    raft_term: int | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """A cluster member as listed by ``/v2/members``."""

    id: str
    name: str = ""
    peer_urls: tuple[str, ...] = ()
    client_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class User:
    """An auth user. ``roles`` holds role names only (never the Go client's ``""`` entries)."""

    name: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Role:
    """An auth role with its key-space permissions (patterns; a trailing ``*`` is a prefix)."""

    name: str
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SelfStats:
    """``/v2/stats/self``."""

    name: str
    id: str
    state: str
    start_time: str = ""
    leader: str = ""
    leader_uptime: str = ""
    leader_start_time: datetime | None = None
    """``leaderInfo.startTime``: when the current leader became leader (aware UTC;
    ``None`` when absent or unparseable)."""
    recv_append_request_count: int = 0
    send_append_request_count: int = 0
    recv_pkg_rate: float | None = None
    recv_bandwidth_rate: float | None = None
    send_pkg_rate: float | None = None
    send_bandwidth_rate: float | None = None


@dataclass(frozen=True, slots=True)
class FollowerStats:
    """Latency and counts of one follower in ``/v2/stats/leader``."""

    latency_current: float = 0.0
    latency_average: float = 0.0
    latency_stddev: float = 0.0
    latency_min: float = 0.0
    latency_max: float = 0.0
    fail: int = 0
    success: int = 0


@dataclass(frozen=True, slots=True)
class LeaderStats:
    """``/v2/stats/leader``: the leader id and one :class:`FollowerStats` per follower id."""

    leader: str
    followers: dict[str, FollowerStats] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class StoreStats:
    """``/v2/stats/store``: operation counters of the v2 store (in memory; reset on restart)."""

    gets_success: int = 0
    gets_fail: int = 0
    sets_success: int = 0
    sets_fail: int = 0
    delete_success: int = 0
    delete_fail: int = 0
    update_success: int = 0
    update_fail: int = 0
    create_success: int = 0
    create_fail: int = 0
    compare_and_swap_success: int = 0
    compare_and_swap_fail: int = 0
    compare_and_delete_success: int = 0
    compare_and_delete_fail: int = 0
    expire_count: int = 0
    watchers: int = 0
