"""client.lock() on etcd's lock service (real etcd 3.5): keys, fencing tokens, mutual
exclusion between threads and processes, timeouts that leave nothing behind, a killed holder
released by its lease, a SIGSTOPped holder that wakes to find its lock lost."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from etcdmap import signals
from etcdmap.errors import DeadlineExceeded, LeaseLost, LockLost, LockTimeout
from etcdmap.v3 import Client
from tests.integration.locktools import count_in_processes, finish, first_line, worker


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url) as c:
        yield c


def _waiters(v3: Client, name: str) -> list[str]:
    return [kv.key_text for kv in v3.kv.range(name + "/", prefix=True).kvs]


def test_a_held_lock_has_its_key_revision_and_lease(v3: Client, etcd_prefix: str) -> None:
    lk = v3.lock(etcd_prefix, ttl=10)
    assert (lk.key, lk.revision, lk.lease, lk.held, lk.lost) == (None, 0, 0, False, False)
    with lk:
        lease = lk.lease
        assert lk.held and not lk.lost and lease > 0
        assert lk.key == f"{etcd_prefix}/{lease:x}"
        assert _waiters(v3, etcd_prefix) == [lk.key]
        kv = v3.kv.range(lk.key).kvs[0]
        assert (kv.create_revision, kv.lease) == (lk.revision, lease)
        assert v3.lease.time_to_live(lease).ttl > 0
    assert not lk.held and lk.key is None and lk.lease == 0
    assert _waiters(v3, etcd_prefix) == []
    assert v3.lease.time_to_live(lease).ttl == -1  # the lease is revoked too


def test_the_fencing_token_grows_with_every_acquisition(v3: Client, etcd_prefix: str) -> None:
    lk = v3.lock(etcd_prefix, ttl=10)
    tokens = []
    for _ in range(3):
        with lk:
            tokens.append(lk.revision)
    with v3.lock(etcd_prefix, ttl=10) as other:
        tokens.append(other.revision)
    assert tokens == sorted(set(tokens))


def test_mutual_exclusion_between_threads(v3: Client, etcd_prefix: str,
                                          run_threads: Callable[..., list[BaseException]]) -> None:
    inside: list[int] = []
    overlaps: list[int] = []
    counter = f"{etcd_prefix}-counter"

    def work(n: int) -> None:
        for _ in range(3):
            with v3.lock(etcd_prefix, ttl=10):
                inside.append(n)
                if len(inside) > 1:
                    overlaps.append(n)
                value = int(v3.kv.get(counter) or 0)
                threading.Event().wait(0.005)
                v3.kv.put(counter, str(value + 1))
                inside.remove(n)

    assert run_threads(work, 4, timeout=120) == []
    assert overlaps == []
    assert v3.kv.get(counter) == b"12"


def test_mutual_exclusion_between_processes(v3: Client, etcd_url: str, etcd_prefix: str) -> None:
    results = count_in_processes("v3", etcd_url, etcd_prefix, etcd_prefix + "/lock", 3, 2)
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert v3.kv.get(etcd_prefix + "/counter") == b"6"


def test_a_timeout_leaves_no_waiter_behind(v3: Client, etcd_prefix: str) -> None:
    with v3.lock(etcd_prefix, ttl=10) as holder:
        leases = set(v3.lease.leases())
        start = time.monotonic()
        with pytest.raises(LockTimeout, match="was not acquired within 0.5 s") as info:
            v3.lock(etcd_prefix, ttl=10, timeout=0.5).acquire()
        assert 0.4 < time.monotonic() - start < 5
        assert isinstance(info.value, DeadlineExceeded) and info.value.name == etcd_prefix
        # etcd 3.5 itself deletes the key of a waiter that went away when it notices; the
        # waiter's lease is revoked as well, which also covers the cases it does not notice
        assert _waiters(v3, etcd_prefix) == [holder.key]
        assert set(v3.lease.leases()) - leases == set()
        later = v3.lock(etcd_prefix, ttl=10)
        with pytest.raises(LockTimeout):
            later.acquire(timeout=0.3)
        assert _waiters(v3, etcd_prefix) == [holder.key]
    with later:  # the lock is free again: nothing queued blocks it
        assert _waiters(v3, etcd_prefix) == [later.key]


def test_a_revoked_lease_is_a_lost_lock(v3: Client, etcd_prefix: str) -> None:
    lk = v3.lock(etcd_prefix, ttl=3)
    events: list[dict[str, object]] = []
    fired = threading.Event()

    def on_lost(sender: object, **payload: object) -> None:
        events.append({"sender": sender, **payload})
        fired.set()

    signals.lock_lost.connect(on_lost, sender=lk, weak=False)
    try:
        with pytest.raises(LockLost) as info, lk:
            key = lk.key
            v3.lease.revoke(lk.lease)  # what an expiry does
            assert fired.wait(5), "lock_lost was not sent"
            assert lk.lost and not lk.held
    finally:
        signals.lock_lost.disconnect(on_lost, sender=lk)
    assert events == [{"sender": lk, "name": etcd_prefix, "key": key, "error": info.value}]
    assert info.value.key == key and isinstance(info.value.__cause__, LeaseLost)
    assert not lk.held and _waiters(v3, etcd_prefix) == []


def test_a_key_deleted_by_someone_else_is_reported_at_release(v3: Client,
                                                             etcd_prefix: str) -> None:
    with pytest.raises(LockLost, match="its key was deleted while held"), \
            v3.lock(etcd_prefix, ttl=10) as lk:
        v3.lock_service.unlock(lk.key or "")


def test_a_killed_holder_is_released_by_its_lease(v3: Client, etcd_url: str,
                                                  etcd_prefix: str) -> None:
    proc = worker("hold", "v3", etcd_url, etcd_prefix, etcd_prefix, "2")
    try:
        assert first_line(proc).startswith("held")
        proc.kill()
        proc.wait(10)
        with v3.lock(etcd_prefix, ttl=10, timeout=15) as lk:
            assert lk.held and _waiters(v3, etcd_prefix) == [lk.key]
    finally:
        if proc.poll() is None:
            proc.kill()
        finish(proc)


def test_a_sigstopped_holder_wakes_to_find_its_lock_lost(v3: Client, etcd_url: str,
                                                         etcd_prefix: str) -> None:
    proc = worker("hold", "v3", etcd_url, etcd_prefix, etcd_prefix, "2")
    try:
        assert first_line(proc).startswith("held")
        os.kill(proc.pid, signal.SIGSTOP)
        with v3.lock(etcd_prefix, ttl=10, timeout=15) as lk:  # once the holder's lease expired
            os.kill(proc.pid, signal.SIGCONT)
            code, out, err = finish(proc)
            assert lk.held and not lk.lost
        assert (code, out.split("\n")[:2]) == (0, ["lost signal", "raised LockLost"]), err
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
            finish(proc)


def test_bad_input_is_refused_before_anything_is_sent(v3: Client, etcd_prefix: str) -> None:
    with pytest.raises(ValueError, match="the lock name must not be empty"):
        v3.lock("")
    with pytest.raises(TypeError, match="the lock name must be a str"):
        v3.lock(b"x")  # type: ignore[arg-type]
    for ttl in (0, -5, 10**10):
        with pytest.raises(ValueError, match="ttl must be 1 to"):
            v3.lock("x", ttl=ttl)
    with pytest.raises(TypeError, match="ttl must be an int"):
        v3.lock("x", ttl=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout must be positive"):
        v3.lock("x", timeout=-1)
    lk = v3.lock(etcd_prefix, ttl=10)
    with lk, pytest.raises(RuntimeError, match="already held"):
        lk.acquire()
