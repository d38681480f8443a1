"""Every error code a 3.x server produces, mapped to its class with code/message/cause/index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from etcdmap.errors import (
    CompareFailed,
    DirectoryNotEmpty,
    DirectoryTTLUnsupported,
    EtcdError,
    IndexNaN,
    InvalidField,
    InvalidForm,
    KeyNotFound,
    NodeExists,
    NotADirectory,
    NotAFile,
    PrevValueRequired,
    RaftInternal,
    RefreshTTLRequired,
    RefreshValue,
    RootReadOnly,
    TTLNaN,
)
from etcdmap.testing import EtcdServer
from etcdmap.v2 import wire as _wire
from etcdmap.v2.client import Client


@pytest.fixture
def client(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=10.0) as c:
        yield c


def _raw(client: Client, method: str, path: str, **kwargs: object) -> None:
    """Send a request the keys API refuses to build, and decode the answer like it does."""
    res = client.transport.request(method, path, **kwargs)  # type: ignore[arg-type]
    _wire.decode_response(res.status, res.headers, res.body, res.endpoint)


def test_100_key_not_found(client: Client, etcd_prefix: str) -> None:
    current = client.keys.set(etcd_prefix + "/x", "1").index
    with pytest.raises(KeyNotFound) as info:
        client.keys.get(etcd_prefix + "/missing")
    err = info.value
    assert (err.code, err.message, err.cause) == (100, "Key not found", etcd_prefix + "/missing")
    assert err.index >= current
    assert isinstance(err, KeyError)
    assert str(err).startswith("100: Key not found (")


def test_101_compare_failed(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/k"
    index = client.keys.set(key, "v").index
    with pytest.raises(CompareFailed) as info:
        client.keys.set(key, "w", prev_value="bad", prev_index=index + 10)
    assert info.value.code == 101
    assert info.value.cause == f"[bad != v] [{index + 10} != {index}]"
    with pytest.raises(CompareFailed):
        client.keys.delete(key, prev_value="bad")


def test_102_not_a_file(client: Client, etcd_prefix: str) -> None:
    client.keys.mkdir(etcd_prefix + "/d")
    with pytest.raises(NotAFile) as info:
        client.keys.set(etcd_prefix + "/d", "v")
    assert info.value.code == 102
    with pytest.raises(NotAFile):
        client.keys.delete(etcd_prefix + "/d", prev_value="x")


def test_104_not_a_directory(client: Client, etcd_prefix: str) -> None:
    client.keys.set(etcd_prefix + "/file", "v")
    with pytest.raises(NotADirectory) as info:
        client.keys.set(etcd_prefix + "/file/child", "v")
    assert info.value.code == 104
    assert info.value.cause == etcd_prefix + "/file"
    with pytest.raises(NotADirectory):
        client.keys.create_in_order(etcd_prefix + "/file", "v")


def test_105_node_exists(client: Client, etcd_prefix: str) -> None:
    client.keys.create(etcd_prefix + "/c", "v")
    with pytest.raises(NodeExists) as info:
        client.keys.set(etcd_prefix + "/c", "v", prev_exist=False)
    assert (info.value.code, info.value.message) == (105, "Key already exists")


def test_107_root_read_only(client: Client) -> None:
    with pytest.raises(RootReadOnly) as info:
        client.keys.delete("/", recursive=True)
    assert (info.value.code, info.value.cause) == (107, "/")
    with pytest.raises(RootReadOnly):
        client.keys.set("/", "v")


def test_108_directory_not_empty(client: Client, etcd_prefix: str) -> None:
    client.keys.set(etcd_prefix + "/d/child", "v")
    with pytest.raises(DirectoryNotEmpty) as info:
        client.keys.delete(etcd_prefix + "/d", dir=True)
    assert info.value.code == 108


def test_201_empty_prev_value_is_never_a_plain_set(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/k"
    client.keys.set(key, "v")
    with pytest.raises(PrevValueRequired) as info:
        client.keys.set(key, "w", prev_value="")
    assert isinstance(info.value, ValueError)
    assert (info.value.code, info.value.cause, info.value.index) == (
        201, '"prevValue" cannot be empty', 0,
    )
    assert client.keys.get(key).node.value == "v"  # type: ignore[union-attr]


def test_202_203_209_210_request_errors(client: Client, etcd_prefix: str) -> None:
    path = _wire.key_path(etcd_prefix + "/r")
    with pytest.raises(TTLNaN) as ttl:
        _raw(client, "PUT", path, form={"value": "v", "ttl": "abc"})
    assert (ttl.value.code, ttl.value.cause) == (202, 'invalid value for "ttl"')
    with pytest.raises(IndexNaN) as index:
        _raw(client, "PUT", path, params=[("prevIndex", "x")], form={"value": "v"})
    assert index.value.code == 203
    with pytest.raises(InvalidField) as field:
        _raw(client, "GET", path, params=[("recursive", "maybe")])
    assert field.value.code == 209
    with pytest.raises(InvalidForm) as form:
        _raw(client, "GET", path + "?a=%zz")
    assert form.value.code == 210
    assert "invalid URL escape" in form.value.cause


def test_211_212_refresh_errors(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/ref"
    client.keys.set(key, "v", ttl=30)
    with pytest.raises(RefreshValue) as value:
        client.keys.set(key, "new", ttl=30, refresh=True)
    assert value.value.code == 211
    with pytest.raises(RefreshTTLRequired) as ttl:
        client.keys.set(key, "", refresh=True)
    assert ttl.value.code == 212


def test_300_directory_ttl_on_35(client: Client, etcd_prefix: str, etcd_server: EtcdServer) -> None:
    d = etcd_prefix + "/dttl"
    client.keys.mkdir(d, ttl=30)
    if etcd_server.version[:2] != (3, 5):
        assert client.keys.refresh(d, 60).node.ttl == 60  # type: ignore[union-attr]
        return
    with pytest.raises(DirectoryTTLUnsupported) as info:
        client.keys.refresh(d, 60)
    err = info.value
    assert isinstance(err, RaftInternal)
    assert err.code == 300
    assert "Not a file" in err.cause
    # a non-idempotent update gets the same clear error, not an ambiguity
    with pytest.raises(DirectoryTTLUnsupported):
        client.keys.set(d, "", dir=True, ttl=60, prev_exist=True)


def test_errors_keep_their_class_through_pickle(client: Client, etcd_prefix: str) -> None:
    import pickle

    with pytest.raises(EtcdError) as info:
        client.keys.get(etcd_prefix + "/nope")
    clone = pickle.loads(pickle.dumps(info.value))
    assert type(clone) is KeyNotFound
    assert (clone.code, clone.cause, clone.index) == (100, info.value.cause, info.value.index)
