"""etcdmap.v3 leases against a real etcd 3.5: grant, time to live, keep-alive, revoke, expiry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from etcdmap.v3 import Client
from etcdmap.v3 import errors as e


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=5.0) as c:
        yield c


def test_grant_ttl_keys_keepalive_and_revoke(v3: Client, etcd_prefix: str) -> None:
    lease = v3.lease.grant(30)
    assert lease.ttl == 30 and lease.id > 0
    assert lease.id in v3.lease.leases()
    v3.kv.put(f"{etcd_prefix}/a", "1", lease=lease.id)
    v3.kv.put(f"{etcd_prefix}/b", "2", lease=lease.id)
    assert v3.kv.range(f"{etcd_prefix}/a").kvs[0].lease == lease.id
    ttl = v3.lease.time_to_live(lease.id, keys=True)
    assert 0 < ttl.ttl <= 30 and ttl.granted_ttl == 30
    assert sorted(ttl.keys) == [f"{etcd_prefix}/a".encode(), f"{etcd_prefix}/b".encode()]
    assert v3.lease.time_to_live(lease.id).keys == ()
    refreshed = v3.lease.keepalive_once(lease.id)
    assert refreshed.id == lease.id and refreshed.ttl == 30
    header = v3.lease.revoke(lease.id)
    gone = v3.kv.range(f"{etcd_prefix}/", prefix=True)
    assert gone.count == 0 and gone.header.revision == header.revision  # one revision
    assert v3.lease.time_to_live(lease.id).ttl == -1
    assert v3.lease.keepalive_once(lease.id).ttl == 0  # gone: not an error, as etcd says it
    with pytest.raises(e.LeaseNotFound) as info:
        v3.lease.revoke(lease.id)
    assert isinstance(info.value, KeyError) and "lease not found" in str(info.value)


def test_client_chosen_id_and_minimum_ttl(v3: Client) -> None:
    lease_id = 0x7E7E_0000_0000 + (id(v3) & 0xFFFF)
    granted = v3.lease.grant(1, lease_id=lease_id)
    try:
        assert granted.id == lease_id and granted.ttl >= 1
        with pytest.raises(e.LeaseExists):
            v3.lease.grant(30, lease_id=lease_id)
    finally:
        v3.lease.revoke(lease_id)


def test_expiry_deletes_the_keys_as_delete_events(v3: Client, etcd_prefix: str) -> None:
    lease = v3.lease.grant(2)
    v3.kv.put(f"{etcd_prefix}/x", "v", lease=lease.id)
    rev = v3.kv.put(f"{etcd_prefix}/y", "v", lease=lease.id).header.revision
    watcher = v3.watch(f"{etcd_prefix}/", prefix=True, prev_kv=True, start_revision=rev + 1,
                       read_timeout=10)
    try:
        events = iter(watcher)
        first, second = next(events), next(events)  # etcd expires the lease in ~2-3 s
        assert (first.type, second.type) == ("DELETE", "DELETE")
        assert first.revision == second.revision
        assert first.prev_kv is not None and first.prev_kv.lease == lease.id
    finally:
        watcher.close()
    assert v3.lease.time_to_live(lease.id).ttl == -1


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.lease.grant(0), ValueError),
        (lambda c: c.lease.grant(9_000_000_001), ValueError),
        (lambda c: c.lease.grant(1.5), TypeError),
        (lambda c: c.lease.grant(True), TypeError),
        (lambda c: c.lease.revoke("1"), TypeError),
        (lambda c: c.lease.time_to_live(5, keys="yes"), TypeError),
        (lambda c: c.lease.keepalive_once(0), ValueError),
    ],
)
def test_bad_lease_arguments(v3: Client, call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(v3)  # type: ignore[operator]
