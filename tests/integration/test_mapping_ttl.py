"""EtcdMap's TTL helpers on a real etcd: expiry, ttl(), refresh without events, keep_alive.

etcd expires keys on the leader's 500 ms tick, so expiry is polled with a deadline; the only
waiting is for real time to pass where the test is about time passing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from etcdmap.errors import DirectoryTTLUnsupported, KeyNotFound
from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import etcd_version
from etcdmap.v2.client import Client


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
    assert m.ttl("d") is not None
    assert wait_until(lambda: "d" not in m)


def test_mkdir_with_ttl(m: EtcdMap) -> None:
    d = m.mkdir("d", ttl=1)
    d["x"] = "1"
    assert wait_until(lambda: "d" not in m)


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


def test_keep_alive_reports_a_lost_key(m: EtcdMap) -> None:
    m.set("lease", "me", ttl=5)
    failed = threading.Event()
    errors: list[BaseException] = []

    def on_error(exc: BaseException) -> None:
        errors.append(exc)
        failed.set()

    ka = m.keep_alive("lease", 5, interval=0.1, on_error=on_error)
    with pytest.raises(KeyNotFound), ka:  # noqa: PT012 - the failure surfaces on exit
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


def test_ttl_and_refresh_are_current_with_a_read_cache(client: Client, etcd_prefix: str) -> None:
    cached = EtcdMap(client, etcd_prefix, cache={})
    cached.set("k", "v", ttl=100)
    assert cached["k"] == "v"  # now cached
    client.keys.set(f"{etcd_prefix}/k", "v", ttl=1000)  # another writer changes the TTL
    remaining = cached.ttl("k")
    assert remaining is not None
    assert remaining > 900
    cached.refresh("k", 50)
    remaining = cached.ttl("k")
    assert remaining is not None
    assert remaining <= 50
