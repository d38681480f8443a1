"""EtcdMap.lock() on both APIs (real etcd 3.5: the v2 recipe, and etcd's lock service on v3)
and on the memory backend: hidden keys, fencing tokens, mutual exclusion between threads and
processes, timeouts that leave nothing, a killed holder, a SIGSTOPped holder."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from apis import client_for

import etcdmap
from etcdmap import signals
from etcdmap.errors import DeadlineExceeded, KeyNotFound, LockLost, LockTimeout
from tests.integration.locktools import count_in_processes, finish, first_line, worker


@pytest.fixture
def m(api: str, etcd_url: str, etcd_prefix: str) -> Iterator[etcdmap.EtcdMap]:
    with client_for(api, etcd_url) as client:
        yield etcdmap.EtcdMap(client, etcd_prefix)


def _contenders(m: etcdmap.EtcdMap, name: str) -> list[str]:
    try:
        node, _ = m.backend.read(f"{m.path}/_locks/{name}")
    except KeyNotFound:
        return []
    return [child.key for child in node.nodes]


def test_a_map_lock_lives_in_hidden_keys(m: etcdmap.EtcdMap) -> None:
    m["a"] = "1"
    lk = m.lock("job", ttl=10)
    with lk:
        assert lk.held and not lk.lost and lk.revision > 0
        assert lk.name == f"{m.path}/_locks/job" and (lk.key or "").startswith(lk.name + "/")
        assert _contenders(m, "job") == [lk.key]
        assert list(m) == ["a"] and len(m) == 1 and m.to_dict() == {"a": "1"}
        m.clear()  # clear() leaves hidden keys alone: the lock stays held
        assert len(m) == 0 and lk.held
    assert not lk.held and lk.key is None
    assert _contenders(m, "job") == []


def test_the_fencing_token_grows(m: etcdmap.EtcdMap) -> None:
    lk = m.lock("job", ttl=10)
    tokens = []
    for _ in range(3):
        with lk:
            tokens.append(lk.revision)
    assert tokens == sorted(set(tokens))


def test_mutual_exclusion_between_threads(m: etcdmap.EtcdMap,
                                          run_threads: Callable[..., list[BaseException]]) -> None:
    inside: list[int] = []
    overlaps: list[int] = []

    def work(n: int) -> None:
        for _ in range(3):
            with m.lock("counter", ttl=10):
                inside.append(n)
                if len(inside) > 1:
                    overlaps.append(n)
                value = int(m.get("count") or 0)
                threading.Event().wait(0.005)
                m["count"] = str(value + 1)
                inside.remove(n)

    assert run_threads(work, 3, timeout=120) == []
    assert overlaps == [] and m["count"] == "9"


def test_mutual_exclusion_between_processes(m: etcdmap.EtcdMap, api: str, etcd_url: str) -> None:
    results = count_in_processes(f"map-{api}", etcd_url, m.path, "counter", 3, 2)
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert m["counter"] == "6"


def test_a_timeout_leaves_no_contender_behind(m: etcdmap.EtcdMap) -> None:
    with m.lock("job", ttl=10) as holder:
        start = time.monotonic()
        with pytest.raises(LockTimeout) as info:
            m.lock("job", ttl=10, timeout=0.5).acquire()
        assert 0.4 < time.monotonic() - start < 5
        assert isinstance(info.value, DeadlineExceeded)
        assert _contenders(m, "job") == [holder.key]
    with m.lock("job", ttl=10, timeout=5) as after:  # nothing queued blocks it
        assert after.held


def test_a_lost_lock_raises_when_the_with_ends(m: etcdmap.EtcdMap, api: str) -> None:
    lk = m.lock("job", ttl=3)
    fired = threading.Event()

    def on_lost(sender: object, **payload: object) -> None:
        fired.set()

    signals.lock_lost.connect(on_lost, sender=lk, weak=False)
    try:
        with pytest.raises(LockLost), lk:
            del m["_locks"]  # someone deletes the lock's keys (a hidden key, by name)
            if api == "v3":  # the lease is untouched: only the release finds out
                assert not fired.wait(0.5)
            else:  # the recipe's next refresh finds its key gone
                assert fired.wait(5) and lk.lost
    finally:
        signals.lock_lost.disconnect(on_lost, sender=lk)
    assert lk.lost and not lk.held


def test_a_killed_holder_is_released_by_its_ttl(m: etcdmap.EtcdMap, api: str,
                                                etcd_url: str) -> None:
    proc = worker("hold", f"map-{api}", etcd_url, m.path, "job", "2")
    try:
        assert first_line(proc).startswith("held")
        proc.kill()
        proc.wait(10)
        with m.lock("job", ttl=10, timeout=15) as lk:
            assert lk.held
    finally:
        if proc.poll() is None:
            proc.kill()
        finish(proc)


def test_a_sigstopped_holder_wakes_to_find_its_lock_lost(m: etcdmap.EtcdMap, api: str,
                                                         etcd_url: str) -> None:
    proc = worker("hold", f"map-{api}", etcd_url, m.path, "job", "2")
    try:
        assert first_line(proc).startswith("held")
        os.kill(proc.pid, signal.SIGSTOP)
        with m.lock("job", ttl=10, timeout=15) as lk:
            os.kill(proc.pid, signal.SIGCONT)
            code, out, err = finish(proc)
            assert lk.held
        assert (code, out.split("\n")[:2]) == (0, ["lost signal", "raised LockLost"]), err
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
            finish(proc)


def test_bad_input(m: etcdmap.EtcdMap) -> None:
    for name in ("", "a/b", ".."):
        with pytest.raises(ValueError):
            m.lock(name)
    with pytest.raises(TypeError):
        m.lock(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl must be 1 to"):
        m.lock("x", ttl=0)
    with pytest.raises(ValueError, match="timeout must be positive"):
        m.lock("x", timeout=-1)
    lk = m.lock("x", ttl=10)
    with lk, pytest.raises(RuntimeError, match="already held"):
        lk.acquire()


def test_the_memory_backend_runs_the_recipe(run_threads: Callable[..., list[BaseException]]) -> None:
    m = etcdmap.EtcdMap(etcdmap.MemoryBackend(), "/app")
    inside: list[int] = []
    overlaps: list[int] = []

    def work(n: int) -> None:
        for _ in range(3):
            with m.lock("job", ttl=10, timeout=20) as lk:
                assert lk.held
                inside.append(n)
                if len(inside) > 1:
                    overlaps.append(n)
                threading.Event().wait(0.002)
                inside.remove(n)

    assert run_threads(work, 3, timeout=60) == []
    assert overlaps == [] and list(m) == []
