"""The keys API against a real etcd: every option, the Go README examples, key round trips."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from etcdmap.errors import CompareFailed, KeyNotFound, NodeExists, NotAFile
from etcdmap.models import Node
from etcdmap.v2.client import Client


@pytest.fixture
def client(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=10.0) as c:
        yield c


# --------------------------------------------------------------------------- Go README examples


def test_readme_set_then_get(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/foo"
    resp = client.keys.set(key, "bar")
    assert resp.action == "set"
    got = client.keys.get(key)
    assert got.node is not None
    assert got.node.value == "bar"
    assert f"{got.node.key!r} key has {got.node.value!r} value" == f"'{key}' key has 'bar' value"


def test_readme_create_then_delete_with_prev_value(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/foo"
    assert client.keys.create(key, "bar").action == "create"
    resp = client.keys.delete(key, prev_value="bar")
    assert resp.action == "compareAndDelete"
    assert resp.prev_node is not None
    assert resp.prev_node.value == "bar"
    with pytest.raises(KeyNotFound):
        client.keys.get(key)


def test_readme_directory_listing(client: Client, etcd_prefix: str) -> None:
    d = etcd_prefix + "/myNodes"
    client.keys.set(d, "", dir=True)
    client.keys.set(d + "/key1", "value1")
    client.keys.set(d + "/key2", "value2")
    resp = client.keys.get(d, sort=True)
    assert resp.node is not None and resp.node.dir
    lines = [f"Key: {n.key!r}, Value: {n.value!r}" for n in resp.node.nodes]
    assert lines == [
        f"Key: '{d}/key1', Value: 'value1'",
        f"Key: '{d}/key2', Value: 'value2'",
    ]


# --------------------------------------------------------------------------- get


def test_get_recursive_sorted_and_quorum(client: Client, etcd_prefix: str) -> None:
    for name in ("b/y", "a", "b/x", "c"):
        client.keys.set(f"{etcd_prefix}/{name}", name)
    flat = client.keys.get(etcd_prefix, sort=True)
    assert flat.node is not None
    assert [n.key.rsplit("/", 1)[1] for n in flat.node.nodes] == ["a", "b", "c"]
    assert flat.node.nodes[1].dir and flat.node.nodes[1].nodes == ()
    deep = client.keys.get(etcd_prefix, recursive=True, sort=True, quorum=True)
    assert deep.node is not None
    assert [n.value for n in deep.node.nodes[1].nodes] == ["b/x", "b/y"]
    assert deep.index >= deep.node.nodes[2].modified_index
    assert deep.cluster_id


def test_get_root(client: Client, etcd_prefix: str) -> None:
    client.keys.set(etcd_prefix + "/r", "1")
    for key in ("", "/"):
        root = client.keys.get(key)
        assert root.node is not None
        assert root.node.key == ""
        assert root.node.dir
        assert any(n.key == etcd_prefix for n in root.node.nodes)


# --------------------------------------------------------------------------- set and friends


def test_set_replaces_and_reports_prev_node(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/k"
    first = client.keys.set(key, "1")
    second = client.keys.set(key, "2")
    assert second.prev_node is not None and second.prev_node.value == "1"
    assert first.node is not None and second.node is not None
    assert second.node.modified_index > first.node.modified_index
    assert client.keys.set(key, "").node == Node(
        key=key, value="", created_index=second.index + 1, modified_index=second.index + 1
    )


def test_set_with_ttl_and_expiration(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/ttl"
    before = datetime.now(timezone.utc)
    resp = client.keys.set(key, "v", ttl=100)
    assert resp.node is not None
    assert resp.node.ttl == 100
    assert resp.node.expiration is not None
    assert resp.node.expiration.tzinfo is not None
    assert 95 < (resp.node.expiration - before).total_seconds() < 105
    # any write without ttl makes the key permanent again (node.UpdateTTL in
    # etcd-io/etcd release-3.5:server/etcdserver/api/v2store/node.go)
    plain = client.keys.set(key, "v")
    assert plain.node is not None and plain.node.ttl is None and plain.node.expiration is None


@pytest.mark.parametrize("ttl", [0, -5, 0.5, 2.5, True])
def test_bad_ttls_are_refused_before_sending(client: Client, etcd_prefix: str, ttl: object) -> None:
    key = etcd_prefix + "/bad"
    with pytest.raises(ValueError, match="ttl"):
        client.keys.set(key, "v", ttl=ttl)  # type: ignore[arg-type]
    with pytest.raises(KeyNotFound):
        client.keys.get(key)


def test_value_must_be_a_string(client: Client, etcd_prefix: str) -> None:
    for bad in (1, b"x", None, 1.5):
        with pytest.raises(TypeError):
            client.keys.set(etcd_prefix + "/t", bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.keys.create_in_order(etcd_prefix + "/q", 5)  # type: ignore[arg-type]


def test_create_and_update(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/cu"
    with pytest.raises(KeyNotFound):
        client.keys.update(key, "x")
    created = client.keys.create(key, "1", ttl=50)
    assert created.action == "create"
    with pytest.raises(NodeExists):
        client.keys.create(key, "2")
    updated = client.keys.update(key, "3")
    assert updated.action == "update"
    assert updated.node is not None and created.node is not None
    assert updated.node.created_index == created.node.created_index
    assert updated.node.ttl is None


def test_compare_and_swap(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/cas"
    node = client.keys.set(key, "a").node
    assert node is not None
    with pytest.raises(CompareFailed) as info:
        client.keys.set(key, "b", prev_value="zzz")
    assert info.value.cause == "[zzz != a]"
    with pytest.raises(CompareFailed):
        client.keys.set(key, "b", prev_index=node.modified_index + 100)
    swapped = client.keys.set(key, "b", prev_value="a", prev_index=node.modified_index)
    assert swapped.action == "compareAndSwap"
    assert client.keys.set(key, "c", prev_exist=True, prev_value="b").action == "compareAndSwap"


def test_set_prev_exist_false_and_no_value_on_success(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/nv"
    resp = client.keys.set(key, "x", prev_exist=False, no_value_on_success=True)
    assert (resp.action, resp.node, resp.prev_node) == ("create", None, None)
    assert resp.index > 0
    resp = client.keys.set(key, "y", no_value_on_success=True)
    assert (resp.action, resp.node) == ("set", None)
    assert client.keys.get(key).node.value == "y"  # type: ignore[union-attr]


def test_create_in_order_sorts_in_creation_order(client: Client, etcd_prefix: str) -> None:
    queue = etcd_prefix + "/queue"
    keys = [client.keys.create_in_order(queue, f"job{i}").node.key for i in range(5)]  # type: ignore[union-attr]
    assert all(k.startswith(queue + "/") and len(k.rsplit("/", 1)[1]) == 20 for k in keys)
    listing = client.keys.get(queue, sort=True).node
    assert listing is not None
    assert [n.key for n in listing.nodes] == keys
    assert [n.value for n in listing.nodes] == [f"job{i}" for i in range(5)]
    ttl_job = client.keys.create_in_order(queue, "t", ttl=30).node
    assert ttl_job is not None and ttl_job.ttl == 30


def test_mkdir_and_dir_options(client: Client, etcd_prefix: str) -> None:
    d = etcd_prefix + "/dir"
    made = client.keys.mkdir(d, ttl=60)
    assert made.node is not None and made.node.dir and made.node.ttl == 60
    with pytest.raises(NodeExists):
        client.keys.mkdir(d)
    with pytest.raises(NotAFile):
        client.keys.set(d, "v")
    with pytest.raises(ValueError):
        client.keys.set(d, "value", dir=True)
    with pytest.raises(ValueError):
        client.keys.set(d, "", dir=True, prev_value="x")


def test_refresh_keeps_value_and_extends_ttl(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/refresh"
    created = client.keys.set(key, "keep", ttl=5).node
    refreshed = client.keys.refresh(key, 100)
    assert refreshed.action == "update"
    assert refreshed.node is not None and created is not None
    assert refreshed.node.value == "keep"
    assert refreshed.node.ttl == 100
    assert refreshed.node.created_index == created.created_index
    with pytest.raises(KeyNotFound):
        client.keys.refresh(etcd_prefix + "/missing", 10)
    via_set = client.keys.set(key, "", ttl=50, refresh=True, prev_exist=True)
    assert via_set.node is not None and via_set.node.value == "keep"


# --------------------------------------------------------------------------- delete


def test_delete_variants(client: Client, etcd_prefix: str) -> None:
    d = etcd_prefix + "/del"
    client.keys.set(d + "/a/b", "1")
    client.keys.mkdir(d + "/empty")
    with pytest.raises(NotAFile):
        client.keys.delete(d + "/empty")
    assert client.keys.delete(d + "/empty", dir=True).action == "delete"
    leaf = client.keys.get(d + "/a/b").node
    assert leaf is not None
    with pytest.raises(CompareFailed):
        client.keys.delete(d + "/a/b", prev_index=leaf.modified_index + 1)
    cad = client.keys.delete(d + "/a/b", prev_index=leaf.modified_index)
    assert cad.action == "compareAndDelete"
    assert client.keys.delete(d, recursive=True).prev_node.dir  # type: ignore[union-attr]
    with pytest.raises(KeyNotFound):
        client.keys.delete(d)


# --------------------------------------------------------------------------- key round trips


@pytest.mark.parametrize(
    "name",
    ["a?b", "a#b", "50%", "x%2Fy", "a+b", "a&b=c", "sp ace", "tab\tkey", "ünï cødé", "日本語",
     "emoji-🎉", "quote'\"", "semi;colon:at@", "tilde~dollar$"],
)
def test_key_round_trip(client: Client, etcd_prefix: str, name: str) -> None:
    key = f"{etcd_prefix}/{name}"
    resp = client.keys.set(key, name)
    assert resp.node is not None and resp.node.key == key
    got = client.keys.get(key).node
    assert got is not None
    assert (got.key, got.value) == (key, name)
    listing = client.keys.get(etcd_prefix).node
    assert listing is not None and [n.key for n in listing.nodes] == [key]
    assert client.keys.delete(key).prev_node.value == name  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("written", "stored"),
    [("/x/../y", "/y"), ("//x//y", "/x/y"), ("/x/./y", "/x/y"), ("/trail/", "/trail")],
)
def test_non_canonical_keys_follow_go(client: Client, etcd_prefix: str, written: str, stored: str) -> None:
    resp = client.keys.set(etcd_prefix + written, "v")
    assert resp.node is not None and resp.node.key == etcd_prefix + stored
    got = client.keys.get(etcd_prefix + written).node
    assert got is not None and got.key == etcd_prefix + stored


def test_values_round_trip(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/v"
    for value in ["", "a=b&c=d", "plus+ space", "%2F%zz", "ünï\n\tcode", "x" * 100_000]:
        client.keys.set(key, value)
        assert client.keys.get(key).node.value == value  # type: ignore[union-attr]
    assert client.keys.set(key, "new", prev_value="x" * 100_000).action == "compareAndSwap"


def test_ttl_expires(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/short"
    client.keys.set(key, "v", ttl=1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            client.keys.get(key)
        except KeyNotFound:
            return
        time.sleep(0.1)
    pytest.fail("a 1 s TTL key still exists after 5 s")
