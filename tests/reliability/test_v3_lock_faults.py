"""A lock waiter or a candidate waiting with ``timeout=None`` on a member that is SIGSTOPped
(3-member cluster): the wait leaves the frozen member, goes on on a healthy one with a new
lease, leaves no second waiter behind, gets the lock (or the leadership) once it is free, and
keeps it after the frozen member wakes (its stale request does not delete the new key)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from relhelp import restored, wait_until

from etcdmap.testing import EtcdCluster
from etcdmap.v3 import Client

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def _waiters(client: Client, name: str) -> list[tuple[str, int]]:
    """The waiter keys of ``name`` and their leases, oldest first."""
    kvs = client.kv.range(name + "/", prefix=True, sort_order="ASCEND", sort_target="CREATE").kvs
    return [(kv.key_text, kv.lease) for kv in kvs]


@contextmanager
def _in_thread(work: Callable[[], object]) -> Iterator[threading.Event]:
    """Run ``work`` in a thread; the event is set once it returned (errors re-raised)."""
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield done
    thread.join(30)
    if errors:
        raise errors[0]


@pytest.mark.parametrize("kind", ["lock", "campaign"])
def test_a_wait_on_a_frozen_member_moves_and_is_granted(
    etcd_cluster: EtcdCluster, etcd_prefix: str, kind: str
) -> None:
    name = f"{etcd_prefix}/{kind}"
    frozen = etcd_cluster.followers()[0]
    with restored(etcd_cluster), \
            Client(etcd_cluster.client_urls, timeout=5, request_timeout=1) as holder, \
            Client(etcd_cluster.client_urls, timeout=5, request_timeout=1) as waiter:
        holder.transport.pin(next(u for u in etcd_cluster.client_urls if u != frozen.client_url))
        waiter.transport.pin(frozen.client_url)
        first = holder.lock(name, ttl=10) if kind == "lock" else holder.election(name, ttl=10)
        second = waiter.lock(name, ttl=10) if kind == "lock" else waiter.election(name, ttl=10)
        if kind == "lock":
            first.acquire()
        else:
            first.campaign("first")  # type: ignore[union-attr]
        held_key = first.key
        granted = threading.Event()

        def wait() -> None:
            if kind == "lock":
                second.acquire(timeout=None)
            else:
                second.campaign("second", timeout=None)  # type: ignore[union-attr]
            granted.set()

        with _in_thread(wait) as done:
            assert wait_until(lambda: len(_waiters(holder, name)) == 2, 10)
            _, stale_lease = _waiters(holder, name)[1]
            frozen.stop()
            seen: list[list[tuple[str, int]]] = []

            def moved() -> bool:
                now = _waiters(holder, name)
                seen.append(now)
                return len(now) == 2 and now[1][1] != stale_lease

            assert wait_until(moved, 15), seen[-1:]  # a new waiter, on a healthy member
            assert all(len(keys) <= 2 for keys in seen)  # never a second waiter of ours
            assert not done.is_set()  # still waiting: the lock is held
            if kind == "lock":
                first.release()
            else:
                first.resign()
            assert granted.wait(15)
        assert second.key is not None and second.key != held_key
        assert second.key.endswith(f"/{second.lease:x}")
        frozen.cont()
        etcd_cluster.wait_healthy()
        with Client(frozen.client_url, timeout=5) as woken:  # the frozen member caught up
            assert wait_until(lambda: _waiters(woken, name) == [(second.key, second.lease)], 10)
        threading.Event().wait(1.0)  # its stale request had time to clean up after itself
        assert _waiters(holder, name) == [(second.key, second.lease)]
        assert holder.lease.time_to_live(stale_lease).ttl == -1  # the old waiter's lease
        assert not second.lost
        if kind == "lock":
            second.release()
        else:
            second.resign()
        assert _waiters(holder, name) == []
