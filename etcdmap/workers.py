"""Small bounded thread pools and ordered lanes over them: what a client's watch hub runs its
blocking work (:class:`WorkerPool`) and its signal deliveries (:class:`Lane`) on.

A :class:`WorkerPool` starts daemon threads on demand, up to ``size``, and lets a thread end
after ``idle`` seconds without work, so an idle client keeps few threads and a closed one none.
A :class:`Lane` runs its callables one at a time, in submission order, on any thread of a
pool: one lane per watch keeps each watch's signals in index order while a receiver that
blocks holds one pool thread only (the other lanes go on on the others).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["Lane", "WorkerPool"]

log = logging.getLogger("etcdmap.watch")

Task = Callable[[], object]


class WorkerPool:
    """At most ``size`` daemon threads running submitted callables (FIFO; urgent ones first).

    :param size: the most threads at once.
    :param name: the threads' name prefix.
    :param idle: seconds a thread waits for work before it ends.

    Thread-safe. A callable that raises is logged (logger ``etcdmap.watch``) and forgotten.
    """

    def __init__(self, size: int, name: str, *, idle: float = 5.0) -> None:
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self.size = size
        self.name = name
        self.idle = idle
        self._tasks: deque[Task] = deque()
        self._cond = threading.Condition()
        self._threads = 0
        self._waiting = 0
        self._closed = False

    @property
    def threads(self) -> int:
        """How many threads the pool has now."""
        return self._threads

    def submit(self, task: Task, *, urgent: bool = False) -> None:
        """Run ``task`` on a pool thread (``urgent``: before the queued ones). Ignored once
        the pool is closed."""
        with self._cond:
            if self._closed:
                return
            if urgent:
                self._tasks.appendleft(task)
            else:
                self._tasks.append(task)
            if self._waiting >= len(self._tasks):
                self._cond.notify()
                return
            if self._threads < self.size:
                self._threads += 1
                number = self._threads
            else:
                return
        threading.Thread(target=self._work, name=f"{self.name}-{number}", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._cond:
                deadline = time.monotonic() + self.idle
                while not self._tasks and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._waiting += 1
                    self._cond.wait(left)
                    self._waiting -= 1
                if not self._tasks or self._closed:
                    self._threads -= 1
                    return
                task = self._tasks.popleft()
            try:
                task()
            except Exception:  # a task's own failure must not end the pool thread
                log.exception("%s: a task failed", self.name)

    def close(self) -> None:
        """Drop the queued tasks and let every thread end after its current task."""
        with self._cond:
            self._closed = True
            self._tasks.clear()
            self._cond.notify_all()


_current = threading.local()


class Lane:
    """Callables run one at a time, in order, on a :class:`WorkerPool` (see the module).

    :param pool: the pool the lane borrows a thread from while it has work.
    :param batch: how many callables one turn runs before the lane yields its thread.

    Thread-safe: :meth:`submit`, :meth:`close` and :meth:`drain` from any thread.
    """

    def __init__(self, pool: WorkerPool, *, batch: int = 64) -> None:
        self._pool = pool
        self._batch = batch
        self._queue: deque[Task] = deque()
        self._cond = threading.Condition()
        self._scheduled = False
        self._running = False
        self._closed = False

    def submit(self, task: Task) -> None:
        """Queue ``task`` after every callable submitted before (ignored once closed)."""
        with self._cond:
            if self._closed:
                return
            self._queue.append(task)
            if self._scheduled:
                return
            self._scheduled = True
        self._pool.submit(self._turn)

    def _turn(self) -> None:
        _current.lane = self
        try:
            for _ in range(self._batch):
                with self._cond:
                    if not self._queue or self._closed:
                        self._scheduled = False
                        self._cond.notify_all()
                        return
                    task = self._queue.popleft()
                    self._running = True
                try:
                    task()
                except Exception:  # a receiver's failure is reported by the task itself
                    log.exception("a watch delivery failed")
                finally:
                    with self._cond:
                        self._running = False
                        self._cond.notify_all()
        finally:
            _current.lane = None
        self._pool.submit(self._turn)  # more work: yield the thread to the other lanes

    @property
    def current(self) -> bool:
        """Whether the calling thread is running one of this lane's callables."""
        return getattr(_current, "lane", None) is self

    @property
    def pending(self) -> int:
        """How many callables wait."""
        return len(self._queue)

    def close(self) -> None:
        """Drop the waiting callables; the running one (if any) finishes."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()

    def drain(self, timeout: float | None) -> bool:
        """Wait until no callable runs or waits (not from inside the lane).

        :returns: whether the lane went idle within ``timeout`` seconds.
        """
        if self.current:
            return False
        with self._cond:
            return self._cond.wait_for(lambda: not self._running and not self._queue, timeout)
