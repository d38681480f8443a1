"""Several etcd members forming one cluster: :class:`EtcdCluster` (leader, joins, healing).

Thread-safety: drive one :class:`EtcdCluster` object from one thread at a time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import requests

from etcdmap._closing import Closing
from etcdmap.testing._binary import find_etcd_binary
from etcdmap.testing._errors import EtcdStartError
from etcdmap.testing._process import _session, free_ports
from etcdmap.testing._server import _PORT_RETRIES, _START_TIMEOUT, EtcdServer

__all__ = ["EtcdCluster"]


class EtcdCluster(Closing):
    """``n`` etcd members on loopback forming one cluster; :meth:`start` waits for a leader.

    Adding a member (the members API flow)::

        new = cluster.new_member()            # ports chosen, configured to join; not started
        client.members.add(new.peer_url)      # announce it to the cluster first
        new.start()                           # it joins with --initial-cluster-state existing

    etcd's strict reconfiguration check (on by default) answers such an add with **500
    "unhealthy cluster"** until every member has been connected to all peers for 5 s; for
    adds right after the start, pass ``extra_args=["--strict-reconfig-check=false"]`` or retry.
    After removing a member through the API, call :meth:`remove_member` so later joins and
    :meth:`ensure_healthy` know it is gone.

    :param n: how many members.
    :param binary: the etcd binary; default :func:`find_etcd_binary`.
    :param name_prefix: members are named ``<prefix>0``, ``<prefix>1``, ...
    :param hosts: the loopback address of each member in turn (default: all on
        ``127.0.0.1``), e.g. ``["127.0.0.1", "127.0.0.2", "127.0.0.3"]``.
    :param users: the user each member in turn runs as (``None``: this process's), e.g.
        ``[None, None, "nobody"]`` (see :class:`~etcdmap.testing.Partition`).
    :param member_options: more :class:`EtcdServer` keyword arguments for every member
        (``enable_v2``, ``extra_args``, ``heartbeat_ms``, ``election_ms``, TLS files, ...).

    Thread-safety: drive one object from one thread at a time.
    """

    def __init__(
        self,
        n: int = 3,
        *,
        binary: str | None = None,
        name_prefix: str = "m",
        hosts: Sequence[str] = ("127.0.0.1",),
        users: Sequence[str | int | None] = (None,),
        **member_options: Any,
    ) -> None:
        if not hosts:
            raise ValueError("hosts must name at least one address")
        self.hosts = list(hosts)
        self.users = list(users) or [None]
        if n < 1:
            raise ValueError("a cluster needs at least one member")
        self.n = n
        self.binary = binary or find_etcd_binary()
        self.name_prefix = name_prefix
        self.member_options = member_options
        self.token = f"etcdmap-{uuid.uuid4().hex[:12]}"
        self.members: list[EtcdServer] = []
        self._next = 0

    @property
    def client_urls(self) -> list[str]:
        """Every member's client URL, in member order."""
        return [m.client_url for m in self.members]

    @property
    def peer_urls(self) -> list[str]:
        """Every member's peer URL, in member order."""
        return [m.peer_url for m in self.members]

    def _member(self, client_port: int | None, peer_port: int | None) -> EtcdServer:
        name = f"{self.name_prefix}{self._next}"
        host = self.hosts[self._next % len(self.hosts)]
        user = self.users[self._next % len(self.users)]
        self._next += 1
        return EtcdServer(
            name=name,
            host=host,
            user=user,
            binary=self.binary,
            client_port=client_port,
            peer_port=peer_port,
            cluster_token=self.token,
            **self.member_options,
        )

    def start(self, timeout: float = _START_TIMEOUT) -> EtcdCluster:
        """Start every member and wait until all are healthy and a leader is elected.

        :returns: ``self``.
        :raises EtcdStartError: a member failed or the cluster was not ready in time.
        """
        for attempt in range(_PORT_RETRIES):
            self._next = 0
            ports = free_ports(2 * self.n)
            self.members = [self._member(ports[2 * i], ports[2 * i + 1]) for i in range(self.n)]
            initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
            try:
                for member in self.members:
                    member.initial_cluster = initial
                    member.start(wait=False)
                self.wait_healthy(timeout)
                self.wait_for_leader(timeout)
            except (EtcdStartError, TimeoutError) as exc:
                clash = any("address already in use" in m.log_tail() for m in self.members)
                logs = "\n".join(f"--- {m.name}:\n{m.log_tail(15)}" for m in self.members)
                self.close()
                if not clash or attempt == _PORT_RETRIES - 1:
                    raise EtcdStartError(f"{self.n}-member cluster: {exc}\n{logs}") from exc
                continue
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _live(self) -> list[EtcdServer]:
        return [m for m in self.members if m.is_running and not m.is_stopped]

    def leader(self) -> EtcdServer | None:
        """The running, not stopped member that reports itself leader, or ``None``."""
        with _session() as session:
            for member in self._live():
                if _is_leader(session, member):
                    return member
        return None

    def followers(self) -> list[EtcdServer]:
        """The running, not stopped members other than the leader."""
        lead = self.leader()
        return [m for m in self._live() if m is not lead]

    def wait_for_leader(self, timeout: float = 10.0) -> EtcdServer:
        """Poll until a live member reports itself leader.

        :returns: the leader.  :raises TimeoutError: none within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            lead = self.leader()
            if lead is not None:
                return lead
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no etcd leader among {self.client_urls} after {timeout:g} s")
            time.sleep(0.02)  # poll interval

    def wait_healthy(self, timeout: float = _START_TIMEOUT) -> None:
        """Wait until every started, running, not stopped member answers ``/health`` 200.

        :raises EtcdStartError: a member exited or was not healthy in time.
        """
        deadline = time.monotonic() + timeout
        for member in self._live():
            member.wait_ready(max(0.1, deadline - time.monotonic()))

    def ensure_healthy(self, timeout: float = _START_TIMEOUT) -> None:
        """Continue stopped members, restart dead ones, then wait for health and a leader.

        Members never started (a pending :meth:`new_member`) are left alone.

        :raises EtcdStartError: a member did not come back.  :raises TimeoutError: no leader.
        """
        for member in self.members:
            if member.is_stopped:
                member.cont()
            if member.started_once and not member.is_running:
                member.start(wait=False)
        self.wait_healthy(timeout)
        self.wait_for_leader(timeout)

    def new_member(self) -> EtcdServer:
        """Prepare (not start) a member that joins this running cluster.

        It is configured with ``--initial-cluster-state existing`` and an initial cluster of
        the current members plus itself. Add it with the members API
        (``client.members.add(new.peer_url)``), then call ``new.start()``.

        :returns: the new member, already appended to :attr:`members`.
        """
        member = self._member(None, None)
        member.initial_cluster = ",".join(f"{m.name}={m.peer_url}" for m in [*self.members, member])
        member.initial_cluster_state = "existing"
        self.members.append(member)
        return member

    def remove_member(self, member: EtcdServer) -> None:
        """Close ``member`` and forget it (after removing it with the members API)."""
        member.close()
        self.members.remove(member)

    def close(self) -> None:
        """Stop every member and remove their directories."""
        for member in self.members:
            member.close()

    def __enter__(self) -> EtcdCluster:
        if not self.members:
            self.start()
        return self

    def __repr__(self) -> str:
        return f"<EtcdCluster {self.members!r}>"


def _is_leader(session: requests.Session, member: EtcdServer) -> bool:
    """Ask one member whether it leads: ``/v2/stats/self``, or ``/metrics`` without v2."""
    try:
        if member.enable_v2:
            resp = member._get(session, "/v2/stats/self")
            return resp.status_code == 200 and resp.json().get("state") == "StateLeader"
        resp = member._get(session, "/metrics")
    except (requests.RequestException, ValueError):
        return False
    return resp.status_code == 200 and "\netcd_server_is_leader 1" in resp.text
