"""``Client``: the entry point of the client layer; owns the transport and exposes the v2 APIs.

Example::

    with Client("http://127.0.0.1:2379") as client:
        client.keys.set("/foo", "bar")
        assert client.keys.get("/foo").node.value == "bar"
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from etcdmap.http.client import TransportClient
from etcdmap.http.options import TransportOptions, TransportSettings, with_settings_signature
from etcdmap.http.transport import DEFAULT, CallTimeout, Transport
from etcdmap.models import Selection
from etcdmap.v2 import discovery as _discovery
from etcdmap.v2 import stats as _stats
from etcdmap.v2 import sync as _sync
from etcdmap.v2 import wire as _wire
from etcdmap.v2.auth import AuthAPI, RolesAPI, UsersAPI
from etcdmap.v2.backend import V2Backend
from etcdmap.v2.keys import KeysAPI
from etcdmap.v2.members import MembersAPI
from etcdmap.v2.models import Health, Versions
from etcdmap.v2.stats import StatsAPI

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Client"]


@with_settings_signature
class Client(TransportClient):
    """An etcd v2 client: endpoints with pinning and failover, and the v2 APIs.

    Thread-safe: share one client between threads (its connection pool holds 32 connections
    per endpoint). Close it (or use ``with``) to release the connections.

    Every request goes through :attr:`session` (a ``requests.Session``): the one given, or a
    default one with etcdmap's fast adapter mounted for ``http://`` and ``https://``.

    :param endpoints: one URL or a list, e.g. ``["http://10.0.0.1:2379", "http://10.0.0.2:2379"]``.
    :param selection: :attr:`Selection.RANDOM` (default) or :attr:`Selection.PRIORITIZE_LEADER`
        (takes effect on :meth:`sync`).
    :param options: the transport settings as one value
        (:class:`~etcdmap.http.options.TransportOptions`); keyword arguments override it.
    :param settings: the transport settings as keyword arguments (each is described by
        :class:`~etcdmap.http.options.TransportOptions`): ``timeout`` (whole-call deadline,
        default 5 s), ``request_timeout`` (one attempt on one endpoint; set it below
        ``timeout`` to skip a hung, e.g. SIGSTOPped, member), ``username``/``password``
        (Basic auth on every attempt), ``verify``, ``cert``, ``max_redirects`` and
        ``session`` (a ``requests.Session`` to send every request through, left open by
        :meth:`close`; ``None``: a default session with etcdmap's fast adapter mounted).
    :raises NoEndpointsError: no endpoint.
    :raises ValueError: an invalid endpoint URL, a timeout that is not positive.
    :raises TypeError: an unknown keyword argument, or a setting of the wrong type.
    """

    def __init__(
        self,
        endpoints: str | Sequence[str],
        *,
        selection: Selection = Selection.RANDOM,
        options: TransportOptions | None = None,
        **settings: Unpack[TransportSettings],
    ) -> None:
        if not isinstance(selection, Selection):
            raise TypeError(f"selection must be a Selection, not {type(selection).__name__}")
        self.selection = selection
        self.transport = Transport(
            endpoints, options=TransportOptions.build("Client", options, settings),
            server_error=_wire.server_error,
        )
        self.keys = KeysAPI(self.transport)
        """The keys API (:class:`etcdmap.v2.keys.KeysAPI`)."""
        # ---- cluster-admin attributes (members, auth, users, roles, stats) ----
        self.members = MembersAPI(self.transport)
        """Cluster membership (:class:`etcdmap.v2.members.MembersAPI`)."""
        self.auth = AuthAPI(self.transport)
        """Switch auth on and off (:class:`etcdmap.v2.auth.AuthAPI`)."""
        self.users = UsersAPI(self.transport)
        """Auth users (:class:`etcdmap.v2.auth.UsersAPI`)."""
        self.roles = RolesAPI(self.transport)
        """Auth roles (:class:`etcdmap.v2.auth.RolesAPI`)."""
        self.stats = StatsAPI(self.transport)
        """Member statistics (:class:`etcdmap.v2.stats.StatsAPI`)."""
        self._leader_tracker: _sync.LeaderTracker | None = None
        if selection is Selection.PRIORITIZE_LEADER:
            self._leader_tracker = _sync.LeaderTracker(self.sync, self.transport)
            self.transport.on_failure = self._leader_tracker.endpoint_failed
        self._auto_syncs: weakref.WeakSet[_sync.AutoSync] = weakref.WeakSet()
        # ---- end cluster-admin attributes ----
        self.backend = V2Backend(self)
        """This client as the store of an :class:`~etcdmap.EtcdMap` (:mod:`etcdmap.backend`)."""


    # ---- cluster-admin methods (version, health, machines, sync, auto_sync, from_srv) ----
    @classmethod
    def from_srv(
        cls,
        domain: str,
        service_name: str = "",
        *,
        resolver: _discovery.Resolver | None = None,
        **options: Any,
    ) -> Client:
        """A client whose endpoints come from DNS SRV records (needs ``etcdmap[dns]``).

        Looks up ``_etcd-client-ssl[-<service_name>]._tcp.<domain>`` (https) then
        ``_etcd-client[-<service_name>]._tcp.<domain>`` (http); see :mod:`etcdmap.v2.discovery`.

        :param resolver: an object with ``resolve(name, "SRV")`` (default: dnspython's).
        :param options: the other :class:`Client` arguments (``timeout=``, ``username=``, ...).
        :raises ImportError: dnspython is missing and no resolver was given.
        :raises NoEndpointsError: both lookups failed (the message names both).
        """
        return cls(_discovery.discover_srv(domain, service_name, resolver=resolver), **options)

    def version(self, *, timeout: CallTimeout = DEFAULT) -> Versions:
        """The answering member's server version and the cluster version (``/version``).

        :param timeout: the call's deadline (default: the client's).
        :raises InvalidResponseError: not an etcd answer; transport errors propagate.
        """
        return _stats.version(self.transport, timeout=timeout)

    def health(
        self, *, endpoint: str | None = None, serializable: bool = False,
        timeout: CallTimeout = DEFAULT,
    ) -> Health:
        """The cluster's health as a member sees it (``/health``); never raises for an
        unhealthy or unreachable cluster: see :func:`etcdmap.http.probes.health`.

        :param endpoint: ask exactly this member.
        :param serializable: let the member answer without the leader.
        :param timeout: the deadline of each member asked (default: the client's).
        :returns: :class:`~etcdmap.models.Health` (``bool(health)`` is ``health.healthy``).
        """
        return _stats.health(self.transport, endpoint=endpoint, serializable=serializable,
                             timeout=timeout)

    def machines(self, *, timeout: CallTimeout = DEFAULT) -> list[str]:
        """Every member's client URLs as listed by ``/v2/machines``.

        :param timeout: the call's deadline (default: the client's).
        """
        return _stats.machines(self.transport, timeout=timeout)

    def sync(self) -> list[str]:
        """Replace the endpoints with the members' client URLs; with
        :attr:`Selection.PRIORITIZE_LEADER`, pin the leader. On error nothing changes.

        :returns: the new endpoints.
        :raises NoEndpointsError: the members publish no usable client URL.
        :raises NoLeaderEndpointError: leader mode and the leader could not be found.
        """
        urls = _sync.sync(self.transport, self.selection)
        if self._leader_tracker is not None:
            self._leader_tracker.leader_pinned(self.transport.pinned)
        return urls

    def auto_sync(self, interval: float) -> _sync.AutoSync:
        """Sync now and then every ``interval`` seconds in a daemon thread; failures are
        logged (logger ``etcdmap.sync``) and retried at the next tick.

        :returns: the handle: call ``stop()`` or use it as a context manager.
        :raises ValueError: ``interval`` <= 0.
        """
        handle = _sync.AutoSync(self.sync, interval)
        self._auto_syncs.add(handle)
        return handle.start()

    def _close_admin(self) -> None:
        for handle in list(self._auto_syncs):
            handle.stop()
        if self._leader_tracker is not None:
            self._leader_tracker.close()

    # ---- end cluster-admin methods ----

    def close(self) -> None:
        """Release the pooled connections (the client reconnects if used again)."""
        self._close_admin()  # stop auto-sync threads and the leader tracker
        self.backend.close_hub()  # end the watches' streams and threads
        super().close()

    def __repr__(self) -> str:
        user = f", username={self.transport.username!r}" if self.transport.username else ""
        return f"Client({self.endpoints!r}{user})"
