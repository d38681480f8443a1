"""What a lock and an election share: the lease of one hold (granted, kept alive, revoked at the
end, as the Go client's ``concurrency.Session``), argument checks, and the lost-state bookkeeping
with its signal.

Thread-safety: :class:`HoldState` may be read and marked lost from any thread;
:class:`LeaseSession` is driven by the thread that holds, its loss callback comes from the
keep-alive's thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from etcdmap import signals
from etcdmap.errors import EtcdMapError, LeaseLost, LeaseNotFound, LockLost
from etcdmap.http.defaults import DEFAULT

if TYPE_CHECKING:
    from etcdmap.v3.lease import Leases

__all__ = ["HoldState", "LeaseSession", "check_name", "check_timeout", "check_ttl"]

log = logging.getLogger("etcdmap.lock")

_MAX_TTL = 9_000_000_000


def check_name(name: object, what: str = "lock") -> str:
    """A lock's or an election's name.

    :raises TypeError: not a ``str``.
    :raises ValueError: empty.
    """
    if not isinstance(name, str):
        raise TypeError(f"the {what} name must be a str, not {type(name).__name__}")
    if not name:
        raise ValueError(f"the {what} name must not be empty")
    return name


def check_ttl(ttl: object) -> int:
    """A hold's TTL in whole seconds, 1 to 9,000,000,000.

    :raises TypeError: not an int.
    :raises ValueError: out of range.
    """
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        raise TypeError(f"ttl must be an int number of seconds, not {type(ttl).__name__}")
    if not 1 <= ttl <= _MAX_TTL:
        raise ValueError(f"ttl must be 1 to {_MAX_TTL} seconds, got {ttl}")
    return ttl


def check_timeout(timeout: object) -> float | None:
    """A wait's ``timeout``: ``None`` (wait for ever) or a positive number of seconds.

    :raises TypeError: not a number.
    :raises ValueError: zero or negative.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not "
                        f"{type(timeout).__name__}")
    if not timeout > 0:
        raise ValueError(f"timeout must be positive (or None to wait for ever), got {timeout}")
    return float(timeout)


class HoldState:
    """Whether a hold (a lock, a leadership) was lost, and telling so once: the error is kept,
    :data:`etcdmap.signals.lock_lost` is sent (``sender`` = the owner).

    :param owner: the lock or election (the signal's sender).
    :param name: its name (for messages and the signal).
    :param error_class: :class:`~etcdmap.errors.LockLost` or a subclass.
    """

    def __init__(self, owner: object, name: str, error_class: type[LockLost] = LockLost) -> None:
        self._owner = owner
        self._name = name
        self._error_class = error_class
        self._lock = threading.Lock()
        self.key = ""
        """The key of the current hold (``""``: none)."""
        self.error: LockLost | None = None
        """The loss of the current hold, once lost."""

    def begin(self, key: str) -> None:
        """A new hold starts on ``key`` (forgets an earlier loss)."""
        with self._lock:
            self.key, self.error = key, None

    def end(self) -> None:
        """The hold is over (released): a loss reported later is ignored."""
        with self._lock:
            self.key = ""

    def lost(self, message: str, cause: BaseException | None) -> LockLost | None:
        """Mark the current hold lost (once) and send the signal.

        :returns: the new error, or ``None`` when there is no hold or it was already lost.
        """
        with self._lock:
            if not self.key or self.error is not None:
                return None
            error = self._error_class(f"{self._name!r}: {message}", name=self._name, key=self.key)
            error.__cause__ = cause
            self.error = error
        log.warning("%s", error)
        signals.send(signals.lock_lost, self._owner,
                     {"name": self._name, "key": error.key, "error": error})
        return error


class LeaseSession:
    """The lease of one hold: granted now, kept alive, revoked by :meth:`close`.

    :param leases: the client's lease API.
    :param ttl: the lease's TTL in seconds.
    :param on_lost: called (from the keep-alive's thread) with the
        :class:`~etcdmap.errors.LeaseLost` if the lease is lost.
    :param timeout: the grant's deadline (``None``: the client's default).
    """

    def __init__(self, leases: Leases, ttl: int, on_lost: Callable[[BaseException], object],
                 *, timeout: float | None = None) -> None:
        self._leases = leases
        grant = leases.grant(ttl, timeout=DEFAULT if timeout is None else timeout)
        self.lease_id = grant.id
        self.ttl = grant.ttl
        self._keepalive = leases.keep_alive(grant.id, grant.ttl, on_lost=on_lost)

    @property
    def error(self) -> LeaseLost | None:
        """The lease's loss, once lost."""
        return self._keepalive.error

    def close(self) -> None:
        """Stop the keep-alive and revoke the lease (its keys go with it). A failed revoke
        is logged, not raised: the lease then expires after its TTL."""
        self._keepalive.stop()
        try:
            self._leases.revoke(self.lease_id)
        except LeaseNotFound:
            pass  # already expired or revoked
        except EtcdMapError as exc:
            log.warning("lease %x not revoked (%s): it expires in %d s",
                        self.lease_id, exc, self.ttl)
