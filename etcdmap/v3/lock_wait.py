"""The wait of a lock or a campaign: a call that etcd answers only once granted
(``/v3/lock/lock``, ``/v3/election/campaign``), kept off a frozen, dead or partitioned member.

Such a call is one request waiting on one member, possibly for ever; if that member is
SIGSTOPped or partitioned away, nothing would ever answer it. So the wait runs on a thread of
its own, sent to one member (the pinned one first), while the caller waits for it and the
member is watched by the client's shared member check (:class:`~etcdmap.http.liveness.
Liveness`: ``GET /health``, false on a member without a leader). When the check fails, or the
call breaks, the wait **moves**: the attempt's lease is revoked, a new lease granted, and the
call sent to another member.

Why a new lease and not the same call again: etcd names the waiter's key ``<name>/<lease
in hex>``, so the same lease is the same waiter -- and that is the danger. The abandoned
request still lives in the member, and when that member notices its client went away (at
once, or when it wakes from SIGSTOP or rejoins), it cleans up after itself by deleting that
very key (etcd-io/etcd release-3.5:client/v3/concurrency/mutex.go ``Lock``: ``m.Unlock`` when
the wait fails; election.go ``Campaign``: ``e.Resign`` on a canceled context), which by then
may be the key a re-sent call holds the lock with: two holders. Revoking the old lease
deletes the old key at once (no second waiter left behind) and leaves nothing the stale
request could take or delete later. The price: a moved waiter queues again behind those
that came meanwhile.

The thread of an attempt that was left stays blocked until its member answers or dies (its
answer is then dropped); a wait that ends normally costs one thread while it waits.

Thread-safety: a :class:`LockWait` serves one acquisition, from one thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from etcdmap.errors import ClusterError, DeadlineExceeded
from etcdmap.http.budget import Budget
from etcdmap.v3.session import LeaseSession

if TYPE_CHECKING:
    from etcdmap.http.hub import StreamHub
    from etcdmap.http.liveness import Liveness
    from etcdmap.http.transport import Transport
    from etcdmap.v3.lease import Leases

__all__ = ["LockWait", "MemberChecks"]

log = logging.getLogger("etcdmap.lock")

T = TypeVar("T")
Send = Callable[[int, "str | None", "float | None"], T]
"""``send(lease_id, endpoint, timeout)``: the blocking call, on exactly ``endpoint``."""


@dataclass(frozen=True, slots=True)
class MemberChecks:
    """Where a wait may go and how its member is watched.

    :ivar transport: the client's transport (its endpoints, the pinned one first).
    :ivar hub: the client's hub and member checks (made on first use).
    """

    transport: Transport
    hub: Callable[[], tuple[StreamHub, Liveness]]


_CHECK_EVERY = 1.0
"""Seconds between checks of the waiting member (shared with the client's watches)."""
_AGAIN = 0.5
"""Seconds before every member is tried again once each failed."""


class _MemberFailed(Exception):
    """The member of an attempt failed its check (internal)."""


class LockWait(Generic[T]):
    """One acquisition: leases and attempts until one is granted (see the module docstring).

    :param leases: the client's lease API (a lease per attempt, kept alive on its stream).
    :param checks: the client's endpoints and member checks (``None``: no check; the call is
        sent with failover and waits in the calling thread).
    :param ttl: the TTL of each attempt's lease.
    :param on_lost: called if the held lease is lost (see :class:`LeaseSession`).
    :param what: what is waited for, for messages (``"lock 'x'"``).
    """

    def __init__(self, leases: Leases, checks: MemberChecks | None, ttl: int,
                 on_lost: Callable[[BaseException], object], what: str) -> None:
        self._leases = leases
        self._checks = checks
        self._ttl = ttl
        self._on_lost = on_lost
        self._what = what
        self.session: LeaseSession | None = None
        """The lease of the current attempt (the held one once :meth:`run` returned; the
        last one when it raised, not closed: the caller calls :meth:`close`)."""
        self.moves = 0
        """How many times the wait moved to another member."""

    def run(self, send: Send[T], timeout: float | None) -> T:
        """Wait until ``send`` is granted on some member.

        :param timeout: seconds in all (``None``: for ever).
        :returns: what ``send`` returned.
        :raises DeadlineExceeded: ``timeout`` ran out.
        :raises ClusterError: no member could be reached (the grant of a lease failed).
        :raises EtcdMapError: etcd refused the call.
        """
        budget = Budget(timeout, None)
        failed: set[str] = set()
        while True:
            self.session = LeaseSession(self._leases, self._ttl, self._on_lost,
                                        timeout=budget.left())
            if self._checks is None:
                return send(self.session.lease_id, None, budget.left())
            endpoint = self._next(self._checks.transport, failed)
            try:
                return self._attempt(self._checks, send, self.session.lease_id, endpoint,
                                     budget)
            except (_MemberFailed, ClusterError) as exc:
                log.info("%s: leaving %s (%s); waiting on another member with a new lease",
                         self._what, endpoint, exc)
                failed.add(endpoint)
                self.moves += 1
                self.close()  # the revoke deletes the waiter's key: none left behind

    def close(self) -> None:
        """Give the wait up: revoke the current attempt's lease, if one was granted (its
        waiter key goes with it: nothing is left queued). Idempotent."""
        session, self.session = self.session, None
        if session is not None:
            session.close()

    @staticmethod
    def _next(transport: Transport, failed: set[str]) -> str:
        """The member to wait on: the first in the client's order that did not fail (once
        every member failed, all of them again after a pause)."""
        order = transport.policy.order()
        fresh = [ep for ep in order if ep not in failed]
        if not fresh:
            failed.clear()
            time.sleep(_AGAIN)
            fresh = order
        return fresh[0]

    def _attempt(self, checks: MemberChecks, send: Send[T], lease_id: int, endpoint: str,
                 budget: Budget) -> T:
        """Run ``send`` on ``endpoint`` in a thread while the member is checked."""
        done = threading.Event()
        outcome: list[tuple[T | None, BaseException | None]] = []
        failure: list[str] = []

        def run() -> None:
            try:
                outcome.append((send(lease_id, endpoint, budget.left()), None))
            except BaseException as exc:  # handed to the waiting caller
                outcome.append((None, exc))
            done.set()

        def member_failed(_endpoint: str, reason: str) -> None:
            failure.append(reason)
            done.set()

        _, liveness = checks.hub()
        token = liveness.use(endpoint, _CHECK_EVERY, member_failed)
        thread = threading.Thread(target=run, name=f"etcdmap-wait {self._what}", daemon=True)
        try:
            thread.start()
            done.wait(budget.left())
        except DeadlineExceeded:
            pass  # the outcome may have come at the last moment
        finally:
            liveness.release(endpoint, token)
        if outcome:
            thread.join()  # it ends right after its outcome
            value, error = outcome[0]
            if error is not None:
                raise error
            return value  # type: ignore[return-value]  # T, set with error None
        if failure:
            raise _MemberFailed(failure[0])
        raise DeadlineExceeded(f"{self._what}: the wait's timeout ran out")
