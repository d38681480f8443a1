"""The v3 gateway's answers of the lease, cluster, maintenance and auth APIs: pure parsers.

The JSON conventions are :mod:`etcdmap.v3.wire`'s; malformed answers raise
:class:`~etcdmap.errors.InvalidResponseError`. Thread-safety: every function is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from etcdmap.v3.errors import V3Error
from etcdmap.v3.models import (
    AuthStatus,
    KeepAliveResponse,
    LeaseGrant,
    LeaseTimeToLive,
    Member,
    MemberAddResponse,
    MembersResponse,
    Permission,
    Status,
)
from etcdmap.v3.wire import (
    _bad,
    _bool,
    _list,
    _obj,
    _str,
    as_int,
    parse_header,
    unb64,
)

__all__ = [
    "parse_auth_status",
    "parse_keepalive",
    "parse_lease_grant",
    "parse_member",
    "parse_member_add",
    "parse_members",
    "parse_permission",
    "parse_status",
    "parse_timetolive",
]


def parse_lease_grant(data: Mapping[str, Any]) -> LeaseGrant:
    """A ``LeaseGrantResponse`` (an ``error`` text in it is raised as a :class:`V3Error`)."""
    if data.get("error"):
        raise V3Error(_str(data.get("error"), "error"))
    return LeaseGrant(parse_header(data.get("header")), as_int(data.get("ID"), "ID"),
                      as_int(data.get("TTL"), "TTL"))


def parse_keepalive(data: Mapping[str, Any]) -> KeepAliveResponse:
    """One ``LeaseKeepAliveResponse`` (TTL 0: the lease is gone)."""
    return KeepAliveResponse(parse_header(data.get("header")), as_int(data.get("ID"), "ID"),
                             as_int(data.get("TTL"), "TTL"))


def parse_timetolive(data: Mapping[str, Any]) -> LeaseTimeToLive:
    """A ``LeaseTimeToLiveResponse``."""
    return LeaseTimeToLive(
        header=parse_header(data.get("header")),
        id=as_int(data.get("ID"), "ID"),
        ttl=as_int(data.get("TTL"), "TTL"),
        granted_ttl=as_int(data.get("grantedTTL"), "grantedTTL"),
        keys=_list(data.get("keys"), "keys", lambda k: unb64(k, "keys[]")),
    )


def _strs(value: object, field: str) -> tuple[str, ...]:
    return _list(value, field, lambda s: _str(s, field))


def parse_member(data: object) -> Member:
    """One ``Member``."""
    m = _obj(data, "member")
    return Member(
        id=as_int(m.get("ID"), "ID"),
        name=_str(m.get("name"), "name"),
        peer_urls=_strs(m.get("peerURLs"), "peerURLs"),
        client_urls=_strs(m.get("clientURLs"), "clientURLs"),
        is_learner=_bool(m.get("isLearner"), "isLearner"),
    )


def parse_members(data: Mapping[str, Any]) -> MembersResponse:
    """A member list, remove, update or promote answer."""
    return MembersResponse(parse_header(data.get("header")),
                           _list(data.get("members"), "members", parse_member))


def parse_member_add(data: Mapping[str, Any]) -> MemberAddResponse:
    """A ``MemberAddResponse``."""
    return MemberAddResponse(
        parse_header(data.get("header")), parse_member(data.get("member")),
        _list(data.get("members"), "members", parse_member),
    )


def parse_status(data: Mapping[str, Any]) -> Status:
    """A ``StatusResponse``."""
    return Status(
        header=parse_header(data.get("header")),
        version=_str(data.get("version"), "version"),
        db_size=as_int(data.get("dbSize"), "dbSize"),
        leader=as_int(data.get("leader"), "leader"),
        raft_index=as_int(data.get("raftIndex"), "raftIndex"),
        raft_term=as_int(data.get("raftTerm"), "raftTerm"),
        raft_applied_index=as_int(data.get("raftAppliedIndex"), "raftAppliedIndex"),
        db_size_in_use=as_int(data.get("dbSizeInUse"), "dbSizeInUse"),
        errors=_strs(data.get("errors"), "errors"),
        is_learner=_bool(data.get("isLearner"), "isLearner"),
    )


def parse_auth_status(data: Mapping[str, Any]) -> AuthStatus:
    """An ``AuthStatusResponse``."""
    return AuthStatus(parse_header(data.get("header")), _bool(data.get("enabled"), "enabled"),
                      as_int(data.get("authRevision"), "authRevision"))


_PERM_TYPES = {None: "READ", "READ": "READ", 0: "READ", "WRITE": "WRITE", 1: "WRITE",
               "READWRITE": "READWRITE", 2: "READWRITE"}


def parse_permission(data: object) -> Permission:
    """One ``authpb.Permission`` (READ is absent from the JSON: it is the zero value)."""
    p = _obj(data, "perm")
    kind = p.get("permType")
    if not isinstance(kind, (str, int, type(None))) or kind not in _PERM_TYPES:
        raise _bad(f"unknown permType {kind!r:.40}")
    return Permission(cast(Any, _PERM_TYPES[kind]), unb64(p.get("key"), "key"),
                      unb64(p.get("range_end"), "range_end"))
