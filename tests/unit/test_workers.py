"""The bounded pools and ordered lanes of the watch hub (etcdmap.workers): no server."""

from __future__ import annotations

import threading

import pytest

from etcdmap.workers import Lane, WorkerPool


def test_pool_runs_every_task_on_at_most_size_threads() -> None:
    pool = WorkerPool(3, "t-pool", idle=0.2)
    done = threading.Semaphore(0)
    names: set[str] = set()
    lock = threading.Lock()

    def task() -> None:
        with lock:
            names.add(threading.current_thread().name)
        done.release()

    for _ in range(200):
        pool.submit(task)
    for _ in range(200):
        assert done.acquire(timeout=5)
    assert 1 <= len(names) <= 3
    assert pool.threads <= 3
    pool.close()


def test_pool_threads_end_when_idle() -> None:
    pool = WorkerPool(2, "t-idle", idle=0.05)
    ran = threading.Event()
    pool.submit(ran.set)
    assert ran.wait(5)
    for t in [t for t in threading.enumerate() if t.name.startswith("t-idle")]:
        t.join(5)
    assert pool.threads == 0


def test_urgent_tasks_go_first() -> None:
    pool = WorkerPool(1, "t-urgent")
    gate = threading.Event()
    order: list[str] = []
    finished = threading.Event()
    pool.submit(lambda: gate.wait(5))  # occupies the only thread
    pool.submit(lambda: order.append("normal"))
    pool.submit(lambda: order.append("urgent"), urgent=True)
    pool.submit(finished.set)
    gate.set()
    assert finished.wait(5)
    assert order == ["urgent", "normal"]
    pool.close()


def test_a_failing_task_does_not_kill_the_pool() -> None:
    pool = WorkerPool(1, "t-fail")
    ran = threading.Event()
    pool.submit(lambda: 1 / 0)
    pool.submit(ran.set)
    assert ran.wait(5)
    pool.close()


def test_bad_size_is_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        WorkerPool(0, "t-bad")


def test_lane_keeps_order_across_batches() -> None:
    pool = WorkerPool(3, "t-lane")
    lane = Lane(pool, batch=4)
    got: list[int] = []
    for i in range(100):
        lane.submit(lambda i=i: got.append(i))
    assert lane.drain(5)
    assert got == list(range(100))
    pool.close()


def test_a_blocked_lane_does_not_delay_another() -> None:
    pool = WorkerPool(2, "t-block")
    slow, fast = Lane(pool), Lane(pool)
    release = threading.Event()
    arrived = threading.Event()
    slow.submit(lambda: release.wait(5))
    slow.submit(lambda: None)
    fast.submit(arrived.set)
    assert arrived.wait(1), "the other lane waited for the blocked one"
    assert slow.pending == 1
    release.set()
    assert slow.drain(5)
    pool.close()


def test_close_drops_waiting_tasks_and_drain_inside_the_lane_does_not_wait() -> None:
    pool = WorkerPool(1, "t-close")
    lane = Lane(pool)
    inside: list[bool] = []
    release = threading.Event()
    lane.submit(lambda: inside.append(lane.current and not lane.drain(1)))
    lane.submit(lambda: release.wait(5))
    lane.submit(lambda: inside.append(False))  # dropped by close()
    assert not lane.drain(0.2)
    lane.close()
    release.set()
    assert lane.drain(5)
    assert inside == [True]
    lane.submit(lambda: inside.append(False))  # ignored once closed
    assert lane.drain(1) and inside == [True]
    pool.close()
