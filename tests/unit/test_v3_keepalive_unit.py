"""The lease keep-alive's loss rules without a server: no refresh through for a whole TTL
(every member unreachable) is a lost lease, and a refresh answered without a TTL is one --
here on the lease stream's fallback (the scripted peer refuses the WebSocket upgrade, so each
renewal is one POST); tests/unit/test_lease_stream_unit.py has them on the WebSocket."""

from __future__ import annotations

import threading
import time

from etcdmap.errors import ClusterError, LeaseLost, LeaseNotFound
from etcdmap.v3 import Client
from tests.unit.scripted import ScriptedServer, ok

NO_UPGRADE = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
"""The answer to the upgrade of a server without the WebSocket route."""
RENEWAL = ["GET /v3/lease/keepalive HTTP/1.1", "POST /v3/lease/keepalive HTTP/1.1"]
"""The upgrade asked, refused, then the renewal posted."""


def test_no_refresh_through_for_a_whole_ttl_is_a_lost_lease() -> None:
    lost = threading.Event()
    with Client(["http://127.0.0.1:9", "http://127.0.0.1:19"], timeout=1) as dead:
        start = time.monotonic()
        ka = dead.lease.keep_alive(123, 1, on_lost=lambda _: lost.set())
        assert lost.wait(5)
        assert time.monotonic() - start >= 0.9  # not before the TTL ran out
        assert isinstance(ka.error, LeaseLost) and not ka.alive
        assert "no keep-alive reached etcd for its whole TTL" in str(ka.error)
        assert isinstance(ka.error.__cause__, ClusterError)
        ka.stop()


def test_an_answer_without_ttl_is_a_lost_lease() -> None:
    answer = ok(b'{"result":{"header":{"revision":"3"},"ID":"123"}}\n')
    lost = threading.Event()
    with ScriptedServer([NO_UPGRADE, answer]) as server, Client(server.url) as client:
        ka = client.lease.keep_alive(123, 30, on_lost=lambda _: lost.set())
        assert lost.wait(5)
        assert isinstance(ka.error, LeaseLost) and ka.error.lease_id == 123
        assert isinstance(ka.error.__cause__, LeaseNotFound)
        assert server.targets == RENEWAL  # refreshed at once
        assert client.backend.streams.leases().mode == "http"


def test_a_failing_on_lost_callback_is_logged_not_raised() -> None:
    answer = ok(b'{"result":{"ID":"7"}}\n')

    called = threading.Event()

    def boom(_: BaseException) -> None:
        called.set()
        raise RuntimeError("callback bug")

    with ScriptedServer([NO_UPGRADE, answer]) as server, Client(server.url) as client:
        ka = client.lease.keep_alive(7, 30, on_lost=boom)
        assert called.wait(5)
        assert isinstance(ka.error, LeaseLost)
        assert "lost" in repr(ka)
