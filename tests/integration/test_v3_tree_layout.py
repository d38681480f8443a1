"""The layout of a v2-style tree on v3's flat keys on a real etcd 3.5 (markers, hidden keys,
errors, revisions). The mapping contract itself runs on v3 in ``test_mapping_contract.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from etcdmap import EtcdMap
from etcdmap.backend import Backend, Cond
from etcdmap.errors import (
    CompareFailed,
    KeyNotFound,
    NodeExists,
    NotADirectory,
    NotAFile,
    RootReadOnly,
)
from etcdmap.http.transport import disable_curl_debug, enable_curl_debug
from etcdmap.v3 import Client


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=5.0) as c:
        yield c


def test_the_client_is_a_backend_and_repr_says_v3(v3: Client, etcd_prefix: str) -> None:
    assert isinstance(v3.backend, Backend)
    m = EtcdMap(v3, etcd_prefix)
    assert m.backend is v3.backend and m.client is v3
    assert "api='v3'" in repr(m)
    assert "txn" in v3.backend.capabilities


def test_keys_are_the_paths_and_directories_have_markers(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m["db"] = {"host": "h", "opts": {}}
    keys = [kv.key_text for kv in v3.kv.range(etcd_prefix + "/", prefix=True).kvs]
    p = etcd_prefix
    assert keys == [f"{p}/", f"{p}/db/", f"{p}/db/host", f"{p}/db/opts/"]  # parents too
    assert m.to_dict() == {"db": {"host": "h", "opts": {}}}


def test_a_directory_stays_when_its_last_key_goes(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    sub = EtcdMap(v3, etcd_prefix + "/a/b")
    sub["x"] = "1"  # the parents are made on the way, with markers
    del sub["x"]
    assert m.to_dict() == {"a": {"b": {}}}
    assert m.node("a").dir


def test_keys_written_by_other_v3_clients_read_as_a_tree(v3: Client, etcd_prefix: str) -> None:
    v3.kv.put(f"{etcd_prefix}/svc/a/port", "80")
    v3.kv.put(f"{etcd_prefix}/svc/b", "x")
    m = EtcdMap(v3, etcd_prefix)
    assert m.to_dict() == {"svc": {"a": {"port": "80"}, "b": "x"}}
    assert m["svc"]["a"]["port"] == "80"
    v3.kv.delete(f"{etcd_prefix}/svc/a/port")  # no marker: the directory "a" is gone
    assert m.to_dict() == {"svc": {"b": "x"}}


def test_hidden_keys_are_readable_by_name_and_not_listed(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m["_lock"] = "me"
    m["a"] = {"_h": "1", "v": "2"}
    assert m["_lock"] == "me" and "_lock" in m
    assert list(m) == ["a"] and m.to_dict() == {"a": {"v": "2"}}
    m.clear()
    assert m["_lock"] == "me" and m.to_dict() == {}


def test_backend_errors_are_v2s(v3: Client, etcd_prefix: str) -> None:
    b = v3.backend
    p = etcd_prefix
    b.put(f"{p}/leaf", "1")
    b.put(f"{p}/dir/x", "1")
    with pytest.raises(NotADirectory):
        b.put(f"{p}/leaf/x", "1")
    with pytest.raises(NotAFile):
        b.put(f"{p}/dir", "1")
    with pytest.raises(NodeExists):
        b.put(f"{p}/leaf", "2", cond=Cond(exists=False))
    with pytest.raises(NodeExists):
        b.make_dir(f"{p}/dir", cond=Cond(exists=False))
    with pytest.raises(KeyNotFound):
        b.put(f"{p}/nope", "2", cond=Cond(exists=True))
    with pytest.raises(CompareFailed) as failed:
        b.put(f"{p}/leaf", "2", cond=Cond(value="0"))
    assert failed.value.cause == "[0 != 1]"
    with pytest.raises(NotAFile):
        b.delete(f"{p}/dir")
    with pytest.raises(KeyNotFound) as missing:
        b.delete(f"{p}/nope")
    assert missing.value.index > 0
    with pytest.raises(RootReadOnly):
        b.put("/", "x")
    with pytest.raises(KeyNotFound):
        b.read(f"{p}/nope")


def test_conditions_by_revision_and_value(v3: Client, etcd_prefix: str) -> None:
    b = v3.backend
    key = f"{etcd_prefix}/k"
    node, rev = b.put(key, "1", cond=Cond(exists=False))
    assert node.created_index == node.modified_index == rev
    node2, rev2 = b.put(key, "2", cond=Cond(revision=rev))
    assert node2.created_index == rev and node2.modified_index == rev2 > rev
    with pytest.raises(CompareFailed):
        b.delete(key, cond=Cond(revision=rev))
    b.delete(key, cond=Cond(value="2"))
    with pytest.raises(KeyNotFound):
        b.read(key)


def test_in_order_keys_sort_in_creation_order(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix + "/q")
    names = [m.append(str(i)) for i in range(5)]
    assert names == sorted(names) and all(len(n) == 20 and n.isdigit() for n in names)
    assert [m.popitem()[1] for _ in range(5)] == ["0", "1", "2", "3", "4"]
    EtcdMap(v3, etcd_prefix)["f"] = "leaf"
    with pytest.raises(NotADirectory):
        EtcdMap(v3, etcd_prefix + "/f").append("x")


def test_index_is_the_revision(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m["a"] = "1"
    rev = v3.kv.range(etcd_prefix + "/a").kvs[0].mod_revision
    assert m.index == rev
    assert v3.backend.current_index(etcd_prefix) >= rev


def test_in_order_names_follow_a_greater_existing_name(v3: Client, etcd_prefix: str) -> None:
    v3.kv.put(f"{etcd_prefix}/q/{10**15:020d}", "migrated")  # e.g. from a v2 dump
    name = EtcdMap(v3, etcd_prefix + "/q").append("next")
    assert int(name) == 10**15 + 1


def test_a_leaf_replaces_a_directory_in_one_revision(v3: Client, etcd_prefix: str) -> None:
    m = EtcdMap(v3, etcd_prefix)
    m["k"] = {"x": "1", "y": "2"}
    before = m.index
    m["k"] = "leaf"
    assert m.index == before + 1 and m == {"k": "leaf"}


def _marker_revisions(v3: Client, prefix: str) -> dict[str, int]:
    kvs = v3.kv.range(prefix + "/", prefix=True).kvs
    return {kv.key_text: kv.create_revision for kv in kvs if kv.key_text.endswith("/")}


def _txn_bodies(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The bodies of the /v3/kv/txn calls printed by cURL debugging since the last call."""
    return [line for line in capsys.readouterr().err.splitlines() if "/v3/kv/txn" in line]


def test_writes_below_known_markers_keep_them_and_send_no_nested_txn(
    v3: Client, etcd_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = EtcdMap(v3, etcd_prefix + "/a/b")
    enable_curl_debug()
    try:
        sub["x"] = "1"
        first = _txn_bodies(capsys)
        markers = _marker_revisions(v3, etcd_prefix)
        assert set(markers) == {f"{etcd_prefix}/", f"{etcd_prefix}/a/", f"{etcd_prefix}/a/b/"}
        capsys.readouterr()
        sub["y"] = "2"
        second = _txn_bodies(capsys)
    finally:
        disable_curl_debug()
    assert len(first) == 1 and "request_txn" in first[0]  # the parents' markers made
    assert len(second) == 1 and "request_txn" not in second[0]  # compares on known markers
    sub["x"] = "3"
    assert _marker_revisions(v3, etcd_prefix) == markers  # never rewritten
    assert EtcdMap(v3, etcd_prefix).to_dict() == {"a": {"b": {"x": "3", "y": "2"}}}


def test_a_known_marker_deleted_by_another_client_is_made_again(
    v3: Client, etcd_url: str, etcd_prefix: str
) -> None:
    sub = EtcdMap(v3, etcd_prefix + "/a/b")
    sub["x"] = "1"  # this backend now knows the markers exist
    with Client(etcd_url, timeout=5.0) as other:  # another client drops the directory a/
        other.kv.delete(f"{etcd_prefix}/a/", prefix=True)
    sub["y"] = "2"  # the compare on the known marker fails; sent again with nested txns
    markers = _marker_revisions(v3, etcd_prefix)
    assert f"{etcd_prefix}/a/" in markers and f"{etcd_prefix}/a/b/" in markers
    del sub["y"]
    assert EtcdMap(v3, etcd_prefix).to_dict() == {"a": {"b": {}}}  # the directory stays


def test_failed_conditions_below_known_markers_still_name_the_cause(
    v3: Client, etcd_url: str, etcd_prefix: str
) -> None:
    sub = EtcdMap(v3, etcd_prefix + "/d")
    sub["k"] = "1"
    with pytest.raises(NodeExists):
        sub.create("k", "2")
    assert not sub.compare_and_swap("k", "3", prev_value="nope")
    with Client(etcd_url, timeout=5.0) as other:  # a known marker gone and a failing condition
        other.kv.delete(f"{etcd_prefix}/d/")
    with pytest.raises(NodeExists):
        sub.create("k", "2")
    assert not sub.compare_and_swap("k", "3", prev_value="nope")
    assert sub.compare_and_swap("k", "3", prev_value="1")
    assert sub["k"] == "3"
    assert f"{etcd_prefix}/d/" in _marker_revisions(v3, etcd_prefix)
