"""client.lease.keep_alive on a real etcd 3.5: a kept-alive lease outlives its TTL; a revoked
one is reported lost (error, on_lost, alive, leaving the with); stop(revoke=True) revokes."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from etcdmap.errors import LeaseLost, LeaseNotFound
from etcdmap.v3 import Client


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url) as c:
        yield c


def test_a_kept_alive_lease_outlives_its_ttl(v3: Client, etcd_prefix: str) -> None:
    lease = v3.lease.grant(2)
    v3.kv.put(etcd_prefix, "held", lease=lease.id)
    with v3.lease.keep_alive(lease.id, lease.ttl) as ka:
        threading.Event().wait(3.5)  # more than the TTL
        assert ka.alive and ka.error is None
        assert v3.lease.time_to_live(lease.id).ttl > 0
        assert v3.kv.get(etcd_prefix) == b"held"
    assert not ka.alive  # stopped
    v3.lease.revoke(lease.id)


def test_a_revoked_lease_is_reported_lost(v3: Client) -> None:
    lease = v3.lease.grant(3)
    seen: list[BaseException] = []
    fired = threading.Event()

    def on_lost(error: BaseException) -> None:
        seen.append(error)
        fired.set()

    ka = v3.lease.keep_alive(lease.id, lease.ttl, on_lost=on_lost)
    with pytest.raises(LeaseLost) as info, ka:
        v3.lease.revoke(lease.id)
        assert fired.wait(5), "on_lost was not called"
    assert seen == [info.value] and ka.error is info.value and not ka.alive
    assert info.value.lease_id == lease.id and "expired or was revoked" in str(info.value)
    assert isinstance(info.value.__cause__, LeaseNotFound)


def test_stop_with_revoke_deletes_the_keys(v3: Client, etcd_prefix: str) -> None:
    lease = v3.lease.grant(30)
    v3.kv.put(etcd_prefix, "x", lease=lease.id)
    ka = v3.lease.keep_alive(lease.id, lease.ttl)
    ka.stop(revoke=True)
    ka.stop(revoke=True)  # idempotent: a lease already gone is fine
    assert v3.lease.time_to_live(lease.id).ttl == -1
    assert v3.kv.get(etcd_prefix) is None
    assert not ka.alive and ka.error is None


def test_bad_arguments(v3: Client) -> None:
    with pytest.raises(ValueError, match="ttl must be >= 1"):
        v3.lease.keep_alive(5, 0)
    with pytest.raises(ValueError, match="lease_id must be >= 1"):
        v3.lease.keep_alive(-1, 5)
    with pytest.raises(TypeError, match="ttl must be an int"):
        v3.lease.keep_alive(5, True)  # type: ignore[arg-type]


def test_closing_the_client_stops_its_keep_alives(etcd_url: str) -> None:
    with Client(etcd_url) as c:
        lease = c.lease.grant(30)
        ka = c.lease.keep_alive(lease.id, lease.ttl)
        assert ka.alive
    assert not ka.alive and ka.error is None  # stopped, not lost
    with Client(etcd_url) as c:
        assert c.lease.time_to_live(lease.id).ttl > 0  # not revoked: it expires by itself
        c.lease.revoke(lease.id)
