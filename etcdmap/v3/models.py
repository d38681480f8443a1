"""The v3 API's answers as frozen value objects (built by :mod:`etcdmap.v3.wire`).

Keys and values are ``bytes`` (etcd v3 keys and values are byte strings); ``.key_text`` and
``.value_text`` decode them as UTF-8. Revisions, IDs and TTLs are Python ints (etcd sends them
as decimal strings). A field etcd leaves out of its JSON holds its zero value here.

Thread-safety: every object is immutable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeVar, Union

__all__ = [
    "AuthStatus",
    "DeleteResponse",
    "Event",
    "KeepAliveResponse",
    "KeyValue",
    "LeaseGrant",
    "LeaseTimeToLive",
    "Listing",
    "Member",
    "MemberAddResponse",
    "MembersResponse",
    "Permission",
    "PutResponse",
    "RangeResponse",
    "ResponseHeader",
    "Status",
    "TxnResponse",
    "WatchResponse",
]

PermType = Literal["READ", "WRITE", "READWRITE"]
EventType = Literal["PUT", "DELETE"]


@dataclass(frozen=True, slots=True)
class ResponseHeader:
    """The header of every answer.

    :ivar cluster_id: the cluster's ID.
    :ivar member_id: the ID of the member that answered.
    :ivar revision: the store revision when the request was served (0 in member answers).
    :ivar raft_term: the raft term (rises on each election).
    """

    cluster_id: int = 0
    member_id: int = 0
    revision: int = 0
    raft_term: int = 0


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One key and its value at some revision.

    :ivar key: the key's bytes.
    :ivar value: the value's bytes (``b""`` for an empty value, or with ``keys_only``).
    :ivar create_revision: the revision that created the key (0: the key does not exist).
    :ivar mod_revision: the revision of the last change.
    :ivar version: the number of changes since creation (1 for a new key; 0 once deleted).
    :ivar lease: the attached lease's ID (0: none).
    """

    key: bytes
    value: bytes = b""
    create_revision: int = 0
    mod_revision: int = 0
    version: int = 0
    lease: int = 0

    @property
    def key_text(self) -> str:
        """The key decoded as UTF-8 (undecodable bytes become surrogate escapes)."""
        return self.key.decode("utf-8", "surrogateescape")

    @property
    def value_text(self) -> str:
        """The value decoded as UTF-8 (undecodable bytes become surrogate escapes)."""
        return self.value.decode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class RangeResponse:
    """The answer of a range (a get).

    :ivar header: the answer's header.
    :ivar kvs: the keys found, in key order unless a sort was asked for.
    :ivar more: ``limit`` cut the answer short.
    :ivar count: the number of keys in the whole range (not the number returned).
    """

    header: ResponseHeader
    kvs: tuple[KeyValue, ...] = ()
    more: bool = False
    count: int = 0


@dataclass(frozen=True, slots=True)
class PutResponse:
    """The answer of a put.

    :ivar header: the answer's header (``revision`` is the put's revision).
    :ivar prev_kv: the previous key-value with ``prev_kv=True`` when the key existed.
    """

    header: ResponseHeader
    prev_kv: KeyValue | None = None


@dataclass(frozen=True, slots=True)
class DeleteResponse:
    """The answer of a delete range.

    :ivar header: the answer's header.
    :ivar deleted: how many keys were deleted.
    :ivar prev_kvs: the deleted key-values with ``prev_kv=True``.
    """

    header: ResponseHeader
    deleted: int = 0
    prev_kvs: tuple[KeyValue, ...] = ()


OpResponse = Union[RangeResponse, PutResponse, DeleteResponse, "TxnResponse"]


@dataclass(frozen=True, slots=True)
class TxnResponse:
    """The answer of a txn.

    :ivar header: the answer's header.
    :ivar succeeded: every compare held, so the ``success`` branch ran (else ``failure``).
    :ivar responses: one answer per operation of the branch that ran, in order.
    """

    header: ResponseHeader
    succeeded: bool = False
    responses: tuple[OpResponse, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """One change seen by a watch.

    :ivar type: ``"PUT"`` or ``"DELETE"`` (lease expiry arrives as ``"DELETE"``).
    :ivar kv: the key after the change (for a delete: only ``key`` and ``mod_revision``).
    :ivar prev_kv: the key before the change, when the watch asked for ``prev_kv`` and it existed.
    """

    type: EventType
    kv: KeyValue
    prev_kv: KeyValue | None = None

    @property
    def revision(self) -> int:
        """The revision of the change (the kv's ``mod_revision``)."""
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class WatchResponse:
    """One message of a watch stream.

    :ivar header: the message's header (a progress notification has only this).
    :ivar watch_id: the watch it belongs to (-1: a progress answer for every watch).
    :ivar created: the watch was just created.
    :ivar canceled: the watch ended (see ``compact_revision`` and ``cancel_reason``).
    :ivar compact_revision: set when the start revision was compacted.
    :ivar cancel_reason: the server's reason for a cancel (e.g. permission denied).
    :ivar events: the changes, in revision order.
    :ivar fragment: more fragments of this message follow.
    """

    header: ResponseHeader
    watch_id: int = 0
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ""
    events: tuple[Event, ...] = ()
    fragment: bool = False

    @property
    def is_progress(self) -> bool:
        """A progress notification: every change up to ``header.revision`` was delivered."""
        return not (self.created or self.canceled or self.events or self.fragment)


@dataclass(frozen=True, slots=True)
class LeaseGrant:
    """A granted lease.

    :ivar header: the answer's header.
    :ivar id: the lease ID.
    :ivar ttl: the granted TTL in seconds (etcd raises a TTL below its minimum, ~2 s).
    """

    header: ResponseHeader
    id: int
    ttl: int


@dataclass(frozen=True, slots=True)
class KeepAliveResponse:
    """The answer of one keep-alive.

    :ivar header: the answer's header.
    :ivar id: the lease ID.
    :ivar ttl: the TTL the lease was refreshed to; 0 when the lease no longer exists.
    """

    header: ResponseHeader
    id: int
    ttl: int = 0


@dataclass(frozen=True, slots=True)
class LeaseTimeToLive:
    """A lease's remaining time.

    :ivar header: the answer's header.
    :ivar id: the lease ID.
    :ivar ttl: the remaining seconds (rounded down); -1 when the lease does not exist.
    :ivar granted_ttl: the TTL the lease was granted with.
    :ivar keys: the keys attached (with ``keys=True``).
    """

    header: ResponseHeader
    id: int
    ttl: int
    granted_ttl: int = 0
    keys: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    """One cluster member.

    :ivar id: the member ID.
    :ivar name: its name (empty until a newly added member starts).
    :ivar peer_urls: its peer URLs.
    :ivar client_urls: its client URLs (empty until it starts).
    :ivar is_learner: a non-voting learner.
    """

    id: int
    name: str = ""
    peer_urls: tuple[str, ...] = ()
    client_urls: tuple[str, ...] = ()
    is_learner: bool = False


@dataclass(frozen=True, slots=True)
class MembersResponse:
    """The answer of member list, remove, update and promote.

    :ivar header: the answer's header.
    :ivar members: every member.
    """

    header: ResponseHeader
    members: tuple[Member, ...] = ()


@dataclass(frozen=True, slots=True)
class MemberAddResponse:
    """The answer of member add.

    :ivar header: the answer's header.
    :ivar member: the new member.
    :ivar members: every member, the new one included.
    """

    header: ResponseHeader
    member: Member
    members: tuple[Member, ...] = ()


@dataclass(frozen=True, slots=True)
class Status:
    """A member's status (``/v3/maintenance/status``).

    :ivar header: the answer's header (``member_id`` says which member this is).
    :ivar version: the server version, e.g. ``"3.5.1"``.
    :ivar db_size: the backend database size in bytes.
    :ivar leader: the leader's member ID (0: no leader).
    :ivar raft_index: the raft index; ``raft_applied_index``: the applied one.
    :ivar raft_term: the raft term.
    :ivar db_size_in_use: the bytes in use in the database.
    :ivar errors: alarm and other error texts.
    :ivar is_learner: the member is a learner.
    """

    header: ResponseHeader
    version: str = ""
    db_size: int = 0
    leader: int = 0
    raft_index: int = 0
    raft_term: int = 0
    raft_applied_index: int = 0
    db_size_in_use: int = 0
    errors: tuple[str, ...] = ()
    is_learner: bool = False

    @property
    def is_leader(self) -> bool:
        """This member is the leader."""
        return self.leader != 0 and self.leader == self.header.member_id


@dataclass(frozen=True, slots=True)
class AuthStatus:
    """Whether auth is enabled.

    :ivar header: the answer's header.
    :ivar enabled: auth is on.
    :ivar auth_revision: the auth store's revision.
    """

    header: ResponseHeader
    enabled: bool = False
    auth_revision: int = 0


@dataclass(frozen=True, slots=True)
class Permission:
    """A role's permission on a key or a key range.

    :ivar perm_type: ``"READ"``, ``"WRITE"`` or ``"READWRITE"``.
    :ivar key: the key (or the start of the range).
    :ivar range_end: the end of the range (exclusive); ``b""``: the key alone.
    """

    perm_type: PermType
    key: bytes
    range_end: bytes = b""


_T = TypeVar("_T")


class Listing(list[_T]):
    """A list answer (lease IDs, user or role names, a role's permissions) that also keeps
    the answer's header, which ``etcdctl -w json`` prints.

    :ivar header: the answer's header.
    """

    header: ResponseHeader

    def __init__(self, items: Iterable[_T] = (), header: ResponseHeader | None = None) -> None:
        super().__init__(items)
        self.header = header if header is not None else ResponseHeader()
