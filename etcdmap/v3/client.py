"""``etcdmap.v3.Client``: the v3 API over etcd's HTTP/JSON gateway, with v2's transport guarantees.

Example::

    from etcdmap.v3 import Client, Compare, Op

    with Client("http://127.0.0.1:2379") as client:
        client.kv.put("cfg/a", "1")
        client.kv.range("cfg/", prefix=True).kvs
        client.kv.txn([Compare.value("cfg/a", "==", "1")], [Op.put("cfg/a", "2")])
        lease = client.lease.grant(30)
        for event in client.watch("cfg/", prefix=True, start_revision=1):
            ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from etcdmap.http import probes
from etcdmap.http.client import TransportClient
from etcdmap.http.options import TransportOptions, TransportSettings, with_settings_signature
from etcdmap.http.transport import DEFAULT, CallTimeout, Transport
from etcdmap.models import Health, Versions
from etcdmap.v3.auth import Auth
from etcdmap.v3.backend import V3Backend
from etcdmap.v3.caller import Caller
from etcdmap.v3.cluster import Members
from etcdmap.v3.election import Election, ElectionService
from etcdmap.v3.errors import server_error
from etcdmap.v3.kv import KV
from etcdmap.v3.lease import Leases
from etcdmap.v3.lock import Lock, LockService
from etcdmap.v3.lock_wait import MemberChecks
from etcdmap.v3.maintenance import Maintenance
from etcdmap.v3.models import Status
from etcdmap.v3.watch import Watcher

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from etcdmap.v3.lease_stream import LeaseStream

__all__ = ["Client"]


@with_settings_signature
class Client(TransportClient):
    """An etcd v3 client: endpoints with pinning and failover, and the v3 APIs.

    The same transport as :class:`etcdmap.Client` (pinning, failover, whole-call deadline, TLS,
    cURL debug, no duplicate non-idempotent writes); authentication is etcd v3's token
    authentication (not Basic auth): the client authenticates with ``username``/``password``
    on its first call and again when the token expires.

    Thread-safe: share one client between threads. Close it (or use ``with``) to release
    the connections.

    :param endpoints: one URL or a list, e.g. ``["http://10.0.0.1:2379", "http://10.0.0.2:2379"]``.
    :param options: the transport settings as one value
        (:class:`~etcdmap.http.options.TransportOptions`); keyword arguments override it.
    :param settings: the transport settings as keyword arguments, as :class:`etcdmap.Client`
        takes them: ``timeout`` (whole-call deadline, authentication inside it),
        ``request_timeout`` (one attempt on one endpoint; set it below ``timeout`` to skip a
        hung member), ``username``/``password`` (the etcd user for token authentication;
        ``None``: none; the password is never shown), ``verify``, ``cert``,
        ``max_redirects`` and ``session`` (``None``: a default one with etcdmap's fast
        adapter mounted).
    :raises NoEndpointsError: no endpoint.
    :raises ValueError: an invalid endpoint URL or timeout.
    :raises TypeError: an unknown keyword argument, or a setting of the wrong type.
    """

    def __init__(
        self,
        endpoints: str | Sequence[str],
        *,
        options: TransportOptions | None = None,
        **settings: Unpack[TransportSettings],
    ) -> None:
        given = TransportOptions.build("etcdmap.v3.Client", options, settings)
        # v3 authenticates with a token (etcdmap.v3.caller), never with Basic auth.
        self.transport = Transport(endpoints, options=given.replace(username=None, password=None),
                                   server_error=server_error)
        self._caller = Caller(self.transport, given.username, given.password)
        self.kv = KV(self._caller)
        """Keys and values (:class:`etcdmap.v3.kv.KV`)."""
        self.lease = Leases(self._caller, keepalives=self._lease_stream)
        """Leases (:class:`etcdmap.v3.lease.Leases`); kept alive on the client's lease
        stream."""
        self.auth = Auth(self._caller)
        """Auth switch, users, roles, tokens (:class:`etcdmap.v3.auth.Auth`)."""
        self.members = Members(self._caller)
        """Cluster membership (:class:`etcdmap.v3.cluster.Members`)."""
        self.maintenance = Maintenance(self._caller)
        """Status, alarms, defragment, hashes, snapshot, leader transfer
        (:class:`etcdmap.v3.maintenance.Maintenance`)."""
        self.lock_service = LockService(self._caller)
        """etcd's lock service, one method per route (:class:`etcdmap.v3.lock.LockService`);
        :meth:`lock` is what most code wants."""
        self.election_service = ElectionService(self._caller)
        """etcd's election service, one method per route
        (:class:`etcdmap.v3.election.ElectionService`); :meth:`election` is what most code
        wants."""
        self.backend = V3Backend(self)
        """This client as the store of an :class:`~etcdmap.EtcdMap` (:mod:`etcdmap.v3.backend`)."""


    def watch(
        self,
        key: str | bytes,
        *,
        prefix: bool = False,
        range_end: str | bytes | None = None,
        start_revision: int = 0,
        prev_kv: bool = False,
        progress_notify: bool = False,
        filters: Sequence[Literal["NOPUT", "NODELETE"]] = (),
        read_timeout: float = 30.0,
        timeout: CallTimeout = DEFAULT,
    ) -> Watcher:
        """A :class:`~etcdmap.v3.watch.Watcher` of a key, a prefix or a range (opened when
        iterated). See :class:`~etcdmap.v3.watch.Watcher` for the parameters.

        :raises TypeError, ValueError: bad arguments.
        """
        return Watcher(
            self._caller, key, prefix=prefix, range_end=range_end, start_revision=start_revision,
            prev_kv=prev_kv, progress_notify=progress_notify, filters=filters,
            read_timeout=read_timeout, timeout=timeout,
        )

    def lock(self, name: str, ttl: int = 60, timeout: float | None = None) -> Lock:
        """A distributed lock on etcd's lock service (the Go client's ``concurrency.Mutex``);
        acquired by ``with`` (or :meth:`~etcdmap.v3.lock.Lock.acquire`)::

            with client.lock("jobs/nightly", ttl=30, timeout=10) as lk:
                ...   # lk.key, lk.revision (a fencing token), lk.lease, lk.lost

        :param name: the lock's name (any non-empty text; a key prefix in etcd).
        :param ttl: the lease TTL of each acquisition in seconds: how long a holder that
            dies keeps the others waiting. The lease is kept alive while waiting and holding.
        :param timeout: how long to wait for it (``None``: for ever). A timeout raises
            :class:`~etcdmap.errors.LockTimeout` and leaves no waiter in etcd. A wait whose
            member fails (frozen, dead, partitioned) moves to another member.
        :returns: the :class:`~etcdmap.v3.lock.Lock` (not acquired yet).
        :raises TypeError, ValueError: an empty name, a TTL outside 1..9e9, a timeout <= 0.

        A holder that loses its lease (its process paused past the TTL, a partition) learns
        it: ``lk.lost`` turns true, :data:`etcdmap.signals.lock_lost` is sent, and leaving the
        ``with`` raises :class:`~etcdmap.errors.LockLost`.
        """
        return Lock(self.lock_service, self.kv, self.lease, name, ttl=ttl, timeout=timeout,
                    checks=self._member_checks())

    def election(self, name: str, ttl: int = 60) -> Election:
        """A leader election on etcd's election service (the Go client's
        ``concurrency.Election``)::

            e = client.election("services/db-primary", ttl=10)
            e.campaign("node-1", timeout=None)   # blocks until leader
            e.proclaim("node-1 (draining)")      # a new value, same leadership
            e.leader()                           # the leader's value (bytes) or None
            for value in e.observe(): ...        # the leader's values as they change
            e.resign()

        :param name: the election's name (any non-empty text; a key prefix in etcd).
        :param ttl: the lease TTL of a campaign in seconds (kept alive while campaigning
            and leading).
        :returns: the :class:`~etcdmap.v3.election.Election`.
        :raises TypeError, ValueError: an empty name or a TTL outside 1..9e9.
        """
        return Election(self.election_service, self.lease, name, ttl=ttl,
                        checks=self._member_checks())

    def _lease_stream(self) -> LeaseStream:
        """The client's lease keep-alive stream (made on first use by its backend)."""
        return self.backend.streams.leases()

    def _member_checks(self) -> MemberChecks:
        """Where the waits of locks and campaigns go and how their members are watched: the
        client's endpoints and the shared member checks of its hub."""
        return MemberChecks(self.transport, self.backend.streams.hub)

    def status(self, *, endpoint: str | None = None, timeout: CallTimeout = DEFAULT) -> Status:
        """The status of a member (the pinned one by default): see
        :meth:`etcdmap.v3.maintenance.Maintenance.status`."""
        return self.maintenance.status(endpoint=endpoint, timeout=timeout)

    def version(self, *, timeout: CallTimeout = DEFAULT) -> Versions:
        """The answering member's server version and the cluster version (``GET /version``,
        as :meth:`etcdmap.Client.version`).

        :param timeout: the call's deadline (default: the client's).
        :raises InvalidResponseError: not an etcd answer.
        """
        return probes.version(self.transport, timeout=timeout)

    def health(
        self, *, endpoint: str | None = None, serializable: bool = False,
        timeout: CallTimeout = DEFAULT,
    ) -> Health:
        """The cluster's health as a member sees it (``GET /health``, as
        :meth:`etcdmap.Client.health`); never raises for an unhealthy or unreachable cluster:
        see :func:`etcdmap.http.probes.health`.

        :param endpoint: ask exactly this member.
        :param serializable: let the member answer without the leader.
        :param timeout: the deadline of each member asked (default: the client's).
        :returns: :class:`~etcdmap.models.Health` (``bool(health)`` is ``health.healthy``).
        """
        return probes.health(self.transport, endpoint=endpoint, serializable=serializable,
                             timeout=timeout)


    def close(self) -> None:
        """End the watches of the client's maps, stop its lease keep-alives (locks and
        elections still held then expire after their TTL) and release the pooled connections
        (the client reconnects if used again)."""
        self.lease.stop_keep_alives()  # a lock or election still held expires after its TTL
        self.backend.close_hub()
        super().close()

    def __repr__(self) -> str:
        user = f", username={self._caller.username!r}" if self._caller.username else ""
        return f"etcdmap.v3.Client({self.endpoints!r}{user})"
