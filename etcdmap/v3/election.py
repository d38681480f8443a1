"""Leader election on etcd's election service (``/v3/election/*``): :class:`Election`, made by
:meth:`client.election() <etcdmap.v3.Client.election>`, the raw :class:`ElectionService`, and
:class:`Observer` (the leader's values as they change).

The semantics are the Go client's ``concurrency.Election`` (etcd-io/etcd
release-3.5:client/v3/concurrency/election.go, run by the server for the election service,
server/etcdserver/api/v3election/election.go): each campaign puts ``<name>/<lease in hex>``
with the candidate's value under its own lease (kept alive while campaigning and leading);
the candidate whose key was created first leads; :meth:`Election.proclaim` changes the
leader's value without a new election; :meth:`Election.resign` deletes the key so the next
candidate leads. A campaign that times out leaves nothing behind (its lease is revoked), and a
leader that loses its lease learns it as a lock holder does (:attr:`Election.lost`, the
:data:`etcdmap.signals.lock_lost` signal, :class:`~etcdmap.errors.LeadershipLost`).

Values are ``str`` (UTF-8) or ``bytes`` when given, ``bytes`` when read.

Thread-safety: an :class:`Election` campaigns, proclaims and resigns from one thread at a
time; its properties, :meth:`Election.leader` and :meth:`Election.observe` may be used from
any thread. An :class:`Observer` is iterated by one thread and closed from any.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from etcdmap.errors import (
    ClusterError,
    DeadlineExceeded,
    ElectionNotLeader,
    EtcdMapError,
    InvalidResponseError,
    LeadershipLost,
    LockTimeout,
    V3Error,
)
from etcdmap.http.answers import StreamResponse
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.v3._call import Caller
from etcdmap.v3.models import KeyValue, ResponseHeader
from etcdmap.v3.session import HoldState, LeaseSession, check_name, check_timeout, check_ttl
from etcdmap.v3.wire import as_int, b64, check_int, parse_header, parse_kv, to_bytes, unb64

if TYPE_CHECKING:
    from etcdmap.v3.lease import Leases

__all__ = ["Election", "ElectionService", "LeaderKey", "Observer"]

_NO_LEADER = "election: no leader"
_MAX_FRUITLESS = 10


@dataclass(frozen=True, slots=True)
class LeaderKey:
    """What identifies a leadership (etcd's ``LeaderKey``).

    :ivar name: the election's name.
    :ivar key: the leader's key (``name/<lease hex>``).
    :ivar rev: the key's create revision.
    :ivar lease: the leader's lease.
    """

    name: bytes
    key: bytes
    rev: int
    lease: int

    def body(self) -> dict[str, str]:
        """The JSON form etcd takes."""
        return {"name": b64(self.name), "key": b64(self.key), "rev": str(self.rev),
                "lease": str(self.lease)}


def _name(name: str | bytes) -> str:
    data = to_bytes(name, "name")
    if not data:
        raise ValueError("the election name must not be empty")
    return b64(data)


class ElectionService:
    """``client.election_service``: etcd's election service as it is, one method per route.
    Most code wants :meth:`client.election() <etcdmap.v3.Client.election>` instead.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def campaign(self, name: str | bytes, lease_id: int, value: str | bytes, *,
                 timeout: CallTimeout = DEFAULT) -> LeaderKey:
        """Wait until the candidate ``lease_id`` leads (``/v3/election/campaign``); with the
        same lease again it is the same candidacy (safe to resend).

        :param timeout: the wait's deadline (``None``: for ever). A wait cut short leaves
            the candidate's key until its lease goes: revoke it.
        :returns: the leadership.
        :raises LeaseNotFound: the lease does not exist.
        """
        body = {"name": _name(name), "lease": str(check_int(lease_id, "lease_id", 1)),
                "value": b64(to_bytes(value, "value"))}
        data = self._caller.call("/v3/election/campaign", body, idempotent=True,
                                 timeout=timeout, request_timeout=None)
        leader = data.get("leader")
        if not isinstance(leader, dict):
            raise InvalidResponseError(f"a campaign answer has no leader: {data!r:.100}")
        return LeaderKey(unb64(leader.get("name"), "name"), unb64(leader.get("key"), "key"),
                         as_int(leader.get("rev"), "rev"), as_int(leader.get("lease"), "lease"))

    def proclaim(self, leader: LeaderKey, value: str | bytes, *,
                 timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Set the leader's value (``/v3/election/proclaim``).

        :raises ElectionNotLeader: ``leader`` no longer leads.
        """
        body = {"leader": leader.body(), "value": b64(to_bytes(value, "value"))}
        data = self._caller.call("/v3/election/proclaim", body, idempotent=True,
                                 timeout=timeout)
        return parse_header(data.get("header"))

    def leader(self, name: str | bytes, *, timeout: CallTimeout = DEFAULT) -> KeyValue | None:
        """The leader's key and value (``/v3/election/leader``), ``None`` when none leads."""
        try:
            data = self._caller.call("/v3/election/leader", {"name": _name(name)},
                                     idempotent=True, timeout=timeout)
        except V3Error as exc:
            if exc.message == _NO_LEADER:
                return None
            raise
        return parse_kv(data.get("kv"))

    def observe(self, name: str | bytes, *, read_timeout: float = 30.0,
                timeout: CallTimeout = DEFAULT) -> StreamResponse:
        """Open the stream of the leader's kvs (``/v3/election/observe``): one line per new
        leader or new value, the current leader first. :class:`Observer` reads it.

        :param read_timeout: the longest silence of one read.
        :param timeout: the deadline to open it.
        """
        body = json.dumps({"name": _name(name)}).encode()
        return self._caller.stream("/v3/election/observe", body, read_timeout=read_timeout,
                                   timeout=timeout)

    def resign(self, leader: LeaderKey, *, timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Give up the leadership (``/v3/election/resign``): the next candidate leads. A
        leadership already lost is no error."""
        data = self._caller.call("/v3/election/resign", {"leader": leader.body()},
                                 idempotent=True, timeout=timeout)
        return parse_header(data.get("header"))


class Observer:
    """The leader's values as they change: the current leader's first (if any), then each new
    leader's and each proclaimed value, until :meth:`close`. A silent stream (no change for
    ``read_timeout``) or a broken one is reopened (on the next member); nothing is repeated.

    :param service: the client's election service.
    :param name: the election.
    :param read_timeout: the longest silence before the stream is reopened.
    """

    def __init__(self, service: ElectionService, name: str, *, read_timeout: float = 30.0):
        if isinstance(read_timeout, bool) or not isinstance(read_timeout, (int, float)) \
                or read_timeout <= 0:
            raise ValueError(f"read_timeout must be a positive number of seconds: {read_timeout!r}")
        self._service = service
        self._name = name
        self._read_timeout = float(read_timeout)
        self._lock = threading.Lock()
        self._stream: StreamResponse | None = None
        self._closed = False
        self._last: tuple[bytes, int] | None = None
        self._values = self._run()

    def _open(self) -> Iterator[bytes]:
        stream = self._service.observe(self._name, read_timeout=self._read_timeout)
        with self._lock:
            if self._closed:
                stream.close()
                return iter(())
            self._stream = stream
        return stream.iter_lines()

    def _drop(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    @property
    def closed(self) -> bool:
        """``True`` once :meth:`close` was called."""
        return self._closed

    def _stopped(self) -> bool:
        return self._closed

    def _kvs(self) -> Iterator[KeyValue]:
        fruitless = 0
        while not self.closed:
            fruitless += 1
            if fruitless > _MAX_FRUITLESS:
                raise ClusterError([], f"the observe stream was reopened {_MAX_FRUITLESS} "
                                   "times in a row and received nothing")
            try:
                for line in self._open():
                    fruitless = 0
                    yield _observed(line)
            except (ClusterError, DeadlineExceeded):
                if self._stopped():  # close() from another thread broke the read
                    return
            finally:
                self._drop()

    def _run(self) -> Iterator[bytes]:
        for kv in self._kvs():
            seen = (kv.key, kv.mod_revision)
            if seen != self._last:  # a reopened stream sends the current leader again
                self._last = seen
                yield kv.value

    def __iter__(self) -> Observer:
        return self

    def __next__(self) -> bytes:
        """The next leader value (blocks until there is one).

        :raises StopIteration: closed.
        :raises ClusterError: no member could be reached to reopen the stream.
        """
        return next(self._values)

    def close(self) -> None:
        """End the observation (thread-safe, idempotent): a blocked ``next`` returns."""
        with self._lock:
            self._closed = True
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _observed(line: bytes) -> KeyValue:
    data: Any = json.loads(line) if line.startswith(b"{") else None
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        from etcdmap.v3.errors import error_from_body  # noqa: PLC0415 - rare path

        error = error_from_body(0, line)
        if error is not None:
            raise error
        raise InvalidResponseError(f"an observe line has no result: {line[:80]!r}")
    return parse_kv(result.get("kv"))


class Election:
    """A leader election (see the module docstring).

    :param service: the client's :class:`ElectionService`.
    :param leases: the client's lease API.
    :param name: the election's name.
    :param ttl: the TTL of a campaign's lease in seconds.
    :raises TypeError, ValueError: an empty name or a TTL outside 1..9e9.
    """

    def __init__(self, service: ElectionService, leases: Leases, name: str, *,
                 ttl: int = 60) -> None:
        self._service = service
        self._leases = leases
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
        session = LeaseSession(self._leases, self._ttl, self._on_lease_lost, timeout=wait)
        try:
            leader = self._service.campaign(self._name, session.lease_id, value, timeout=wait)
        except DeadlineExceeded as exc:
            session.close()  # revoking deletes the candidate's key
            raise LockTimeout(f"election {self._name!r} was not won within {wait} s; the "
                              "candidacy was withdrawn", name=self._name) from exc
        except BaseException:
            session.close()
            raise
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
            error = self._state.error
            self._state.end()
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
