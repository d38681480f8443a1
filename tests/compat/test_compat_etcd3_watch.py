"""The python-etcd3 drop-in's watches on the etcdmap client's hub: 100 watches cost no thread
and no socket each, and the watches of a client survive the restart of the member that carries
them on a 3-member cluster, every event once and in order, with no error for the callbacks and
no retry loop of the drop-in's own."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

import etcdmap.compat.etcd3 as etcd3
from etcdmap.testing import EtcdCluster, EtcdServer
from etcdmap.v3 import Client as V3Client


def _client(url: str, **options: Any) -> etcd3.Etcd3Client:
    parts = urlsplit(url)
    return etcd3.client(host=parts.hostname, port=parts.port, **options)


class Seen:
    """What the callbacks of several watches received, by watch."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[int, list[Any]] = {}

    def callback(self, n: int) -> Any:
        def receive(response: Any) -> None:
            with self.lock:
                self.items.setdefault(n, []).append(response)

        return receive

    def values(self, n: int) -> list[bytes]:
        with self.lock:
            return [ev.value for r in self.items.get(n, []) for ev in getattr(r, "events", [r])]

    def errors(self) -> list[BaseException]:
        with self.lock:
            return [r for rs in self.items.values() for r in rs if isinstance(r, BaseException)]


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def etcd(etcd_url: str) -> Iterator[etcd3.Etcd3Client]:
    with _client(etcd_url, timeout=5) as client:
        yield client


def test_a_hundred_watches_cost_no_thread_and_no_socket_each(
        etcd: etcd3.Etcd3Client, etcd_prefix: str) -> None:
    etcd.get("warm-up")  # the client's own connection
    threads, fds = threading.active_count(), _fds()
    seen = Seen()
    ids = [etcd.add_watch_callback(f"{etcd_prefix}/k{n}", seen.callback(n)) for n in range(100)]
    more_threads, more_fds = threading.active_count() - threads, _fds() - fds
    for n in range(100):
        etcd.put(f"{etcd_prefix}/k{n}", f"v{n}")
        etcd.put(f"{etcd_prefix}/k{n}", f"w{n}")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(len(seen.values(n)) < 2 for n in range(100)):
        time.sleep(0.05)  # poll interval
    assert all(seen.values(n) == [f"v{n}".encode(), f"w{n}".encode()] for n in range(100))
    assert etcd.etcdmap.backend.watch_mode == "websocket"
    for watch_id in ids:
        etcd.cancel_watch(watch_id)
    print(f"100 python-etcd3 watches: +{more_threads} threads, +{more_fds} fds")
    assert more_threads <= 8  # the client's hub: I/O thread, workers, dispatchers
    assert more_fds <= 6  # the member's watch WebSocket, the hub's wake-up pair


@pytest.mark.cluster
@pytest.mark.slow
def test_watches_survive_a_restart_of_the_member_that_carries_them(
        etcd_cluster: EtcdCluster, etcd_prefix: str) -> None:
    victim = etcd_cluster.followers()[0]
    seen = Seen()
    other = next(url for url in etcd_cluster.client_urls if url != victim.client_url)
    # python-etcd3 talks to one member: its watches wait for it while it is down
    with _client(victim.client_url, timeout=5) as watching, _client(other, timeout=5) as writer:
        ids = [watching.add_watch_prefix_callback(f"{etcd_prefix}/{n}/", seen.callback(n))
               for n in range(20)]
        written = 0

        def write(count: int) -> None:
            nonlocal written
            for _ in range(count):
                writer.put(f"{etcd_prefix}/{written % 20}/k", str(written))
                written += 1

        write(40)
        victim.kill()
        write(40)  # while the member that carried the watches is down
        victim.restart()
        write(40)
        expected = {n: [str(i).encode() for i in range(120) if i % 20 == n] for n in range(20)}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
                seen.values(n) != expected[n] for n in range(20)):
            time.sleep(0.05)  # poll interval
        for watch_id in ids:
            watching.cancel_watch(watch_id)
    assert {n: seen.values(n) for n in range(20)} == expected  # once each, in order
    assert seen.errors() == []


def test_a_watch_etcd_refuses_raises_and_a_permitted_one_works() -> None:
    """python-etcd3 returned a watch that never fired when etcd denied it; here
    ``add_watch_callback`` raises etcd's refusal."""
    with EtcdServer(enable_v2=False) as server:
        with V3Client(server.client_url) as admin:
            admin.auth.user_add("root", "root-pw")
            admin.auth.user_grant_role("root", "root")
            admin.auth.role_add("app")
            admin.auth.role_grant_permission("app", "READWRITE", "app/", prefix=True)
            admin.auth.user_add("alice", "alice-pw")
            admin.auth.user_grant_role("alice", "app")
            admin.auth.enable()
        with _client(server.client_url, timeout=5, user="alice", password="alice-pw") as etcd:
            with pytest.raises(etcd3.exceptions.RpcError, match="PERMISSION_DENIED"):
                etcd.add_watch_callback("secret", print)
            events, cancel = etcd.watch_prefix("app/")
            etcd.put("app/k", "v")
            assert next(events).value == b"v"
            cancel()
