"""Lease keep-alives on one WebSocket per member against real etcd: many leases on the hub's
timers (no thread per lease), a lost lease reported, the fallback to one POST per renewal, and
the map's kept-alive keys on v2 and v3 without a thread per key."""

from __future__ import annotations

import os
import threading
import time

import pytest
import requests
from apis import client_for

from etcdmap import EtcdMap
from etcdmap.errors import LeaseLost
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client
from etcdmap.v3.errors import LeaseNotFound


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_held_locks_and_kept_leases_cost_no_thread_each(etcd_server: EtcdServer,
                                                        etcd_prefix: str) -> None:
    threads, fds = threading.active_count(), _fds()
    with Client(etcd_server.client_url, request_timeout=1.0) as c:
        locks = [c.lock(f"{etcd_prefix}/lock{i}", ttl=2) for i in range(40)]
        for lk in locks:
            lk.acquire()
        kept = [c.lease.keep_alive(grant.id, grant.ttl)
                for grant in (c.lease.grant(2) for _ in range(40))]
        time.sleep(3.5)  # past the TTL: only the renewals keep them
        more_threads, more_fds = threading.active_count() - threads, _fds() - fds
        assert all(lk.held and not lk.lost for lk in locks)
        assert all(ka.alive and ka.refreshes >= 3 for ka in kept)
        assert all(c.lease.time_to_live(ka.lease_id).ttl > 0 for ka in kept)
        assert c.backend.streams.leases().mode == "websocket"
        assert more_threads <= 8, _threads()  # the hub's: I/O, workers, dispatchers
        assert more_fds <= 8  # a pooled connection, the lease socket, the hub's wake-up pair
        for lk in locks:
            lk.release()
        for ka in kept:
            ka.stop(revoke=True)
    print(f"80 kept leases (40 held locks): +{more_threads} threads, +{more_fds} fds")


def test_many_leases_stay_alive_on_one_socket(etcd_server: EtcdServer) -> None:
    before = threading.active_count()
    with Client(etcd_server.client_url, request_timeout=1.0) as c:
        leases = [c.lease.grant(2).id for _ in range(30)]
        stream = c.backend.streams.leases()
        keepers = [stream.keep(lease, 2) for lease in leases]
        time.sleep(3.5)  # past the TTL: only the renewals keep them
        assert all(k.alive and k.error is None for k in keepers)
        assert all(c.lease.time_to_live(lease).ttl > 0 for lease in leases)
        assert all(k.refreshes >= 3 for k in keepers)
        assert stream.mode == "websocket"
        assert threading.active_count() - before <= 8
        for k in keepers:
            k.stop(revoke=True)
        assert all(c.lease.time_to_live(lease).ttl == -1 for lease in leases)


def test_a_lost_lease_is_reported(etcd_server: EtcdServer) -> None:
    lost: list[BaseException] = []
    told = threading.Event()

    def on_lost(error: BaseException) -> None:
        lost.append(error)
        told.set()

    with Client(etcd_server.client_url, request_timeout=1.0) as c:
        lease = c.lease.grant(3).id
        with pytest.raises(LeaseLost) as info, \
                c.backend.streams.leases().keep(lease, 3, on_lost=on_lost) as keeper:
            c.lease.revoke(lease)  # from elsewhere: the next renewal finds it gone
            assert told.wait(5)
            assert not keeper.alive and lost == [keeper.error]
        assert info.value is lost[0] and isinstance(info.value.__cause__, LeaseNotFound)


def test_a_session_that_cannot_hand_over_its_socket_posts_each_renewal(
    etcd_server: EtcdServer,
) -> None:
    with Client(etcd_server.client_url, session=requests.Session(), request_timeout=1.0) as c:
        lease = c.lease.grant(2).id
        stream = c.backend.streams.leases()
        with stream.keep(lease, 2) as keeper:
            time.sleep(3)
            assert keeper.alive and c.lease.time_to_live(lease).ttl > 0
        assert stream.mode == "http"


def test_kept_alive_keys_cost_no_thread_each(
    etcd_server: EtcdServer, etcd_prefix: str, api: str
) -> None:
    with client_for(api, etcd_server.client_url, request_timeout=1.0) as c:
        m = EtcdMap(c, etcd_prefix)
        for i in range(20):
            m.set(f"k{i}", "v", ttl=2)
        keeps = [m.keep_alive(f"k{i}", 2) for i in range(20)]
        for ka in keeps:
            ka.start()
        try:
            assert not any(name.startswith("etcdmap-keepalive") for name in _threads())
            time.sleep(3)
            assert all(ka.alive for ka in keeps)
            assert sorted(m) == sorted(f"k{i}" for i in range(20))
            assert all(ka.refreshes >= 3 for ka in keeps)
        finally:
            for ka in keeps:
                ka.stop()
