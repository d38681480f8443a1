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

from etcdmap.http.client import TransportClient
from etcdmap.http.options import TransportOptions, TransportSettings, with_settings_signature
from etcdmap.http.transport import DEFAULT, CallTimeout, Transport
from etcdmap.v3._call import Caller
from etcdmap.v3.auth import Auth
from etcdmap.v3.backend import V3Backend
from etcdmap.v3.cluster import Maintenance, Members
from etcdmap.v3.kv import KV
from etcdmap.v3.lease import Leases
from etcdmap.v3.models import Status
from etcdmap.v3.watch import Watcher

if TYPE_CHECKING:
    from typing_extensions import Unpack

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
        # v3 authenticates with a token (etcdmap.v3._call), never with Basic auth.
        self.transport = Transport(endpoints, options=given.replace(username=None, password=None))
        self._caller = Caller(self.transport, given.username, given.password)
        self.kv = KV(self._caller)
        """Keys and values (:class:`etcdmap.v3.kv.KV`)."""
        self.lease = Leases(self._caller)
        """Leases (:class:`etcdmap.v3.lease.Leases`)."""
        self.auth = Auth(self._caller)
        """Auth switch, users, roles, tokens (:class:`etcdmap.v3.auth.Auth`)."""
        self.members = Members(self._caller)
        """Cluster membership (:class:`etcdmap.v3.cluster.Members`)."""
        self.maintenance = Maintenance(self._caller)
        """Member status (:class:`etcdmap.v3.cluster.Maintenance`)."""
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

    def status(self, *, endpoint: str | None = None) -> Status:
        """The status of a member (the pinned one by default): see
        :meth:`etcdmap.v3.cluster.Maintenance.status`."""
        return self.maintenance.status(endpoint=endpoint)


    def close(self) -> None:
        """End the watches of the client's maps and release the pooled connections (the
        client reconnects if used again)."""
        self.backend.close_hub()
        super().close()

    def __repr__(self) -> str:
        user = f", username={self._caller.username!r}" if self._caller.username else ""
        return f"etcdmap.v3.Client({self.endpoints!r}{user})"
