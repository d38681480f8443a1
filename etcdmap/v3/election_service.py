"""etcd's election service as it is (``/v3/election/*``, one method per route):
:class:`ElectionService`, :class:`LeaderKey`, and :class:`Observer` (the leader's values as
they change, over ``/v3/election/observe``). :class:`etcdmap.v3.election.Election` builds the
Go client's semantics on them.

Thread-safety: :class:`ElectionService` is thread-safe; an :class:`Observer` is iterated by
one thread and closed from any.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from etcdmap.errors import ClusterError, DeadlineExceeded, InvalidResponseError, V3Error
from etcdmap.http.answers import StreamResponse
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.v3.caller import Caller
from etcdmap.v3.errors import error_from_body
from etcdmap.v3.models import KeyValue, ResponseHeader
from etcdmap.v3.wire import as_int, b64, check_int, parse_header, parse_kv, to_bytes, unb64

__all__ = ["ElectionService", "LeaderKey", "Observer"]

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
                 timeout: CallTimeout = DEFAULT, endpoint: str | None = None) -> LeaderKey:
        """Wait until the candidate ``lease_id`` leads (``/v3/election/campaign``); with the
        same lease again it is the same candidacy -- but etcd withdraws a candidacy whose
        wait was cut short, deleting that key: do not send it again with the same lease then
        (:mod:`etcdmap.v3.lock_wait`).

        :param timeout: the wait's deadline (``None``: for ever). A wait cut short leaves
            the candidate's key until its lease goes: revoke it.
        :param endpoint: wait on exactly this member (default: the pinned one, failover
            while nothing was sent).
        :returns: the leadership.
        :raises LeaseNotFound: the lease does not exist.
        """
        body = {"name": _name(name), "lease": str(check_int(lease_id, "lease_id", 1)),
                "value": b64(to_bytes(value, "value"))}
        data = self._caller.call("/v3/election/campaign", body, idempotent=True,
                                 timeout=timeout, request_timeout=None, endpoint=endpoint)
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
        error = error_from_body(0, line)
        if error is not None:
            raise error
        raise InvalidResponseError(f"an observe line has no result: {line[:80]!r}")
    return parse_kv(result.get("kv"))
