"""TTLs on the v3 backend: leases per write, ``ttl()``, ``refresh`` (keep-alive of the same
lease, or a new lease), ``keep_alive``, TTLs on trees and directories."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from etcdmap import EtcdMap
from etcdmap.errors import KeyNotFound
from etcdmap.v3 import Client


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=5.0) as c:
        yield c


def _lease(v3: Client, key: str) -> int:
    return v3.kv.range(key).kvs[0].lease


def test_set_with_ttl_grants_a_lease(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    node = m.set("k", "v", ttl=30)
    assert node.ttl == 30
    lease = _lease(v3, f"{etcd_prefix}/k")
    assert lease and v3.lease.time_to_live(lease).granted_ttl == 30
    assert 28 <= m.ttl("k") <= 30
    m["k"] = "w"  # a write without ttl makes the key permanent, as on v2
    assert m.ttl("k") is None and _lease(v3, f"{etcd_prefix}/k") == 0


def test_refresh_with_the_same_ttl_keeps_the_lease_alive(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m.set("k", "v", ttl=10)
    key = f"{etcd_prefix}/k"
    lease, mod = _lease(v3, key), v3.kv.range(key).kvs[0].mod_revision
    m.refresh("k", 10)
    kv = v3.kv.range(key).kvs[0]
    assert (kv.lease, kv.mod_revision) == (lease, mod)  # no write, no event
    m.refresh("k", 20)  # another TTL: a new lease, the same value
    kv = v3.kv.range(key).kvs[0]
    assert kv.lease != lease and kv.value_text == "v" and kv.mod_revision > mod
    assert 18 <= m.ttl("k") <= 20
    with pytest.raises(KeyNotFound):
        m.refresh("nope", 5)


def test_keep_alive_outlives_the_ttl(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m.set("leader", "me", ttl=2)
    with m.keep_alive("leader", 2, interval=0.5) as ka:
        time.sleep(3.5)
        assert ka.alive and m["leader"] == "me"
    deadline = time.monotonic() + 10
    while "leader" in m and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "leader" not in m


def test_a_tree_with_ttl_expires_as_a_whole(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m.set("session", {"user": "u", "data": {"x": "1"}}, ttl=2)
    assert m.node("session").ttl is not None
    assert m["session"]["data"]["x"] == "1"
    deadline = time.monotonic() + 10
    while "session" in m and time.monotonic() < deadline:
        time.sleep(0.2)
    assert m.to_dict() == {}


def test_mkdir_with_ttl_and_create_in_order_with_ttl(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    d = m.mkdir("tmp", ttl=30)
    assert m.node("tmp").dir and 28 <= (m.ttl("tmp") or 0) <= 30
    name = d.append("job", ttl=30)
    assert 28 <= (d.ttl(name) or 0) <= 30
