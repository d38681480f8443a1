"""Distributed locks on etcd's lock service (``/v3/lock/lock``, ``/v3/lock/unlock``):
:class:`Lock`, made by :meth:`client.lock() <etcdmap.v3.Client.lock>`, and the raw service,
:class:`LockService`.

The semantics are the Go client's ``concurrency.Mutex`` (etcd-io/etcd
release-3.5:client/v3/concurrency/mutex.go, which the server runs for the lock service,
server/etcdserver/api/v3lock/lock.go):

- each acquisition gets its own lease (``ttl``), kept alive while it waits and while it
  holds (:mod:`etcdmap.v3.keepalive`, on the client's lease stream: no thread per held
  lock); the waiter's key is ``<name>/<lease in hex>``, and waiters get the lock in the
  order they asked for it;
- **a wait never hangs on a frozen member**: the member a waiter waits on is watched by the
  client's shared member check, and a waiter whose member fails (SIGSTOP, crash, partition)
  moves to another one with a new lease, its old waiter key deleted
  (:mod:`etcdmap.v3.lock_wait`; it queues again there);
- :attr:`Lock.revision`, the key's create revision, grows with every acquisition: use it as
  a fencing token (compare it in a txn, ``Compare.create(lk.key, "==", lk.revision)``);
- **a timeout leaves nothing behind**: a lock call cut short would leave its waiter key queued
  in etcd (the server deletes it only if it notices the cancel), so the waiter's lease is
  revoked, which deletes the key at once;
- **a holder that loses its lease learns it**: :attr:`Lock.lost` turns true, the signal
  :data:`etcdmap.signals.lock_lost` is sent, and leaving the ``with`` block (or
  :meth:`Lock.release`) raises :class:`~etcdmap.errors.LockLost` rather than pretend the work
  was done under the lock.

Releasing deletes the key only if it is still this acquisition's (a compare on its create
revision) -- so a release also tells whether the lock was held to the end -- then revokes the
lease.

Thread-safety: a :class:`Lock` is acquired and released by one thread at a time (each thread
takes its own ``client.lock(name)``); :attr:`Lock.lost`, :attr:`Lock.held` and the other
properties may be read from any thread. :class:`LockService` is thread-safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcdmap._holds import HoldState, LockBase, check_name, check_timeout, check_ttl
from etcdmap.errors import DeadlineExceeded, EtcdMapError, LockLost, LockTimeout
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.v3.caller import Caller
from etcdmap.v3.lock_wait import LockWait, MemberChecks
from etcdmap.v3.models import KeyValue, ResponseHeader
from etcdmap.v3.session import LeaseSession
from etcdmap.v3.txn import Compare, Op
from etcdmap.v3.wire import b64, check_int, parse_header, to_bytes, unb64

if TYPE_CHECKING:
    from etcdmap.v3.kv import KV
    from etcdmap.v3.lease import Leases

__all__ = ["Lock", "LockService"]

_UNSET: object = object()


class LockService:
    """``client.lock_service``: etcd's lock service as it is, one method per route. Most
    code wants :meth:`client.lock() <etcdmap.v3.Client.lock>` instead, which manages the
    lease and the cleanup.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def lock(self, name: str | bytes, lease_id: int, *, timeout: CallTimeout = DEFAULT,
             endpoint: str | None = None) -> tuple[bytes, ResponseHeader]:
        """Wait until the lock ``name`` is held for ``lease_id`` (``/v3/lock/lock``). Locking
        again with the same lease is the same waiter (its key is ``name/<lease hex>``) -- but
        a wait cut short is cleaned up by etcd, which deletes that key: do not send it again
        with the same lease once a wait was cut short (:mod:`etcdmap.v3.lock_wait`).

        :param timeout: the wait's deadline (default: the client's; ``None``: for ever). A
            wait cut short leaves the key queued until the lease goes: revoke it.
        :param endpoint: wait on exactly this member (default: the pinned one, failover
            while nothing was sent).
        :returns: the lock's key (``name/<lease hex>``) and the answer's header.
        :raises LeaseNotFound: the lease does not exist.
        :raises DeadlineExceeded: ``timeout`` ran out.
        """
        name_bytes = to_bytes(name, "name")
        if not name_bytes:
            raise ValueError("the lock name must not be empty")
        body = {"name": b64(name_bytes), "lease": str(check_int(lease_id, "lease_id", 1))}
        data = self._caller.call("/v3/lock/lock", body, idempotent=True, timeout=timeout,
                                 request_timeout=None, endpoint=endpoint)
        return unb64(data.get("key"), "key"), parse_header(data.get("header"))

    def unlock(self, key: str | bytes, *, timeout: CallTimeout = DEFAULT) -> ResponseHeader:
        """Delete a lock's key (``/v3/lock/unlock``): the next waiter gets the lock. A key
        that does not exist is no error.

        :returns: the answer's header.
        """
        key_bytes = to_bytes(key, "key")
        if not key_bytes:
            raise ValueError("the lock key must not be empty")
        data = self._caller.call("/v3/lock/unlock", {"key": b64(key_bytes)}, idempotent=True,
                                 timeout=timeout)
        return parse_header(data.get("header"))


class Lock(LockBase):
    """A distributed lock (see the module docstring); use it with ``with``::

        with client.lock("jobs/nightly", ttl=30, timeout=10) as lk:
            ...            # lk.key, lk.revision (fencing token), lk.lease, lk.lost

    :param service: the client's :class:`LockService`.
    :param kv: the client's KV API.
    :param leases: the client's lease API.
    :param name: the lock's name (a key prefix: the holders' keys are ``name/<lease>``; a
        name should not be another lock's name followed by ``/``).
    :param ttl: the TTL of each acquisition's lease, in seconds: how long a holder that
        stops (crash, pause, partition) keeps others waiting.
    :param timeout: how long :meth:`acquire` waits by default (``None``: for ever).
    :param checks: the client's endpoints and member checks: a waiter leaves a member that
        fails them (``None``: it waits where the call went, with the transport's failover only).
    :raises TypeError, ValueError: an empty name, a TTL outside 1..9e9, a timeout <= 0.
    """

    def __init__(self, service: LockService, kv: KV, leases: Leases, name: str, *,
                 ttl: int = 60, timeout: float | None = None,
                 checks: MemberChecks | None = None) -> None:
        self._service = service
        self._kv = kv
        self._leases = leases
        self._checks = checks
        self._name = check_name(name)
        self._ttl = check_ttl(ttl)
        self._timeout = check_timeout(timeout)
        self._session: LeaseSession | None = None
        self._state = HoldState(self, self._name)
        self._revision = 0

    # ------------------------------------------------------------------ state (more in LockBase)

    @property
    def lease(self) -> int:
        """The ID of the current acquisition's lease (0 when not held)."""
        session = self._session
        return session.lease_id if session is not None else 0

    # ------------------------------------------------------------------ acquire

    def _on_lease_lost(self, error: BaseException) -> None:
        self._state.lost("its lease was lost while held", error)

    def _confirm(self, key: bytes, session: LeaseSession) -> KeyValue:
        """The lock's key as acquired (its create revision is the fencing token).

        :raises LockLost: the key is gone already (the lease was lost meanwhile).
        """
        kvs = self._kv.range(key).kvs
        if not kvs or kvs[0].lease != session.lease_id:
            raise LockLost(f"{self._name!r}: its key went as the lock was acquired",
                           name=self._name, key=key.decode("utf-8", "replace")) from session.error
        return kvs[0]

    def acquire(self, timeout: float | object | None = _UNSET) -> Lock:
        """Wait until the lock is held.

        :param timeout: seconds to wait (default: the one given to ``client.lock()``;
            ``None``: for ever).
        :returns: this lock.
        :raises LockTimeout: not acquired in time; nothing is left waiting in etcd.
        :raises RuntimeError: already held by this object.
        :raises ClusterError, AmbiguousResultError: etcd could not be reached; nothing is
            left waiting (the lease is revoked, or expires after ``ttl`` if etcd is gone).
        """
        wait = self._timeout if timeout is _UNSET else check_timeout(timeout)
        if self._session is not None:
            raise RuntimeError(f"lock {self._name!r} is already held by this object")
        waiting: LockWait[tuple[bytes, ResponseHeader]] = LockWait(
            self._leases, self._checks, self._ttl, self._on_lease_lost, f"lock {self._name!r}")
        try:
            key, _ = waiting.run(lambda lease, endpoint, left: self._service.lock(
                self._name, lease, timeout=left, endpoint=endpoint), wait)
            text = key.decode("utf-8", "replace")
            session = waiting.session
            assert session is not None
            kv = self._confirm(key, session)
        except DeadlineExceeded as exc:
            waiting.close()  # the revoke deletes the queued key: nothing left waiting
            raise LockTimeout(f"lock {self._name!r} was not acquired within {wait} s; its "
                              "waiter was removed from etcd", name=self._name) from exc
        except EtcdMapError as exc:
            lost = waiting.session is not None and waiting.session.error is not None
            waiting.close()
            if lost and not isinstance(exc, LockLost):
                raise LockLost(f"{self._name!r}: its lease was lost while waiting for the lock",
                               name=self._name) from exc
            raise
        except BaseException:  # KeyboardInterrupt while waiting: leave nothing queued
            waiting.close()
            raise
        self._session, self._revision = session, kv.create_revision
        self._state.begin(text)
        if session.error is not None:  # lost between the lock call and now
            self._on_lease_lost(session.error)
        return self

    # ------------------------------------------------------------------ release

    def release(self) -> None:
        """Release the lock: delete its key if it is still this acquisition's, then revoke
        the lease. Releasing a lock not held does nothing.

        :raises LockLost: the lock was lost while held (the lease expired, or the key was
            deleted by someone else): the work done under it may have overlapped another
            holder's.
        :raises ClusterError, AmbiguousResultError: etcd could not be reached (the lease is
            revoked, or expires after ``ttl``).
        """
        session, self._session = self._session, None
        if session is None:
            return
        key, revision = self._state.key, self._revision
        self._revision = 0
        try:
            if self._state.error is None:
                resp = self._kv.txn([Compare.create(key, "==", revision)], [Op.delete(key)])
                if not resp.succeeded:
                    self._state.lost("its key was deleted while held", session.error)
        finally:
            session.close()
            error = self._state.end()
        if error is not None:
            raise error
