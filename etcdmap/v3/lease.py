"""The v3 lease API (``/v3/lease/*``): grant, revoke, keep-alive, time to live, list.

A key put with a lease goes when the lease expires or is revoked (all its keys in one
revision, seen by watches as DELETE events). etcd raises a TTL below its minimum (about 2 s,
ceil(1.5 x election timeout)) silently: read the granted TTL from :class:`LeaseGrant`.

Keep-alive over HTTP/1.1 is one POST per refresh: the gateway ends the stream as soon as the
request body is used up, so :meth:`Leases.keepalive_once` refreshes once.
:meth:`Leases.keep_alive` keeps a lease alive in the background on the client's lease stream
(:mod:`etcdmap.v3.lease_stream`: one ``/v3/lease/keepalive`` WebSocket per member, no thread
per lease) and says when the lease is lost (:mod:`etcdmap.v3.keepalive`).

Thread-safety: :class:`Leases` is thread-safe.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from etcdmap.errors import InvalidResponseError
from etcdmap.http.transport import DEFAULT, CallTimeout
from etcdmap.v3.caller import Caller
from etcdmap.v3.keepalive import LeaseKeepAlive, OnLost, Renewals, check_lease
from etcdmap.v3.models import (
    KeepAliveResponse,
    LeaseGrant,
    LeaseTimeToLive,
    Listing,
    ResponseHeader,
)
from etcdmap.v3.wire import as_int, check_int, parse_header
from etcdmap.v3.wire_admin import parse_keepalive, parse_lease_grant, parse_timetolive

__all__ = ["Leases"]

_MAX_TTL = 9_000_000_000


class Leases:
    """``client.lease``: leases.

    :param caller: the client's call layer.
    :param keepalives: the client's lease stream, made on first use (``None``: this object
        cannot keep leases alive, :meth:`keep_alive` raises ``RuntimeError``).
    """

    def __init__(self, caller: Caller, *,
                 keepalives: Callable[[], Renewals] | None = None) -> None:
        self._caller = caller
        self._keepalives = keepalives
        self._handles: weakref.WeakSet[LeaseKeepAlive] = weakref.WeakSet()

    def grant(self, ttl: int, *, lease_id: int = 0, timeout: CallTimeout = DEFAULT) -> LeaseGrant:
        """Grant a lease.

        :param ttl: seconds (etcd raises it to its minimum, ~2 s).
        :param lease_id: a client-chosen ID (0: the server chooses).
        :returns: the lease's ID and granted TTL.
        :raises LeaseExists: ``lease_id`` is taken.
        :raises AmbiguousResultError: sent and unanswered (never granted twice).
        :raises TypeError, ValueError: ``ttl`` is not an int in 1..9,000,000,000.
        """
        check_int(ttl, "ttl", 1)
        if ttl > _MAX_TTL:
            raise ValueError(f"ttl must be at most {_MAX_TTL} s, got {ttl}")
        body: dict[str, Any] = {"TTL": str(ttl)}
        if check_int(lease_id, "lease_id"):
            body["ID"] = str(lease_id)
        data = self._caller.call("/v3/lease/grant", body, idempotent=False, timeout=timeout)
        return parse_lease_grant(data)

    def revoke(self, lease_id: int, *, timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Revoke a lease and delete its keys (in one revision).

        :returns: the answer's header.
        :raises LeaseNotFound: no such lease (also a ``KeyError``).
        :raises AmbiguousResultError: sent and unanswered.
        """
        body = {"ID": str(check_int(lease_id, "lease_id", 1))}
        data = self._caller.call("/v3/lease/revoke", body, idempotent=False, timeout=timeout)
        return parse_header(data.get("header"))

    def keepalive_once(self, lease_id: int, *, timeout: CallTimeout = DEFAULT,
                       endpoint: str | None = None) -> KeepAliveResponse:
        """Refresh a lease once to its granted TTL.

        :param endpoint: send to exactly this member (default: the pinned one, with failover).
        :returns: the refreshed TTL; ``ttl == 0`` means the lease no longer exists (not an
            error, as etcd answers it).
        :raises InvalidResponseError: the stream held no result.
        """
        body = {"ID": str(check_int(lease_id, "lease_id", 1))}
        data = self._caller.call("/v3/lease/keepalive", body, idempotent=True, timeout=timeout,
                                 endpoint=endpoint)
        result = data.get("result")
        if not isinstance(result, dict):
            raise InvalidResponseError(f"a keep-alive answer has no result: {data!r:.100}")
        return parse_keepalive(result)

    def keep_alive(self, lease_id: int, ttl: int, *, on_lost: OnLost | None = None) -> LeaseKeepAlive:
        """Keep a lease alive in the background, refreshing it about every ``ttl / 3``, until
        the handle is stopped (see :class:`~etcdmap.v3.keepalive.LeaseKeepAlive`). The
        refreshes share the client's lease stream and hub: no thread per kept lease.

        :param lease_id: the lease (e.g. ``grant(10).id``).
        :param ttl: its granted TTL in seconds (``grant(10).ttl``).
        :param on_lost: called once, on a worker thread of the client's hub, with a
            :class:`~etcdmap.errors.LeaseLost` if the lease is lost (etcd says it expired or
            was revoked, or no refresh got through for a whole TTL); it must not block long.
        :returns: the started handle: ``.lease_id``, ``.ttl``, ``.alive``, ``.error``,
            ``.stop(revoke=False)``; a context manager (leaving it stops the refreshes and
            raises the ``LeaseLost`` if the lease was lost).
        :raises TypeError, ValueError: ``lease_id`` or ``ttl`` is not a positive int.
        :raises RuntimeError: this object was made without a lease stream (not by a client).
        """
        lease_id, ttl = check_lease(lease_id, ttl)
        if self._keepalives is None:
            raise RuntimeError("this Leases object has no lease stream to keep leases alive "
                               "on: use the one of an etcdmap.v3.Client (client.lease)")
        handle = LeaseKeepAlive(self._keepalives(), lease_id, ttl, on_lost=on_lost)
        self._handles.add(handle)
        return handle.start()

    def stop_keep_alives(self) -> None:
        """Stop every keep-alive this client started (the client is closing): the leases are
        not revoked, they expire after their TTL."""
        for handle in list(self._handles):
            handle.stop()

    def time_to_live(self, lease_id: int, *, keys: bool = False,
                     timeout: CallTimeout = DEFAULT) -> LeaseTimeToLive:
        """A lease's remaining TTL (-1: no such lease) and, with ``keys``, its keys.

        :raises TypeError, ValueError: bad arguments.
        """
        body: dict[str, Any] = {"ID": str(check_int(lease_id, "lease_id", 1))}
        if not isinstance(keys, bool):
            raise TypeError(f"keys must be a bool, not {type(keys).__name__}")
        if keys:
            body["keys"] = True
        data = self._caller.call("/v3/lease/timetolive", body, idempotent=True, timeout=timeout)
        return parse_timetolive(data)

    def leases(self, *, timeout: CallTimeout = DEFAULT) -> Listing[int]:
        """The IDs of every live lease (a list; ``.header`` is the answer's header)."""
        data = self._caller.call("/v3/lease/leases", {}, idempotent=True, timeout=timeout)
        items = data.get("leases") or []
        if not isinstance(items, list):
            raise InvalidResponseError(f"leases is not a list: {items!r:.80}")
        ids = [as_int(item.get("ID") if isinstance(item, dict) else item, "ID") for item in items]
        return Listing(ids, parse_header(data.get("header")))

