"""One shared, leader-aware liveness check per member in use, not one probe per stream (so an idle
watch stays cheap yet a dead or partitioned member is noticed): streams say which member they
read from; every ``interval`` seconds ONE check asks that member (for etcd: ``GET /health``,
which answers 503 / ``{"health":"false"}`` on a member without a leader, so a partitioned member
fails it like a frozen or dead one); when it fails, every stream on the member is told (it moves
to another member and backfills) and the client's pin moves. Nothing else is sent while idle.

A stream that needs proof that its member still ran after some moment (a long poll that
stayed silent proves "no event" only if its member was alive) calls
:meth:`Liveness.confirm`: all such requests on one member ride one check.

Thread-safety: every method may be called from any thread; callbacks run on a worker thread
of the hub and must not block.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from etcdmap.http.hub import StreamHub, Timer

__all__ = ["Liveness"]

log = logging.getLogger("etcdmap.watch")

_PACE = 0.8
"""Checks start every ``0.8 * interval``: a member that fails right after a check is left,
its streams moved, within ``interval + timeout``."""

_GATHER = 0.05
"""Seconds confirmations wait for others before their check starts (one check for many)."""

Checker = Callable[[str, float], str | None]
"""``checker(endpoint, timeout)``: ``None`` when the member is healthy, else the reason."""


@dataclass
class _Member:
    users: dict[int, tuple[float, Callable[[str, str], None]]] = field(default_factory=dict)
    timer: Timer | None = None
    checking: bool = False
    started: float = 0.0
    gathering: bool = False
    last_ok: float = float("-inf")
    waiters: list[tuple[float, Callable[[bool], None]]] = field(default_factory=list)
    checks: int = 0


class Liveness:
    """The per-member checks of one client's hub (see the module docstring).

    :param hub: the hub whose workers run the checks and whose timers pace them.
    :param checker: the check itself (bounded by ``timeout`` seconds).
    :param timeout: the bound of one check (the client's ``request_timeout``).
    :param on_down: called with ``(endpoint, reason)`` after a failed check (moves the pin).
    """

    def __init__(self, hub: StreamHub, checker: Checker, timeout: float,
                 on_down: Callable[[str, str], None] | None = None) -> None:
        self._hub = hub
        self._checker = checker
        self.timeout = timeout
        self._on_down = on_down
        self._lock = threading.Lock()
        self._members: dict[str, _Member] = {}
        self._tokens = iter(range(1, 1 << 62))

    @property
    def checks(self) -> int:
        """How many checks were sent in all."""
        return sum(m.checks for m in self._members.values())

    def use(self, endpoint: str, interval: float, on_failed: Callable[[str, str], None]) -> int:
        """Register a stream on ``endpoint``, checked every ``interval`` seconds at most.

        :param on_failed: called with ``(endpoint, reason)`` when a check fails.
        :returns: a token for :meth:`release`.
        """
        with self._lock:
            token = next(self._tokens)
            member = self._members.setdefault(endpoint, _Member())
            member.users[token] = (interval, on_failed)
            if member.timer is None and not member.checking:
                member.timer = self._hub.call_later(_PACE * interval,
                                                    lambda: self._due(endpoint))
        return token

    def release(self, endpoint: str, token: int) -> None:
        """The stream left ``endpoint`` (idempotent)."""
        with self._lock:
            member = self._members.get(endpoint)
            if member is None:
                return
            member.users.pop(token, None)
            if not member.users and not member.waiters and member.timer is not None:
                member.timer.cancel()
                member.timer = None

    def confirm(self, endpoint: str, since: float, callback: Callable[[bool], None]) -> None:
        """Call ``callback(alive)`` once a check that started after ``since`` (a
        ``time.monotonic()`` value) answered: ``True`` healthy, ``False`` not."""
        with self._lock:
            member = self._members.setdefault(endpoint, _Member())
            if member.last_ok >= since:
                ok = True
            else:
                member.waiters.append((since, callback))
                if not member.checking:
                    self._gather(endpoint, member)
                return
        callback(ok)

    def _due(self, endpoint: str) -> None:
        with self._lock:
            member = self._members.get(endpoint)
            if member is None:
                return
            member.timer = None
            if not member.users or member.checking:
                return
            self._start(endpoint, member)

    def _gather(self, endpoint: str, member: _Member) -> None:
        """Start a check for the waiting confirmations after a short gathering window, so
        that the streams that went silent about together share one (lock held)."""
        if not member.gathering:
            member.gathering = True
            self._hub.call_later(_GATHER, lambda: self._gathered(endpoint))

    def _gathered(self, endpoint: str) -> None:
        with self._lock:
            member = self._members[endpoint]
            member.gathering = False
            if member.waiters and not member.checking:
                self._start(endpoint, member)

    def _start(self, endpoint: str, member: _Member) -> None:
        """Start a check (lock held)."""
        if member.timer is not None:
            member.timer.cancel()
            member.timer = None
        member.checking = True
        member.started = time.monotonic()
        member.checks += 1
        self._hub.workers.submit(lambda: self._check(endpoint), urgent=True)

    def _check(self, endpoint: str) -> None:
        started = self._members[endpoint].started
        try:
            reason = self._checker(endpoint, self.timeout)
        except Exception as exc:  # the checker's own failure counts as a failed check
            reason = f"the liveness check failed: {exc}"
        with self._lock:
            member = self._members[endpoint]
            member.checking = False
            ok = reason is None
            if ok:
                member.last_ok = max(member.last_ok, started)
            done = [cb for since, cb in member.waiters if not ok or since <= started]
            member.waiters = [(s, cb) for s, cb in member.waiters if ok and s > started]
            failed = [] if ok else [cb for _, cb in member.users.values()]
            if member.waiters:
                self._gather(endpoint, member)
            elif member.users:
                interval = _PACE * min(i for i, _ in member.users.values())
                left = max(0.0, started + interval - time.monotonic())
                member.timer = self._hub.call_later(left, lambda: self._due(endpoint))
        for cb in done:
            cb(ok)
        if reason is not None:
            log.info("member %s failed its liveness check (%s): moving its streams",
                     endpoint, reason)
            if self._on_down is not None:
                self._on_down(endpoint, reason)
            for on_failed in failed:
                on_failed(endpoint, reason)
