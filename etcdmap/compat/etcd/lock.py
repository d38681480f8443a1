"""python-etcd's :class:`Lock` recipe (``etcd.Lock``): in-order keys under
``<lock_prefix>/<name>``, the lowest one holds the lock.

``acquire`` appends a key holding the lock's ``uuid`` (or finds its own key again), then the
owner of the lowest key holds the lock; a waiter watches the key just before its own and
checks again when it changes. Same keys and values as python-etcd, so both interoperate.

Thread-safety: a :class:`Lock` object belongs to one thread at a time.
"""

from __future__ import annotations

import logging
import uuid
from types import TracebackType
from typing import Any

from etcdmap.compat.etcd.errors import EtcdException, EtcdKeyNotFound, EtcdLockExpired

__all__ = ["Lock"]

_log = logging.getLogger("etcd.lock")


class Lock:
    """A lock named ``lock_name`` on ``client`` (a :class:`~etcdmap.compat.etcd.client.Client`).

    :ivar path: the lock's directory; ``is_taken``: whether this object last saw itself owner.
    """

    def __init__(self, client: Any, lock_name: str) -> None:
        self.client = client
        self.name = lock_name
        self._uuid = uuid.uuid4().hex
        self.path = f"{client.lock_prefix}/{lock_name}"
        self.is_taken = False
        self._sequence: str | None = None

    @property
    def uuid(self) -> str:
        """The value that marks this object's key."""
        return self._uuid

    @uuid.setter
    def uuid(self, value: str) -> None:
        old, self._uuid = self._uuid, value
        if not self._find_lock():
            self._uuid = old
            raise ValueError("Inexistent UUID")

    @property
    def is_acquired(self) -> bool:
        """Whether this object holds the lock (its key still exists)."""
        if not self.is_taken:
            return False
        try:
            self.client.read(self.lock_key)
        except EtcdKeyNotFound:
            self.is_taken = False
            return False
        return True

    def acquire(self, blocking: bool = True, lock_ttl: int | None = 3600, timeout: float = 0) -> bool:
        """Take the lock.

        :param blocking: wait for it (else return at once).
        :param lock_ttl: the key's TTL (``None``: none).
        :param timeout: seconds one watch waits (0: no limit).
        :returns: whether the lock is held.
        :raises EtcdLockExpired: this object's key vanished while waiting.
        """
        if not self._find_lock():
            res = self.client.write(self.path, self.uuid, ttl=lock_ttl, append=True)
            self._set_sequence(res.key)
        elif lock_ttl:
            self.client.write(self.lock_key, self.uuid, ttl=lock_ttl)
        return self._acquired(blocking=blocking, timeout=timeout)

    def release(self) -> None:
        """Delete this object's key (nothing happens if it is gone)."""
        if not self._sequence:
            self._find_lock()
        try:
            self.client.delete(self.lock_key)
        except (EtcdKeyNotFound, ValueError):
            _log.info("Lock %s not found, nothing to release", self.path)
        finally:
            self.is_taken = False

    def __enter__(self) -> Lock:
        self.acquire(blocking=True, lock_ttl=None)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _acquired(self, blocking: bool = True, timeout: float = 0) -> bool:
        while True:
            locker, nearest = self._get_locker()
            self.is_taken = self.lock_key == locker
            if self.is_taken or not blocking:
                return self.is_taken
            try:
                self.client.watch(nearest.key, timeout=max(0, timeout),
                                  index=nearest.modifiedIndex + 1)
            except EtcdKeyNotFound:
                pass
            except EtcdLockExpired:
                raise
            except EtcdException:
                _log.exception("Unexpected exception")

    @property
    def lock_key(self) -> str:
        """This object's key.

        :raises ValueError: it has none yet.
        """
        if not self._sequence:
            raise ValueError("No sequence present.")
        return f"{self.path}/{self._sequence}"

    def _set_sequence(self, key: str) -> None:
        self._sequence = key.replace(self.path, "").lstrip("/")

    def _find_lock(self) -> bool:
        if self._sequence:
            try:
                self._uuid = self.client.read(self.lock_key).value
            except EtcdKeyNotFound:
                return False
            return True
        if self._uuid:
            try:
                for r in self.client.read(self.path, recursive=True).leaves:
                    if r.value == self._uuid:
                        self._set_sequence(r.key)
                        return True
            except EtcdKeyNotFound:
                pass
        return False

    def _get_locker(self) -> tuple[str, Any]:
        results = list(self.client.read(self.path, recursive=True).leaves)
        if not self._sequence:
            self._find_lock()
        keys = sorted(r.key for r in results)
        try:
            i = keys.index(self.lock_key)
        except ValueError:
            raise EtcdLockExpired("Lock not found") from None
        if i == 0:
            return keys[0], None
        return keys[0], next(r for r in results if r.key == keys[i - 1])
