"""``EtcdMap.lock(name)``: a distributed lock kept in the map's hidden ``_locks`` directory,
the same on every API.

- **v3** (a backend with ``lock()``, :class:`~etcdmap.backend.SupportsLocks`): etcd's lock
  service, see :mod:`etcdmap.v3.lock`; the lock's name is ``<map>/_locks/<name>``.
- **v2** (and the in-memory backend): the lock recipe of etcd's v2 documentation
  (etcd-io/etcd release-3.4:Documentation/v2/api.md, "Atomically Creating In-Order Keys" and
  "Waiting for a change"), :class:`RecipeLock`: each contender creates an in-order key with a
  TTL in ``<map>/_locks/<name>/`` (its value a random token), keeps it alive by refreshing its
  TTL, and holds the lock when its key sorts first; otherwise it watches the key just before
  its own (not the holder's: no herd) until that one is deleted or expires, then looks again.

Hidden keys never show in the map's listings, values, ``len()`` or ``clear()``, so a lock
does not disturb the data next to it. Both kinds behave alike: :attr:`~RecipeLock.key`,
:attr:`~RecipeLock.revision` (a fencing token: the key's created index / create revision,
growing with each acquisition), ``held``, ``lost`` and the :data:`etcdmap.signals.lock_lost`
signal, a timeout that leaves no key behind (:class:`~etcdmap.errors.LockTimeout`), and
:class:`~etcdmap.errors.LockLost` on leaving the ``with`` of a lock lost while held.

Thread-safety: a lock is acquired and released by one thread at a time; its properties may
be read from any thread.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from typing import TYPE_CHECKING

from etcdmap._holds import HoldState, LockBase, check_timeout, check_ttl
from etcdmap.backend import Backend, Cond, HeldLock, SupportsLocks
from etcdmap.errors import (
    CompareFailed,
    DeadlineExceeded,
    EtcdMapError,
    HistoryLost,
    KeyNotFound,
    LockLost,
    LockTimeout,
)
from etcdmap.mapping.keepalive import KeepAlive
from etcdmap.models import Change

if TYPE_CHECKING:
    from etcdmap.backend import ChangeStream

__all__ = ["LOCKS_DIR", "RecipeLock", "map_lock"]

LOCKS_DIR = "_locks"
"""The hidden directory of a map's locks."""

_UNSET: object = object()
_GONE = frozenset({"delete", "expire", "compareAndDelete"})
_RECHECK = 10.0
"""Seconds a waiter watches its predecessor before it lists the waiters again (a safety net
for a deletion its watch could miss, e.g. the whole lock directory deleted)."""


def map_lock(backend: Backend, key: str, *, ttl: int = 60,
             timeout: float | None = None) -> HeldLock:
    """The lock named ``key`` (``<map>/_locks/<name>``) on ``backend``: its own lock service
    when it has one, else the recipe (``EtcdMap.lock`` calls it).

    :raises TypeError, ValueError: a bad TTL or timeout.
    """
    if isinstance(backend, SupportsLocks):
        return backend.lock(key, ttl=check_ttl(ttl), timeout=check_timeout(timeout))
    return RecipeLock(backend, key, ttl=ttl, timeout=timeout)


class RecipeLock(LockBase):
    """The v2 lock recipe on a :class:`~etcdmap.backend.Backend` (see the module docstring).

    :param backend: the store.
    :param name: the lock's directory (absolute key), e.g. ``/config/_locks/jobs``.
    :param ttl: the TTL of the contender's key in seconds (refreshed every ``ttl / 3``).
    :param timeout: how long :meth:`acquire` waits by default (``None``: for ever).
    :raises TypeError, ValueError: a TTL outside 1..9e9 or a timeout <= 0.
    """

    def __init__(self, backend: Backend, name: str, *, ttl: int = 60,
                 timeout: float | None = None) -> None:
        self._backend = backend
        self._name = name
        self._ttl = check_ttl(ttl)
        self._timeout = check_timeout(timeout)
        self._state = HoldState(self, name)
        self._keepalive: KeepAlive | None = None
        self._token = ""
        self._revision = 0
        self._failed = threading.Event()  # the keep-alive failed while waiting
        self._aborted = threading.Event()  # abort(): withdraw the acquisition in progress
        self._waiting_on: ChangeStream | None = None

    # ------------------------------------------------------------------ state

    @property
    def name(self) -> str:
        """The lock's name: its directory, ``<map>/_locks/<name>``."""
        return self._name

    # ------------------------------------------------------------------ acquire

    def _on_keepalive_error(self, error: BaseException) -> None:
        if self._state.key:
            self._state.lost("its key's TTL could not be kept (the key expired or went)", error)
            return
        self._failed.set()
        stream = self._waiting_on
        if stream is not None:
            stream.close()

    def acquire(self, timeout: float | object | None = _UNSET) -> RecipeLock:
        """Wait until the lock is held.

        :param timeout: seconds to wait (default: the lock's; ``None``: for ever).
        :returns: this lock.
        :raises LockTimeout: not acquired in time; the contender's key was deleted.
        :raises LockLost: the contender's key expired while it waited.
        :raises RuntimeError: already held by this object.
        """
        wait = self._timeout if timeout is _UNSET else check_timeout(timeout)
        if self._keepalive is not None:
            raise RuntimeError(f"lock {self._name!r} is already held by this object")
        deadline = None if wait is None else time.monotonic() + wait
        self._token = uuid.uuid4().hex
        self._failed.clear()
        node, index = self._backend.append(self._name, self._token, ttl=self._ttl)
        keepalive = KeepAlive(lambda: self._backend.refresh(node.key, self._ttl), self._ttl,
                              on_error=self._on_keepalive_error, name=node.key)
        try:
            keepalive.start()
            self._wait_turn(node.key, index, deadline)
        except DeadlineExceeded as exc:
            self._abandon(keepalive, node.key)
            raise LockTimeout(f"lock {self._name!r} was not acquired within {wait} s; its "
                              "waiter key was deleted", name=self._name) from exc
        except BaseException:
            self._abandon(keepalive, node.key)
            raise
        finally:
            self._aborted.clear()  # an abort() reaches this acquisition only
        self._keepalive, self._revision = keepalive, node.created_index
        self._state.begin(node.key)
        if keepalive.error is not None:
            self._on_keepalive_error(keepalive.error)
        return self

    def abort(self) -> None:
        """Withdraw the acquisition waiting in another thread, or the next one if it has not
        begun yet (an asyncio caller was cancelled): its :meth:`acquire` raises
        :class:`~etcdmap.errors.LockTimeout` after deleting its waiter key. Thread-safe;
        does nothing to a lock already held."""
        self._aborted.set()
        stream = self._waiting_on
        if stream is not None:
            stream.close()

    def _abandon(self, keepalive: KeepAlive, key: str) -> None:
        """Stop keeping ``key`` and delete it if it is still this contender's."""
        with contextlib.suppress(EtcdMapError):  # its failure is why we are here, or moot
            keepalive.stop()
        try:
            self._backend.delete(key, cond=Cond(value=self._token))
        except (KeyNotFound, CompareFailed):
            pass  # expired already
        except EtcdMapError:
            pass  # unreachable: the key expires after its TTL

    def _wait_turn(self, key: str, index: int, deadline: float | None) -> None:
        """Return once ``key`` sorts first among the contenders."""
        while True:
            if self._aborted.is_set():
                raise DeadlineExceeded(f"the acquisition of the lock {self._name!r} was withdrawn")
            if self._failed.is_set():
                raise LockLost(f"{self._name!r}: the waiter's key expired while it waited",
                               name=self._name, key=key)
            listing, index = self._backend.read(self._name)
            keys = [child.key for child in listing.nodes]
            if key not in keys:
                raise LockLost(f"{self._name!r}: the waiter's key went while it waited",
                               name=self._name, key=key)
            position = keys.index(key)
            if position == 0:
                return
            self._wait_gone(keys[position - 1], index, deadline)

    def _wait_gone(self, predecessor: str, index: int, deadline: float | None) -> None:
        """Return when ``predecessor`` is gone, or after a while (the caller looks again).

        :raises DeadlineExceeded: ``deadline`` passed.
        """
        span = _RECHECK if deadline is None else min(_RECHECK, deadline - time.monotonic())
        if span <= 0:
            raise DeadlineExceeded(f"the lock {self._name!r} was not acquired in time")
        stream = self._backend.changes(predecessor, after=index, recursive=False)
        self._waiting_on = stream
        if self._aborted.is_set():  # abort() came before the stream was there to close
            stream.close()
        timer = threading.Timer(span, stream.close)
        timer.daemon = True
        timer.start()
        try:
            for item in stream:
                if isinstance(item, Change) and item.action in _GONE:
                    return
        except HistoryLost:
            return  # look again
        finally:
            timer.cancel()
            self._waiting_on = None
            stream.close()
        if deadline is not None and time.monotonic() >= deadline:
            raise DeadlineExceeded(f"the lock {self._name!r} was not acquired in time")

    # ------------------------------------------------------------------ release

    def release(self) -> None:
        """Release the lock: delete its key if it is still this contender's. Releasing a
        lock not held does nothing.

        :raises LockLost: the lock was lost while held (its key expired or was deleted).
        """
        keepalive, self._keepalive = self._keepalive, None
        if keepalive is None:
            return
        key = self._state.key
        self._revision = 0
        try:
            try:
                keepalive.stop()
            except EtcdMapError as exc:
                self._state.lost("its key's TTL could not be kept", exc)
            if self._state.error is None:
                try:
                    self._backend.delete(key, cond=Cond(value=self._token))
                except (KeyNotFound, CompareFailed) as exc:
                    self._state.lost("its key expired or was deleted while held", exc)
        finally:
            error = self._state.end()
        if error is not None:
            raise error


if TYPE_CHECKING:  # mypy checks that the recipe is the seam's kind of lock
    _RECIPE: type[HeldLock] = RecipeLock
