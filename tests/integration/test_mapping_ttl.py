"""EtcdMap's TTL helpers on a real etcd, on the v2 and the v3 API (the ``api`` fixture):
expiry of keys and trees, ttl(), refresh (v2: without events; v3: the same lease kept alive, or
a new one), keep_alive.

etcd expires keys on the leader's 500 ms tick (v2) or when a lease runs out (v3, whose shortest
lease is about 2 s), so expiry is polled with a deadline; the only waiting is for real time to
pass where the test is about time passing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from apis import AnyClient, client_for, only

from etcdmap import Client, EtcdMap
from etcdmap.errors import DirectoryTTLUnsupported, KeyNotFound
from etcdmap.testing import etcd_version
from etcdmap.v3 import Client as V3Client


@pytest.fixture
def client(api: str, etcd_url: str) -> Iterator[AnyClient]:
    """The client of the test's API; the ``m`` fixture of conftest.py maps through it."""
    with client_for(api, etcd_url, timeout=5.0) as c:
        yield c


def wait_until(condition: Callable[[], bool], timeout: float = 6.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_key_with_ttl_disappears(m: EtcdMap) -> None:
    m.set("k", "v", ttl=1)
    m["permanent"] = "p"
    assert m["k"] == "v"
    assert wait_until(lambda: "k" not in m)
    assert m == {"permanent": "p"}


def test_ttl_reports_remaining_seconds(m: EtcdMap) -> None:
    m.set("k", "v", ttl=100)
    m["p"] = "v"
    remaining = m.ttl("k")
    assert remaining is not None
    assert 98 <= remaining <= 100
    assert m.ttl("p") is None
    with pytest.raises(KeyNotFound):
        m.ttl("missing")


def test_write_without_ttl_makes_the_key_permanent(m: EtcdMap) -> None:
    m.set("k", "v", ttl=100)
    m["k"] = "w"
    assert m.ttl("k") is None


def test_invalid_ttl_writes_nothing(m: EtcdMap) -> None:
    bad_ttls: list[Any] = [0, -1, 1.5]
    for bad in bad_ttls:
        with pytest.raises(ValueError, match="ttl"):
            m.set("k", {"a": "1"}, ttl=bad)
        with pytest.raises(ValueError, match="ttl"):
            m.set("k", "v", ttl=bad)
    assert "k" not in m


def test_directory_with_ttl_expires_with_its_children(m: EtcdMap) -> None:
    m.set("d", {"a": "1", "b": {"c": "2"}}, ttl=1)
    assert m["d"] == {"a": "1", "b": {"c": "2"}}
    assert m["d"]["b"]["c"] == "2"
    assert m.ttl("d") is not None and m.node("d").ttl is not None
    assert wait_until(lambda: "d" not in m)
    assert m.to_dict() == {}


def test_mkdir_with_ttl(api: str, m: EtcdMap) -> None:
    """``mkdir(k, ttl=)`` puts the TTL on the directory: on v2 the keys written below it later
    expire with it; on v3 the TTL is the lease of the directory's marker only, and they stay
    (README, "etcd v3")."""
    d = m.mkdir("d", ttl=1)
    d["x"] = "1"
    assert m.ttl("d") is not None
    if api == "v2":
        assert wait_until(lambda: "d" not in m)
    else:
        assert wait_until(lambda: m.ttl("d") is None)
        assert m.to_dict() == {"d": {"x": "1"}}


def test_mkdir_with_ttl_and_append_with_ttl(m: EtcdMap) -> None:
    d = m.mkdir("tmp", ttl=30)
    assert m.node("tmp").dir and 28 <= (m.ttl("tmp") or 0) <= 30
    name = d.append("job", ttl=30)
    assert 28 <= (d.ttl(name) or 0) <= 30


@only("v2")
def test_refresh_keeps_value_and_created_index_and_sends_no_event(
    client: Client, m: EtcdMap
) -> None:
    before = m.set("k", "v", ttl=5)
    refreshed = m.refresh("k", 100)
    assert refreshed.created_index == before.created_index
    assert refreshed.modified_index > before.modified_index
    assert m["k"] == "v"
    remaining = m.ttl("k")
    assert remaining is not None
    assert remaining > 90
    # A watcher started before the refresh must skip it (etcd flags refresh events and
    # never delivers them): the next event it sees is the write made after the refresh.
    watcher = client.keys.watcher(f"{m.path}/k", after_index=before.modified_index)
    m["k"] = "after"
    event = watcher.next(timeout=5)
    assert event.action == "set"
    assert event.node is not None
    assert event.node.value == "after"
    assert event.node.modified_index > refreshed.modified_index


def test_refresh_of_a_missing_key(m: EtcdMap) -> None:
    with pytest.raises(KeyNotFound):
        m.refresh("missing", 10)
    assert "missing" not in m


@only("v2")
def test_directory_ttl_refresh_is_a_clear_error_on_35(m: EtcdMap) -> None:
    if etcd_version()[:2] != (3, 5):
        pytest.skip("the directory-TTL regression is specific to etcd 3.5")
    m.mkdir("d", ttl=100)
    with pytest.raises(DirectoryTTLUnsupported, match="set the TTL when creating") as info:
        m.refresh("d", 10)
    assert info.value.code == 300
    with pytest.raises(DirectoryTTLUnsupported), m.keep_alive("d", 10):
        pytest.fail("keep_alive on a directory must fail when entered")


def test_keep_alive_keeps_a_key_past_several_ttls(m: EtcdMap) -> None:
    m.set("lease", "me", ttl=1)
    with m.keep_alive("lease", 1, interval=0.25) as ka:
        deadline = time.monotonic() + 3.0  # three TTLs
        while time.monotonic() < deadline:
            assert m["lease"] == "me"
            assert ka.alive
            time.sleep(0.2)
        assert ka.refreshes >= 8
    assert not ka.alive
    assert ka.error is None
    assert wait_until(lambda: "lease" not in m)


def test_keep_alive_of_a_missing_key_fails_on_entry(m: EtcdMap) -> None:
    with pytest.raises(KeyNotFound), m.keep_alive("missing", 5):
        pytest.fail("entered a keep-alive of a missing key")


def test_keep_alive_reports_a_lost_key(client: AnyClient, m: EtcdMap) -> None:
    m.set("lease", "me", ttl=5)
    lease = _lease(client, f"{m.path}/lease") if isinstance(client, V3Client) else 0
    failed = threading.Event()
    errors: list[BaseException] = []

    def on_error(exc: BaseException) -> None:
        errors.append(exc)
        failed.set()

    ka = m.keep_alive("lease", 5, interval=0.1, on_error=on_error)
    with pytest.raises(KeyNotFound), ka:  # noqa: PT012 - the failure surfaces on exit
        if isinstance(client, V3Client):
            client.lease.revoke(lease)  # the key goes with it (deleting the key alone would
            # leave its lease, which the keep-alive renews: README, "etcd v3")
        else:
            del m["lease"]
        assert failed.wait(5)
        assert not ka.alive
    assert isinstance(ka.error, KeyNotFound)
    assert errors == [ka.error]


def test_keep_alive_validates_its_arguments(m: EtcdMap) -> None:
    with pytest.raises(ValueError, match="ttl"):
        m.keep_alive("k", 0)
    with pytest.raises(ValueError, match="interval"):
        m.keep_alive("k", 3, interval=3)
    with pytest.raises(ValueError, match="'/'"):
        m.keep_alive("a/b", 3)


def test_ttl_and_refresh_are_current_with_a_read_cache(
    client: AnyClient, etcd_prefix: str
) -> None:
    cached = EtcdMap(client, etcd_prefix, cache={})
    cached.set("k", "v", ttl=100)
    assert cached["k"] == "v"  # now cached
    EtcdMap(client, etcd_prefix).set("k", "v", ttl=1000)  # another writer changes the TTL
    remaining = cached.ttl("k")
    assert remaining is not None
    assert remaining > 900
    cached.refresh("k", 50)
    remaining = cached.ttl("k")
    assert remaining is not None
    assert remaining <= 50


def _lease(v3: V3Client, key: str) -> int:
    return v3.kv.range(key).kvs[0].lease


@only("v3")
def test_set_with_ttl_grants_a_lease(client: V3Client, m: EtcdMap) -> None:
    node = m.set("k", "v", ttl=30)
    assert node.ttl == 30
    lease = _lease(client, f"{m.path}/k")
    assert lease and client.lease.time_to_live(lease).granted_ttl == 30
    assert 28 <= (m.ttl("k") or 0) <= 30
    m["k"] = "w"  # a write without ttl makes the key permanent, as on v2
    assert m.ttl("k") is None and _lease(client, f"{m.path}/k") == 0


@only("v3")
def test_refresh_with_the_same_ttl_keeps_the_lease_alive(client: V3Client, m: EtcdMap) -> None:
    m.set("k", "v", ttl=10)
    key = f"{m.path}/k"
    lease, mod = _lease(client, key), client.kv.range(key).kvs[0].mod_revision
    m.refresh("k", 10)
    kv = client.kv.range(key).kvs[0]
    assert (kv.lease, kv.mod_revision) == (lease, mod)  # no write, no event
    m.refresh("k", 20)  # another TTL: a new lease, the same value
    kv = client.kv.range(key).kvs[0]
    assert kv.lease != lease and kv.value_text == "v" and kv.mod_revision > mod
    assert 18 <= (m.ttl("k") or 0) <= 20
