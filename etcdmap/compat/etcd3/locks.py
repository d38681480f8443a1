"""python-etcd3's :class:`Lock` (``etcd3.locks``): its own txn-and-lease recipe, not etcd's
lock service.

The lock is the key ``/locks/<name>``, created only if absent (``create_revision == 0``) with
a fresh lease of ``ttl`` seconds and a unique value; whoever created it holds it until
:meth:`Lock.release` deletes it or the lease expires. A waiter watches the key and tries
again. Programs that mix this with python-etcd3 processes interoperate: same key, same value
format (``uuid1`` bytes), same rules.

Two things are done right where python-etcd3 did not: a waiter watches from the revision it
saw, so a release between its attempt and its watch wakes it at once (python-etcd3 slept
until the timeout), and ``with lock:`` raises
:class:`~etcdmap.compat.etcd3.exceptions.LockTimedOut` when the lock was not acquired
(python-etcd3 ran the block without it). A failed attempt revokes the lease it granted.

For etcd's own lock service (a fencing revision, server-side waiting), use
``etcdmap.v3.Client.lock``.

Thread-safety: a :class:`Lock` object belongs to one thread at a time.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from types import TracebackType
from typing import Any

from etcdmap.compat.etcd3.exceptions import LockTimedOut, WatchTimedOut

__all__ = ["Lock"]


class Lock:
    """A distributed lock: ``with client.lock("name", ttl=20) as lock: ...``.

    :param name: the lock's name (the key is ``/locks/<name>``).
    :param ttl: seconds the lock lives unless :meth:`refresh` is called.
    :param etcd_client: the :class:`~etcdmap.compat.etcd3.client.Etcd3Client`.
    """

    lock_prefix = "/locks/"

    def __init__(self, name: str, ttl: int = 60, etcd_client: Any = None) -> None:
        self.name = name
        self.ttl = ttl
        if etcd_client is not None:
            self.etcd_client = etcd_client
        self.key = self.lock_prefix + self.name
        self.lease: Any = None
        self.uuid = uuid.uuid1().bytes

    def _attempt(self) -> tuple[bool, int]:
        client = self.etcd_client
        lease = client.lease(self.ttl)
        ok, responses = client.transaction(
            compare=[client.transactions.create(self.key) == 0],
            success=[client.transactions.put(self.key, self.uuid, lease=lease)],
            failure=[client.transactions.get(self.key)],
        )
        if ok:
            self.lease = lease
            return True, 0
        lease.revoke()
        self.lease = None
        held = responses[0] if responses else []
        revision = held[0][1].mod_revision if held else 0
        return False, revision

    def acquire(self, timeout: float | None = 10) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds (``None``: forever, 0: one try).

        :returns: whether the lock was acquired.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            ok, revision = self._attempt()
            if ok:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            # wait for the holder's key to change after the revision we saw
            with contextlib.suppress(WatchTimedOut):
                self.etcd_client.watch_once(self.key, remaining, start_revision=revision + 1)

    def release(self) -> bool:
        """Release the lock if this object holds it.

        :returns: whether it was held (and so deleted).
        """
        client = self.etcd_client
        ok, _ = client.transaction(
            compare=[client.transactions.value(self.key) == self.uuid],
            success=[client.transactions.delete(self.key)],
            failure=[],
        )
        return bool(ok)

    def refresh(self) -> Any:
        """Refresh the lock's lease to its TTL.

        :raises ValueError: the lock was not acquired.
        """
        if self.lease is not None:
            return self.lease.refresh()
        raise ValueError("No lease associated with this lock - have you acquired the lock yet?")

    def is_acquired(self) -> bool:
        """Whether this object holds the lock now."""
        value, _ = self.etcd_client.get(self.key)
        return value is not None and bool(value == self.uuid)

    def __enter__(self) -> Lock:
        if not self.acquire():
            raise LockTimedOut(f"lock {self.key!r} not acquired within 10 s")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
