"""The lease keep-alive stream (etcdmap.v3.lease_stream) against scripted loopback WebSocket
servers: a member that stops answering is left before the TTL runs out, a lease etcd no longer
has is reported lost, renewals share one socket."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from ws_fake import FakeWebSocketServer, Peer

from etcdmap.errors import ClusterError, LeaseLost
from etcdmap.http.hub import StreamHub
from etcdmap.v3 import Client
from etcdmap.v3.errors import LeaseNotFound
from etcdmap.v3.lease_stream import LeaseStream

H = {"cluster_id": "1", "member_id": "2", "revision": "7", "raft_term": "2"}


def renewing(ttl: int) -> object:
    def script(peer: Peer, text: str) -> None:
        lease = json.loads(text)["ID"]
        result = {"header": H, "ID": lease, **({"TTL": str(ttl)} if ttl else {})}
        peer.text(json.dumps({"result": result}))

    return script


def silent(_peer: Peer, _text: str) -> None:
    """A frozen member: takes the renewals, answers none."""


@pytest.fixture
def hub() -> Iterator[StreamHub]:
    h = StreamHub(name="t-lease")
    yield h
    h.close()


def test_renewals_of_many_leases_share_one_socket(hub: StreamHub) -> None:
    with FakeWebSocketServer(renewing(2)) as server, Client(server.url, timeout=2.0) as c:
        stream = LeaseStream(c, hub)
        keepers = [stream.keep(lease, 1) for lease in range(1, 11)]
        assert server.wait(lambda: len(server.messages) >= 30)
        assert len(server.upgrades) == 1 and server.upgrades[0][0] == "/v3/lease/keepalive"
        assert all(k.alive and k.refreshes >= 2 for k in keepers)
        assert {json.loads(m)["ID"] for m in server.messages} == {str(i) for i in range(1, 11)}
        for k in keepers:
            k.stop()


def test_a_silent_member_is_left_before_the_ttl_runs_out(hub: StreamHub) -> None:
    with FakeWebSocketServer(silent) as frozen, FakeWebSocketServer(renewing(3)) as healthy, \
            Client([frozen.url, healthy.url], timeout=2.0, request_timeout=0.3) as c:
        c.transport.pin(frozen.url)
        lost: list[BaseException] = []
        keeper = LeaseStream(c, hub).keep(7, 3, on_lost=lost.append)
        assert healthy.wait(lambda: len(healthy.messages) >= 1, 3)
        assert frozen.messages  # it was asked first
        assert keeper.alive and not lost
        keeper.stop()


def test_a_lease_etcd_no_longer_has_is_lost(hub: StreamHub) -> None:
    told = threading.Event()
    lost: list[BaseException] = []

    def on_lost(error: BaseException) -> None:
        lost.append(error)
        told.set()

    with FakeWebSocketServer(renewing(0)) as server, Client(server.url, timeout=2.0) as c:
        keeper = LeaseStream(c, hub).keep(9, 3, on_lost=on_lost)
        assert told.wait(3)
        assert isinstance(keeper.error, LeaseLost) and not keeper.alive
        assert lost == [keeper.error] and isinstance(keeper.error.__cause__, LeaseNotFound)


def test_no_member_answering_loses_the_lease_once_its_ttl_ran_out(hub: StreamHub) -> None:
    with FakeWebSocketServer(silent) as server, \
            Client(server.url, timeout=1.0, request_timeout=0.2) as c:
        started = time.monotonic()
        keeper = LeaseStream(c, hub).keep(5, 1)
        deadline = time.monotonic() + 5
        while keeper.alive and time.monotonic() < deadline:
            time.sleep(0.05)  # poll interval: the renewals retry until the TTL is gone
        assert isinstance(keeper.error, LeaseLost)
        assert "no keep-alive reached etcd for its whole TTL" in str(keeper.error)
        assert isinstance(keeper.error.__cause__, ClusterError)  # the last renewal's failure
        assert time.monotonic() - started >= 0.9  # retried for as long as the lease could live
