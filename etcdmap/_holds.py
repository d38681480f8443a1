"""What every lock and election shares, whatever the API: argument checks, and the bookkeeping
of a hold's loss with its signal (:data:`etcdmap.signals.lock_lost`).

Thread-safety: :class:`HoldState` may be read and marked lost from any thread; the checks
are pure.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from etcdmap import signals
from etcdmap.errors import EtcdMapError, LockLost

__all__ = ["HoldState", "LockBase", "check_name", "check_timeout", "check_ttl"]

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

    def end(self) -> LockLost | None:
        """The hold is over (released): a loss reported later is ignored.

        :returns: the loss of the hold that ended, if it was lost (to raise).
        """
        with self._lock:
            self.key = ""
            return self.error

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


class LockBase:
    """What every lock shows, whatever keeps it (:class:`etcdmap.v3.lock.Lock`,
    :class:`etcdmap.mapping.lock.RecipeLock`): the state properties and the ``with`` protocol
    (enter acquires, leaving releases). A subclass sets ``_name``, ``_ttl``, ``_revision`` and
    ``_state`` and implements ``acquire()`` and ``release()``.

    Thread-safety: the properties may be read from any thread.
    """

    _name: str
    _ttl: int
    _revision: int
    _state: HoldState

    @property
    def name(self) -> str:
        """The lock's name in etcd."""
        return self._name

    @property
    def key(self) -> str | None:
        """The key that holds the lock while held, else ``None``."""
        return self._state.key or None

    @property
    def revision(self) -> int:
        """The holding key's create revision (v2: created index) while held, 0 otherwise: a
        fencing token that grows with every acquisition of this lock."""
        return self._revision

    @property
    def ttl(self) -> int:
        """The TTL of each acquisition (its lease or its key), in seconds."""
        return self._ttl

    @property
    def lost(self) -> bool:
        """``True`` once the current hold was lost (its lease or key expired, or its key
        was deleted); it stays readable after the release, until the next acquisition."""
        return self._state.error is not None

    @property
    def held(self) -> bool:
        """``True`` while acquired, not released and not known to be lost."""
        return bool(self._state.key) and not self.lost

    @property
    def error(self) -> LockLost | None:
        """The :class:`~etcdmap.errors.LockLost` of the current hold, once lost."""
        return self._state.error

    def acquire(self, timeout: float | object | None = ...) -> LockBase:
        """Wait until the lock is held (the subclass's)."""
        raise NotImplementedError

    def release(self) -> None:
        """Release the lock (the subclass's)."""
        raise NotImplementedError

    def __enter__(self) -> LockBase:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Release; raises :class:`~etcdmap.errors.LockLost` if the lock was lost while held
        (the block's own exception, if any, is its ``__context__``); a failed release is
        raised only when the block itself did not raise."""
        try:
            self.release()
        except LockLost:
            raise
        except EtcdMapError:
            if exc is None:
                raise

    def __repr__(self) -> str:
        state = "lost" if self.lost else "held" if self.held else "not held"
        return f"<{type(self).__name__} {self._name!r} {state}>"
