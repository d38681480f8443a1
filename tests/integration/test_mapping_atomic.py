"""EtcdMap's conditional single-key writes on a real etcd: CAS, CAD, create, replace, append."""

from __future__ import annotations

import pytest

from etcdmap.errors import KeyNotFound, NodeExists, NotAFile
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client


class TestCompareAndSwap:
    def test_on_value(self, m: EtcdMap) -> None:
        m["k"] = "1"
        assert m.compare_and_swap("k", "2", prev_value="1")
        assert m["k"] == "2"
        assert not m.compare_and_swap("k", "3", prev_value="1")
        assert m["k"] == "2"

    def test_on_index(self, m: EtcdMap) -> None:
        m["k"] = "1"
        index = m.node("k").modified_index
        assert m.compare_and_swap("k", "2", prev_index=index)
        assert not m.compare_and_swap("k", "3", prev_index=index)
        assert m["k"] == "2"

    def test_on_both(self, m: EtcdMap) -> None:
        m["k"] = "1"
        index = m.node("k").modified_index
        assert not m.compare_and_swap("k", "2", prev_value="1", prev_index=index + 100)
        assert not m.compare_and_swap("k", "2", prev_value="0", prev_index=index)
        assert m.compare_and_swap("k", "2", prev_value="1", prev_index=index)

    def test_empty_previous_value(self, m: EtcdMap) -> None:
        m["k"] = ""
        assert not m.compare_and_swap("k", "x", prev_value="", prev_index=1)
        assert m.compare_and_swap("k", "x", prev_value="")
        assert not m.compare_and_swap("k", "y", prev_value="")
        assert m["k"] == "x"

    def test_with_ttl(self, m: EtcdMap) -> None:
        m["k"] = "1"
        assert m.compare_and_swap("k", "2", prev_value="1", ttl=100)
        ttl = m.ttl("k")
        assert ttl is not None
        assert 0 < ttl <= 100

    def test_missing_key_raises(self, m: EtcdMap) -> None:
        with pytest.raises(KeyNotFound):
            m.compare_and_swap("nope", "1", prev_value="0")
        assert "nope" not in m

    def test_directory_raises(self, m: EtcdMap) -> None:
        m["d"] = {"x": "1"}
        with pytest.raises(NotAFile):
            m.compare_and_swap("d", "1", prev_index=1)

    def test_needs_a_condition(self, m: EtcdMap) -> None:
        m["k"] = "1"
        with pytest.raises(ValueError, match="prev_value and/or prev_index"):
            m.compare_and_swap("k", "2")
        with pytest.raises(ValueError, match="prev_index"):
            m.compare_and_swap("k", "2", prev_index=0)
        with pytest.raises(TypeError, match="single value"):
            m.compare_and_swap("k", {"a": "1"}, prev_value="1")
        assert m["k"] == "1"

    def test_json_values_compare_by_canonical_text(self, client: Client, etcd_prefix: str) -> None:
        j = EtcdMap(client, etcd_prefix, codec="json")
        j["k"] = [1, 2]
        assert j.compare_and_swap("k", [3], prev_value=[1, 2])
        assert j["k"] == [3]


class TestCompareAndDelete:
    def test_on_value_and_index(self, m: EtcdMap) -> None:
        m["k"] = "1"
        assert not m.compare_and_delete("k", prev_value="0")
        assert not m.compare_and_delete("k", prev_index=m.node("k").modified_index + 1)
        assert "k" in m
        assert m.compare_and_delete("k", prev_value="1")
        assert "k" not in m

    def test_empty_value(self, m: EtcdMap) -> None:
        m["k"] = ""
        m["j"] = "x"
        assert not m.compare_and_delete("j", prev_value="")
        assert m.compare_and_delete("k", prev_value="")
        assert m == {"j": "x"}

    def test_missing_and_directory(self, m: EtcdMap) -> None:
        with pytest.raises(KeyNotFound):
            m.compare_and_delete("nope", prev_value="1")
        m["d"] = {"x": "1"}
        with pytest.raises(NotAFile):
            m.compare_and_delete("d", prev_index=1)
        with pytest.raises(ValueError, match="prev_value"):
            m.compare_and_delete("d")


class TestCreateReplaceAppend:
    def test_create(self, m: EtcdMap) -> None:
        node = m.create("k", "1")
        assert node.value == "1"
        with pytest.raises(NodeExists):
            m.create("k", "2")
        assert m["k"] == "1"

    def test_create_tree(self, m: EtcdMap) -> None:
        m.create("d", {"a": "1", "b": {"c": "2"}})
        assert m == {"d": {"a": "1", "b": {"c": "2"}}}
        with pytest.raises(NodeExists):
            m.create("d", {"z": "9"})
        assert m == {"d": {"a": "1", "b": {"c": "2"}}}

    def test_replace_keeps_created_index(self, m: EtcdMap) -> None:
        with pytest.raises(KeyNotFound):
            m.replace("k", "1")
        assert "k" not in m
        created = m.create("k", "1")
        replaced = m.replace("k", "2")
        assert replaced.created_index == created.created_index
        assert replaced.modified_index > created.modified_index
        assert m["k"] == "2"

    def test_replace_refuses_directories_and_mappings(self, m: EtcdMap) -> None:
        m["d"] = {"x": "1"}
        with pytest.raises(NotAFile):
            m.replace("d", "value")
        with pytest.raises(TypeError):
            m.replace("d", {"y": "2"})
        assert m == {"d": {"x": "1"}}

    def test_append_and_popitem_make_a_fifo_queue(self, m: EtcdMap) -> None:
        names = [m.append(v) for v in ("first", "second", "third")]
        assert all(len(n) == 20 and n.isdigit() for n in names)
        assert names == sorted(names)
        assert list(m) == names
        assert m.popitem() == (names[0], "first")
        assert m.popitem() == (names[1], "second")
        assert list(m.values()) == ["third"]

    def test_append_refuses_mappings(self, m: EtcdMap) -> None:
        with pytest.raises(TypeError):
            m.append({"a": "1"})
        assert len(m) == 0

    def test_set_returns_the_node(self, m: EtcdMap) -> None:
        node = m.set("k", "v")
        assert (node.key, node.value) == (f"{m.path}/k", "v")
        tree = m.set("d", {"a": "1"})
        assert tree.dir


class TestPop:
    def test_pop_of_a_changed_value_returns_the_new_one(self, client: Client, m: EtcdMap) -> None:
        m["k"] = "1"
        # A write between our read and our delete: compare-and-delete fails and pop re-reads.
        # (Simulated by writing through the client; the retry path is also exercised by the
        # concurrency tests.)
        client.keys.set(f"{m.path}/k", "2")
        assert m.pop("k") == "2"
        assert "k" not in m

    def test_pop_directory_returns_a_plain_dict(self, m: EtcdMap) -> None:
        m["d"] = {"a": "1", "b": {"c": "2"}}
        got = m.pop("d")
        assert type(got) is dict
        assert got == {"a": "1", "b": {"c": "2"}}
        assert "d" not in m

    def test_popitem_directory(self, m: EtcdMap) -> None:
        m["d"] = {"a": "1"}
        assert m.popitem() == ("d", {"a": "1"})
        with pytest.raises(KeyError, match="empty"):
            m.popitem()


def test_pop_reads_past_a_read_cache(client: Client, etcd_prefix: str) -> None:
    cached = EtcdMap(client, etcd_prefix, cache={})
    cached["k"] = "1"
    assert cached["k"] == "1"
    client.keys.set(f"{etcd_prefix}/k", "2")  # another writer; the cache still says "1"
    assert cached.pop("k") == "2"
    assert "k" not in EtcdMap(client, etcd_prefix)
