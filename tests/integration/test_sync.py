"""sync, auto_sync and leader pinning (Selection.PRIORITIZE_LEADER) on a real cluster."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from etcdmap.errors import EtcdMapError
from etcdmap.models import Selection
from etcdmap.testing import EtcdCluster
from etcdmap.v2.client import Client
from etcdmap.v2.models import Response
from etcdmap.v2.sync import AutoSync

pytestmark = pytest.mark.cluster

T = TypeVar("T")


def _eventually(probe: Callable[[], T | None], timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.05)  # polling a real cluster / a background thread


def _value(response: Response) -> str | None:
    assert response.node is not None
    return response.node.value


def _alive(handle: AutoSync) -> bool:
    return handle.running  # a function call: mypy must not narrow the property


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


class _Garbage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>not etcd</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def garbage_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_sync_discovers_every_member(etcd_cluster: EtcdCluster) -> None:
    with Client(etcd_cluster.client_urls[0]) as client:
        assert client.endpoints == [etcd_cluster.client_urls[0]]
        urls = client.sync()
        assert sorted(urls) == sorted(etcd_cluster.client_urls)
        assert sorted(client.endpoints) == sorted(etcd_cluster.client_urls)
        assert client.machines() and sorted(client.machines()) == sorted(etcd_cluster.client_urls)


def test_sync_of_the_same_set_keeps_the_pin(etcd_cluster: EtcdCluster) -> None:
    with Client(etcd_cluster.client_urls) as client:
        pinned, order = client.transport.pinned, client.endpoints
        for _ in range(3):
            client.sync()
            assert client.transport.pinned == pinned
            assert client.endpoints == order


def test_failed_sync_keeps_the_endpoints(garbage_url: str) -> None:
    with Client(garbage_url, timeout=2) as client:
        with pytest.raises(EtcdMapError):
            client.sync()
        assert client.endpoints == [garbage_url]


def test_auto_sync_updates_endpoints_and_stops(etcd_cluster: EtcdCluster) -> None:
    with Client(etcd_cluster.client_urls[1]) as client:
        with client.auto_sync(0.05) as handle:
            assert handle.running
            _eventually(lambda: handle.syncs >= 2)
            assert sorted(client.endpoints) == sorted(etcd_cluster.client_urls)
            assert handle.last_error is None
        assert not _alive(handle)
        done = handle.syncs
        time.sleep(0.2)  # a stopped loop does not sync any more
        assert handle.syncs == done


def test_auto_sync_survives_failures_and_logs_them(
    etcd_cluster: EtcdCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="etcdmap.sync")
    with Client(_dead_url(), timeout=0.5) as client:
        handle = client.auto_sync(0.02)
        try:
            _eventually(lambda: handle.failures >= 2)
            assert handle.running and handle.last_error is not None
            failures = [r for r in caplog.records if r.name == "etcdmap.sync"]
            assert failures and failures[0].levelno == logging.WARNING
            # Once the cluster is reachable again the loop recovers by itself.
            client.set_endpoints(etcd_cluster.client_urls[:1])
            _eventually(lambda: handle.syncs >= 1 and handle.last_error is None)
            assert sorted(client.endpoints) == sorted(etcd_cluster.client_urls)
        finally:
            handle.stop()
        assert not _alive(handle)
    with pytest.raises(ValueError, match="interval"):
        client.auto_sync(0)


def test_close_stops_auto_sync(etcd_cluster: EtcdCluster) -> None:
    client = Client(etcd_cluster.client_urls)
    handle = client.auto_sync(0.05)
    client.close()
    assert not handle.running


def test_prioritize_leader_pins_and_follows_the_leader(etcd_cluster: EtcdCluster) -> None:
    leader = etcd_cluster.wait_for_leader()
    follower = next(m for m in etcd_cluster.members if m is not leader)
    client = Client(
        follower.client_url,
        selection=Selection.PRIORITIZE_LEADER,
        timeout=10,
        request_timeout=2,
    )
    try:
        client.sync()
        assert sorted(client.endpoints) == sorted(etcd_cluster.client_urls)
        assert client.transport.pinned == leader.client_url

        leader.kill()
        # The next call fails over to a live member and triggers a background re-sync.
        client.keys.get("/")
        etcd_cluster.wait_for_leader(timeout=20)

        def follows() -> bool:
            # Compare with the leader of the moment: right after an election leadership
            # can still move once more.
            current = etcd_cluster.leader()
            return current is not None and client.transport.pinned == current.client_url

        _eventually(follows)
        assert client.transport.pinned != leader.client_url
        assert _value(client.keys.set("/t-leader-follow", "ok")) == "ok"
    finally:
        client.close()
        etcd_cluster.ensure_healthy()  # restart the killed member for the next tests
    assert etcd_cluster.leader() is not None
