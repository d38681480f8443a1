"""etcdmap.compat.etcd beyond python-etcd's own suite: the bugs it does not have (keys cut at
``?``/``#``, watches losing events past etcd's 1,000-event history), the answers it builds,
and ``install()``. Real etcd (v2) throughout."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

import etcdmap.compat.etcd as etcd


@pytest.fixture
def client(etcd_url: str) -> Iterator[etcd.Client]:
    parts = urlsplit(etcd_url)
    assert parts.port is not None
    c = etcd.Client(host=parts.hostname, port=parts.port, read_timeout=5)
    yield c
    c.close()


@pytest.mark.parametrize("name", ["a?b", "a#b", "q?x=1#frag", "sp ace+%2F", "ünï"])
def test_keys_with_query_and_fragment_characters_round_trip(
        client: etcd.Client, etcd_prefix: str, name: str) -> None:
    """python-etcd sent the key raw in the URL: ``a?b`` wrote ``a`` with a query string."""
    key = f"{etcd_prefix}/{name}"
    assert client.write(key, "v").key == key
    assert client.read(key).value == "v"
    assert [r.key for r in client.read(etcd_prefix, recursive=True).leaves] == [key]
    assert client.delete(key).key == key


def test_eternal_watch_loses_nothing_past_etcds_history(
        client: etcd.Client, etcd_prefix: str) -> None:
    """More than 1,000 other events between two pulls of the generator: python-etcd's next
    long poll (waitIndex = last + 1) was out of etcd's history (401, EtcdEventIndexCleared)
    and the events in between were gone; the drop-in's live stream has them all."""
    key = f"{etcd_prefix}/watched"
    index = client.write(key, "1").modifiedIndex
    events = client.eternal_watch(key, index=index)
    assert next(events).value == "1"
    client.write(key, "2")
    for i in range(1100):  # the consumer is slow: it pulls nothing meanwhile
        client.write(f"{etcd_prefix}/other", str(i))
    client.write(key, "3")
    second, third = next(events), next(events)
    assert (second.value, third.value) == ("2", "3")
    assert third.modifiedIndex - second.modifiedIndex == 1101
    events.close()


def test_watch_from_a_cleared_index_raises_the_originals_error(
        client: etcd.Client, etcd_prefix: str) -> None:
    start = client.write(f"{etcd_prefix}/k", "0").modifiedIndex
    for i in range(1010):
        client.write(f"{etcd_prefix}/other", str(i))
    with pytest.raises(etcd.EtcdEventIndexCleared):
        client.watch(f"{etcd_prefix}/k", index=start)
    with pytest.raises(etcd.EtcdEventIndexCleared):
        next(client.eternal_watch(f"{etcd_prefix}/k", index=start))


def test_results_have_the_originals_fields(client: etcd.Client, etcd_prefix: str) -> None:
    key = f"{etcd_prefix}/k"
    created = client.write(key, 5, ttl=60)
    assert (created.action, created.value, created.newKey, created.dir) == ("set", "5", True, False)
    assert created.ttl == 60 and created.expiration.endswith("Z")
    assert created.createdIndex == created.modifiedIndex == created.etcd_index
    updated = client.write(key, "6")
    assert updated.newKey is False and updated._prev_node.value == "5"
    assert client.pop(key).value == "6"
    with pytest.raises(etcd.EtcdKeyNotFound) as info:
        client.read(key)
    assert info.value.payload["errorCode"] == 100 and not isinstance(info.value, KeyError)


def test_update_is_a_compare_and_swap(client: etcd.Client, etcd_prefix: str) -> None:
    key = f"{etcd_prefix}/n"
    client.write(key, 1)
    stale = client.read(key)
    client.write(key, 2)
    stale.value = 3
    with pytest.raises(etcd.EtcdCompareFailed):
        client.update(stale)
    assert client.read(key).value == "2"


def test_a_changed_cluster_id_is_reported(etcd_url: str) -> None:
    port = urlsplit(etcd_url).port
    assert port is not None
    c = etcd.Client(port=port, expected_cluster_id="0000000000000001")
    with pytest.raises(etcd.EtcdClusterIdChanged):
        c.read("/")
    assert c.read("/").dir  # raised once; the new ID is expected from then on


def test_unreachable_member_is_a_connection_failure() -> None:
    c = etcd.Client(port=1, read_timeout=2)
    with pytest.raises(etcd.EtcdConnectionFailed):
        c.read("/x")


def test_install_makes_import_etcd_the_drop_in() -> None:
    code = """
import etcdmap.compat.etcd as drop_in
drop_in.install()
import etcd, etcd.auth, etcd.lock
from etcd.client import Client
assert etcd is drop_in and Client is drop_in.Client and etcd.lock.Lock is drop_in.Lock
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
