"""The members API (``/v2/members``): list, add, remove, update and find the leader.

The pure helpers (:func:`validate_peer_url`, :func:`parse_member`, :func:`parse_members`,
:func:`error_message`, :func:`member_error`) do no I/O and are unit-tested on their own;
:class:`MembersAPI` sends the requests through :class:`etcdmap.http.transport.Transport`.

Unlike the Go client, every ``{"message": ...}`` answer becomes a specific
:class:`~etcdmap.errors.MemberError` subclass carrying the server's message (never
"unexpected status code"), and member writes are never re-sent to another member after an
ambiguous failure (the Go client retries them: etcd-io/etcd release-3.5:client/v2/client.go): such a
failure raises :class:`~etcdmap.errors.AmbiguousResultError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from etcdmap.errors import (
    AuthError,
    ClusterError,
    InsufficientCredentials,
    InvalidResponseError,
    MemberError,
    MemberExists,
    MemberNotFound,
    MemberRemoved,
    NoLeaderError,
)
from etcdmap.http.budget import Budget
from etcdmap.http.probes import error_message, snippet
from etcdmap.http.transport import DEFAULT, CallTimeout, HTTPResult, ServerError, Transport
from etcdmap.v2.member_refusal import RecentRemovals, refusals
from etcdmap.v2.models import Member

__all__ = [
    "MembersAPI",
    "decode_json",
    "error_message",
    "member_error",
    "parse_member",
    "parse_members",
    "validate_member_id",
    "validate_peer_url",
]

_PEER_SCHEMES = frozenset({"http", "https", "unix", "unixs"})
_HEX_ID = re.compile(r"[0-9a-fA-F]{1,16}")
_MEMBER_ERRORS: Mapping[int, type[MemberError]] = {
    404: MemberNotFound,
    409: MemberExists,
    410: MemberRemoved,
    503: NoLeaderError,
}


# --------------------------------------------------------------------------- pure helpers


def validate_peer_url(url: str) -> str:
    """Check a peer URL the way etcd does (``types.NewURLs``) before anything is sent.

    :param url: e.g. ``"http://10.0.0.4:2380"``.
    :returns: the URL, unchanged.
    :raises ValueError: not a string, scheme other than http/https/unix/unixs, no ``host:port``,
        a port that is not a number, or a path, query or fragment.
    """
    if not isinstance(url, str) or not url:
        raise ValueError(f"peer URL must be a non-empty string, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in _PEER_SCHEMES:
        raise ValueError(
            f"peer URL scheme must be http, https, unix or unixs: {url!r} "
            "(write it as scheme://host:port)"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"peer URL has an invalid port: {url!r}") from exc
    if not parts.hostname or port is None or "@" in parts.netloc:
        raise ValueError(f'peer URL does not have the form "scheme://host:port": {url!r}')
    if parts.path not in ("",) or parts.query or parts.fragment:
        raise ValueError(f"peer URL must not contain a path, query or fragment: {url!r}")
    return url


def _peer_urls(peer_urls: str | Sequence[str]) -> list[str]:
    """One URL or a sequence of them, validated (:func:`validate_peer_url`), as a list."""
    urls = [peer_urls] if isinstance(peer_urls, str) else list(peer_urls)
    if not urls:
        raise ValueError("need at least one peer URL")
    for url in urls:
        validate_peer_url(url)
    return urls


def validate_member_id(member_id: str | Member) -> str:
    """Return the hex id of a member (a :class:`~etcdmap.v2.models.Member` or its ``id``).

    :raises ValueError: the id is not 1-16 hexadecimal digits.
    """
    mid = member_id.id if isinstance(member_id, Member) else member_id
    if not isinstance(mid, str) or not _HEX_ID.fullmatch(mid):
        raise ValueError(f"member id must be 1-16 hexadecimal digits, got {mid!r}")
    return mid.lower()


def decode_json(result: HTTPResult) -> object:
    """Decode an HTTP body as JSON.

    :raises InvalidResponseError: empty or not JSON: probably not an etcd v2 endpoint.
    """
    if not result.body.strip():
        raise InvalidResponseError(
            f"empty body from {result.endpoint} (HTTP {result.status}); "
            "the endpoint is probably not an etcd v2 server",
            result.endpoint,
        )
    try:
        return json.loads(result.body)
    except ValueError as exc:
        raise InvalidResponseError(
            f"invalid JSON from {result.endpoint} (HTTP {result.status}): "
            f"{snippet(result.body)!r}; the endpoint is probably not an etcd v2 server",
            result.endpoint,
        ) from exc


def member_error(status: int, body: bytes) -> MemberError | AuthError:
    """Map an error answer of ``/v2/members`` to an exception carrying the server's message.

    :param status: the HTTP status.
    :param body: the body, normally ``{"message": ...}``.
    :returns: :class:`InsufficientCredentials` for 401 (root is needed when auth is on), a
        :class:`MemberError` subclass by status otherwise (plain :class:`MemberError` for others).
    """
    message = error_message(body) or f"HTTP {status}"
    if status == 401:
        return InsufficientCredentials(message, status)
    return _MEMBER_ERRORS.get(status, MemberError)(message, status)


def _strings(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidResponseError(f"member field {what!r} is not a list of strings: {value!r}")
    return tuple(value)


def parse_member(obj: object) -> Member:
    """Build a :class:`~etcdmap.v2.models.Member` from etcd's member JSON object.

    :raises InvalidResponseError: not an object, or no string ``id``.
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise InvalidResponseError(f"not an etcd member object: {obj!r}")
    name = obj.get("name")
    return Member(
        id=obj["id"],
        name=name if isinstance(name, str) else "",
        peer_urls=_strings(obj.get("peerURLs"), "peerURLs"),
        client_urls=_strings(obj.get("clientURLs"), "clientURLs"),
    )


def parse_members(obj: object) -> list[Member]:
    """Parse ``{"members": [...]}``; a missing or null list gives ``[]``.

    :raises InvalidResponseError: the JSON does not have that shape.
    """
    if not isinstance(obj, dict):
        raise InvalidResponseError(f"not an etcd members list: {obj!r}")
    members = obj.get("members")
    if members is None:
        return []
    if not isinstance(members, list):
        raise InvalidResponseError(f"'members' is not a list: {members!r}")
    return [parse_member(m) for m in members]


# --------------------------------------------------------------------------- the API


class MembersAPI:
    """``client.members``: cluster membership.

    Every method takes ``timeout=``: the whole call's deadline in seconds (``None``: none;
    default: the client's ``timeout``), across endpoints and every request the call sends.

    Thread-safe: it keeps no state besides the (thread-safe) transport and the IDs of the
    members it removed in the last seconds (to explain a refused add).

    :param transport: the client's transport.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._removed = RecentRemovals()

    def list(self, *, timeout: CallTimeout = DEFAULT) -> list[Member]:
        """List the members, in the server's order.

        :returns: the members (``client_urls`` is empty for a member that has not started yet).
        :raises MemberError: on an error answer; transport errors (``ClusterError``,
            ``DeadlineExceeded``) propagate.
        """
        result = self._transport.request("GET", "/v2/members", timeout=timeout)
        if result.status != 200:
            raise member_error(result.status, result.body)
        return parse_members(decode_json(result))

    def leader(self, *, timeout: CallTimeout = DEFAULT) -> Member:
        """The current leader.

        :returns: the leader member.
        :raises NoLeaderError: no leader (election in progress, or quorum lost).
        :raises MemberError: other error answers.
        """
        try:
            result = self._transport.request("GET", "/v2/members/leader", timeout=timeout)
        except ClusterError as exc:
            # The transport fails over on 5xx; when the members that answered said 503
            # "During election" (the others being unreachable), say that there is no leader
            # rather than "cluster unavailable".
            answers = [e for _, e in exc.errors if isinstance(e, ServerError)]
            if answers and all(e.status == 503 for e in answers):
                message = error_message(answers[0].body) or "During election"
                raise NoLeaderError(
                    f"{message}: the cluster has no leader (election in progress or quorum lost)",
                    503,
                ) from exc
            raise
        if result.status != 200:
            raise member_error(result.status, result.body)
        return parse_member(decode_json(result))

    def add(self, peer_urls: str | Sequence[str], *, timeout: CallTimeout = DEFAULT) -> Member:
        """Add a member; then start the new etcd with ``--initial-cluster-state=existing``.

        Mind quorum: the new member counts towards it at once, before it has started. On a
        one-member cluster (a development server) the add succeeds and the cluster stops --
        writes, quorum reads and the :meth:`remove` that would undo it time out -- until the
        new etcd starts and joins. Add members to a cluster of three or more (which keeps
        quorum while one is missing), one at a time, starting each before adding the next;
        etcd v3 can add a non-voting learner instead (``etcdmap.v3.Client.members.add(...,
        learner=True)``), which is safe on any cluster.

        :param peer_urls: the new member's peer URL, ``scheme://host:port``, or a sequence of
            them (a member may listen on several); all are validated before any request.
        :returns: the new member (``name`` and ``client_urls`` stay empty until it starts).
        :raises ValueError: no URL or an invalid peer URL (checked before any request).
        :raises MemberExists: a peer URL is already used by a member.
        :raises MemberChangeRefused: etcd's strict reconfiguration check refused the change,
            or the peer URLs were added and removed within this same second (etcd refuses
            the removed member's ID: "membership: ID removed"); not applied: retry later.
        :raises InsufficientCredentials: auth is on and the client is not root.
        :raises AmbiguousResultError: sent, but no answer: the member may have been added.
        """
        urls = _peer_urls(peer_urls)
        budget = Budget(timeout, self._transport.timeout)
        with refusals("add a member with peer URLs " + ",".join(urls), self._lister(budget),
                      lambda ms: any(set(urls) <= set(m.peer_urls) for m in ms),
                      lambda sent, answered: self._removed.reused(urls, sent, answered)):
            result = self._transport.request(
                "POST", "/v2/members", json={"peerURLs": urls}, idempotent=False,
                timeout=budget.left(),
            )
        if result.status not in (200, 201):
            raise member_error(result.status, result.body)
        return parse_member(decode_json(result))

    def remove(self, member_id: str | Member, *, timeout: CallTimeout = DEFAULT) -> None:
        """Remove a member.

        When the pinned endpoint is the member being removed, the request goes to another
        endpoint (a member removing itself stops before it can answer), which stays pinned.

        :param member_id: the member's hex id (or the :class:`Member`).
        :raises ValueError: not a hex id.
        :raises MemberNotFound: no such member.
        :raises MemberRemoved: the member was already removed.
        :raises InsufficientCredentials: auth is on and the client is not root.
        :raises MemberChangeRefused: etcd's strict reconfiguration check refused the change
            (e.g. it would lose quorum; not applied).
        :raises AmbiguousResultError: sent, but no answer: the member may have been removed.
        """
        mid = validate_member_id(member_id)
        budget = Budget(timeout, self._transport.timeout)
        bystander = self._bystander(mid, budget)
        with refusals(f"remove member {mid}", self._lister(budget),
                      lambda ms: all(m.id != mid for m in ms)):
            result = self._transport.request(
                "DELETE", f"/v2/members/{mid}", idempotent=False, endpoint=bystander,
                timeout=budget.left(),
            )
        if result.status not in (200, 204):
            raise member_error(result.status, result.body)
        self._removed.note(int(mid, 16))
        if bystander is not None:
            self._transport.pin(bystander)  # the removed member is stopping: move away

    def _lister(self, budget: Budget) -> Callable[[], Sequence[Member]]:
        """The member list read inside ``budget`` (for the refusal check)."""
        return lambda: self.list(timeout=budget.left())

    def _bystander(self, mid: str, budget: Budget) -> str | None:
        """An endpoint other than the member being removed, when the pinned one is it.

        A member asked to remove itself stops while answering (HTTP 500 or a reset), which
        would make the removal look ambiguous. ``None``: the pinned endpoint is fine.
        """
        pinned = self._transport.pinned
        target = next((m for m in self.list(timeout=budget.left()) if m.id == mid), None)
        own = {url.rstrip("/") for url in target.client_urls} if target else set()
        if pinned.rstrip("/") not in own:
            return None
        return next((ep for ep in self._transport.endpoints if ep.rstrip("/") not in own), None)

    def update(
        self, member_id: str | Member, peer_urls: str | Sequence[str], *,
        timeout: CallTimeout = DEFAULT,
    ) -> None:
        """Replace a member's peer URLs.

        :param member_id: the member's hex id (or the :class:`Member`).
        :param peer_urls: the new peer URLs (a single string is accepted); sent sorted.
        :raises ValueError: a bad id, no URL, or an invalid URL (checked before any request).
        :raises MemberNotFound: no such member.
        :raises MemberExists: a peer URL is used by another member.
        :raises MemberChangeRefused: etcd's strict reconfiguration check refused the change
            (not applied; retry in a few seconds).
        :raises AmbiguousResultError: sent, but no answer: the update may have applied.
        """
        mid = validate_member_id(member_id)
        urls = _peer_urls(peer_urls)
        budget = Budget(timeout, self._transport.timeout)
        with refusals(f"update member {mid} to peer URLs " + ",".join(urls), self._lister(budget),
                      lambda ms: any(m.id == mid and set(m.peer_urls) == set(urls) for m in ms)):
            result = self._transport.request(
                "PUT", f"/v2/members/{mid}", json={"peerURLs": sorted(urls)}, idempotent=False,
                timeout=budget.left(),
            )
        if result.status not in (200, 204):
            raise member_error(result.status, result.body)
