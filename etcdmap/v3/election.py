"""Leader election on etcd's election service (``/v3/election/*``): :class:`Election`, made by
:meth:`client.election() <etcdmap.v3.Client.election>` (the raw service, and :class:`Observer`
of the leader's values as they change, are :mod:`etcdmap.v3.election_service`).

The semantics are the Go client's ``concurrency.Election`` (etcd-io/etcd
release-3.5:client/v3/concurrency/election.go, run by the server for the election service,
server/etcdserver/api/v3election/election.go): each campaign puts ``<name>/<lease in hex>``
with the candidate's value under its own lease (kept alive while campaigning and leading);
the candidate whose key was created first leads (a campaign whose member fails moves to
another member with a new lease, :mod:`etcdmap.v3.lock_wait`); :meth:`Election.proclaim`
changes the
leader's value without a new election; :meth:`Election.resign` deletes the key so the next
candidate leads. A campaign that times out leaves nothing behind (its lease is revoked), and a
leader that loses its lease learns it as a lock holder does (:attr:`Election.lost`, the
:data:`etcdmap.signals.lock_lost` signal, :class:`~etcdmap.errors.LeadershipLost`).

Values are ``str`` (UTF-8) or ``bytes`` when given, ``bytes`` when read.

Thread-safety: an :class:`Election` campaigns, proclaims and resigns from one thread at a
time; its properties, :meth:`Election.leader` and :meth:`Election.observe` may be used from
any thread.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from etcdmap._holds import HoldState, check_name, check_timeout, check_ttl
from etcdmap.errors import (
    DeadlineExceeded,
    ElectionNotLeader,
    EtcdMapError,
    LeadershipLost,
    LockTimeout,
)
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.v3.election_service import ElectionService, LeaderKey, Observer
from etcdmap.v3.lock_wait import LockWait, MemberChecks
from etcdmap.v3.session import LeaseSession
from etcdmap.v3.wire import to_bytes

if TYPE_CHECKING:
    from etcdmap.v3.lease import Leases

__all__ = ["Election", "ElectionService", "LeaderKey", "Observer"]  # the last three re-exported


class Election:
    """A leader election (see the module docstring).

    :param service: the client's :class:`ElectionService`.
    :param leases: the client's lease API.
    :param name: the election's name.
    :param ttl: the TTL of a campaign's lease in seconds.
    :param checks: the client's endpoints and member checks: a campaign leaves a member that
        fails them (``None``: it waits where the call went).
    :raises TypeError, ValueError: an empty name or a TTL outside 1..9e9.
    """

    def __init__(self, service: ElectionService, leases: Leases, name: str, *,
                 ttl: int = 60, checks: MemberChecks | None = None) -> None:
        self._service = service
        self._leases = leases
        self._checks = checks
        self._name = check_name(name, "election")
        self._ttl = check_ttl(ttl)
        self._session: LeaseSession | None = None
        self._leader: LeaderKey | None = None
        self._state = HoldState(self, self._name, LeadershipLost)

    # ------------------------------------------------------------------ state

    @property
    def name(self) -> str:
        """The election's name."""
        return self._name

    @property
    def key(self) -> str | None:
        """This candidate's key while it leads, else ``None``."""
        return self._state.key or None

    @property
    def revision(self) -> int:
        """The leader key's create revision while leading (0 otherwise)."""
        leader = self._leader
        return leader.rev if leader is not None else 0

    @property
    def lease(self) -> int:
        """The campaign's lease while leading (0 otherwise)."""
        session = self._session
        return session.lease_id if session is not None else 0

    @property
    def is_leader(self) -> bool:
        """``True`` while this object leads and has not lost it."""
        return self._leader is not None and self._state.error is None

    @property
    def lost(self) -> bool:
        """``True`` once the leadership was lost while held."""
        return self._state.error is not None

    @property
    def error(self) -> LeadershipLost | None:
        """The :class:`~etcdmap.errors.LeadershipLost`, once lost."""
        error = self._state.error
        return error if isinstance(error, LeadershipLost) else None

    # ------------------------------------------------------------------ campaign

    def _on_lease_lost(self, error: BaseException) -> None:
        self._state.lost("its lease was lost while leading", error)

    def campaign(self, value: str | bytes, timeout: float | None = None) -> Election:
        """Stand as a candidate with ``value`` and wait until leading.

        :param value: the value announced while leading.
        :param timeout: seconds to wait (``None``: for ever).
        :returns: this election, leading.
        :raises LockTimeout: not leading in time; the candidacy was withdrawn from etcd.
        :raises RuntimeError: this object already campaigns.
        :raises TypeError, ValueError: a bad value or timeout.
        """
        wait = check_timeout(timeout)
        to_bytes(value, "value")
        if self._session is not None:
            raise RuntimeError(f"election {self._name!r}: this object already leads")
        waiting: LockWait[LeaderKey] = LockWait(
            self._leases, self._checks, self._ttl, self._on_lease_lost, f"election {self._name!r}")
        try:
            leader = waiting.run(lambda lease, endpoint, left: self._service.campaign(
                self._name, lease, value, timeout=left, endpoint=endpoint), wait)
        except DeadlineExceeded as exc:
            waiting.close()  # revoking deletes the candidate's key
            raise LockTimeout(f"election {self._name!r} was not won within {wait} s; the "
                              "candidacy was withdrawn", name=self._name) from exc
        except BaseException:
            waiting.close()
            raise
        session = waiting.session
        assert session is not None
        self._session, self._leader = session, leader
        self._state.begin(leader.key.decode("utf-8", "replace"))
        if session.error is not None:
            self._on_lease_lost(session.error)
        return self

    def _leading(self) -> LeaderKey:
        leader = self._leader
        if leader is None:
            raise RuntimeError(f"election {self._name!r}: this object does not lead "
                               "(campaign first)")
        if self._state.error is not None:
            raise self._state.error
        return leader

    def proclaim(self, value: str | bytes, *, timeout: CallTimeout = DEFAULT) -> None:
        """Announce a new value, staying leader.

        :raises LeadershipLost: the leadership was lost.
        :raises RuntimeError: this object does not lead.
        """
        leader = self._leading()
        try:
            self._service.proclaim(leader, value, timeout=timeout)
        except ElectionNotLeader as exc:
            error = self._state.lost("its key went while leading", exc) or self._state.error
            if error is not None:
                raise error from exc
            raise

    def leader(self, *, timeout: CallTimeout = DEFAULT) -> bytes | None:
        """The current leader's value (``None``: nobody leads)."""
        kv = self._service.leader(self._name, timeout=timeout)
        return None if kv is None else kv.value

    def observe(self, *, read_timeout: float = 30.0) -> Observer:
        """The leader's values as they change (see :class:`Observer`): iterate it, close it
        (or use ``with``) to stop."""
        return Observer(self._service, self._name, read_timeout=read_timeout)

    def resign(self, *, timeout: CallTimeout = DEFAULT) -> None:
        """Give up the leadership (the next candidate leads) and revoke the campaign's lease.
        Does nothing when not leading.

        :raises LeadershipLost: the leadership had been lost meanwhile.
        """
        session, leader = self._session, self._leader
        if session is None or leader is None:
            return
        self._session = self._leader = None
        try:
            if self._state.error is None:
                self._service.resign(leader, timeout=timeout)
        except EtcdMapError:
            pass  # revoking the lease below resigns as well
        finally:
            session.close()
            error = self._state.end()
        if error is not None:
            raise error

    def __enter__(self) -> Election:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Resign if leading; raises :class:`~etcdmap.errors.LeadershipLost` if the
        leadership was lost while held."""
        self.resign()

    def __repr__(self) -> str:
        state = "lost" if self.lost else "leader" if self.is_leader else "not leading"
        return f"<Election {self._name!r} {state}>"
