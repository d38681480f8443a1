"""The MutableMapping contract every mapping of this project must meet, as a mixin class.

Every test here must pass for a plain ``dict`` and for ``EtcdMap`` on any backend: that is what
"EtcdMap is a drop-in dict" means. A test module subclasses :class:`MappingContract` as
``Test...`` and gives it a ``mapping`` fixture (an empty mapping):
``tests/integration/test_mapping_contract.py`` runs it on a dict and on real etcd,
``tests/unit/test_memory_backend.py`` on :class:`etcdmap.MemoryBackend`. Values are ``str``
(the default codec); order-sensitive checks use ``sorted`` because a dict keeps insertion
order and an EtcdMap lists keys sorted.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest

from etcdmap.mapping.emap import EtcdMap

SPECIAL_KEYS = ["a b", "q?x", "h#x", "p%2Fx", "plus+", "é", "日本", "semi;colon", "eq=1&x"]


def plain(m: Any) -> Any:
    """Nested mappings as dicts (an EtcdMap's nested views are live maps, a dict's are dicts)."""
    if isinstance(m, EtcdMap):
        return m.to_dict()
    if isinstance(m, dict):
        return {k: plain(v) for k, v in m.items()}
    return m


class MappingContract:
    """The contract; subclasses provide the ``mapping`` fixture."""

    def test_is_a_mutable_mapping(self, mapping: MutableMapping[str, Any]) -> None:
        assert isinstance(mapping, MutableMapping)

    def test_empty(self, mapping: MutableMapping[str, Any]) -> None:
        assert len(mapping) == 0
        assert list(mapping) == []
        assert not mapping
        assert "a" not in mapping
        assert mapping.get("a") is None
        assert mapping.get("a", "d") == "d"
        assert mapping == {}
        assert list(mapping.items()) == []
        assert list(mapping.values()) == []

    def test_set_get_overwrite(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["a"] = "1"
        assert mapping["a"] == "1"
        mapping["a"] = "2"
        assert mapping["a"] == "2"
        mapping["empty"] = ""
        assert mapping["empty"] == ""
        assert len(mapping) == 2

    def test_missing_key_raises_key_error(self, mapping: MutableMapping[str, Any]) -> None:
        with pytest.raises(KeyError):
            mapping["nope"]
        with pytest.raises(KeyError):
            del mapping["nope"]

    def test_delete(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["a"] = "1"
        mapping["b"] = "2"
        del mapping["a"]
        assert "a" not in mapping
        assert mapping == {"b": "2"}

    def test_iteration_len_contains(self, mapping: MutableMapping[str, Any]) -> None:
        for i, k in enumerate(["c", "a", "b"]):
            mapping[k] = str(i)
        assert sorted(mapping) == ["a", "b", "c"]
        assert len(mapping) == 3
        assert "b" in mapping
        assert "z" not in mapping
        assert sorted(mapping.keys()) == ["a", "b", "c"]
        assert "a" in mapping.keys()  # noqa: SIM118 - the view's own __contains__ is under test

    def test_views(self, mapping: MutableMapping[str, Any]) -> None:
        mapping.update({"a": "1", "b": "2"})
        assert sorted(mapping.items()) == [("a", "1"), ("b", "2")]
        assert sorted(mapping.values()) == ["1", "2"]
        assert ("a", "1") in mapping.items()
        assert ("a", "2") not in mapping.items()
        assert "2" in mapping.values()
        assert len(mapping.items()) == len(mapping.values()) == len(mapping.keys()) == 2
        assert mapping.keys() == {"a", "b"}

    def test_get(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["a"] = "1"
        assert mapping.get("a") == "1"
        assert mapping.get("a", "d") == "1"
        assert mapping.get("b", "d") == "d"

    def test_pop(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["a"] = "1"
        assert mapping.pop("a") == "1"
        assert "a" not in mapping
        assert mapping.pop("a", "d") == "d"
        assert mapping.pop("a", None) is None
        with pytest.raises(KeyError):
            mapping.pop("a")

    def test_popitem(self, mapping: MutableMapping[str, Any]) -> None:
        mapping.update(a="1", b="2")
        key, value = mapping.popitem()
        assert (key, value) in [("a", "1"), ("b", "2")]
        assert key not in mapping
        assert len(mapping) == 1
        mapping.popitem()
        with pytest.raises(KeyError):
            mapping.popitem()

    def test_setdefault(self, mapping: MutableMapping[str, Any]) -> None:
        assert mapping.setdefault("a", "1") == "1"
        assert mapping.setdefault("a", "2") == "1"
        assert mapping["a"] == "1"

    def test_update_forms(self, mapping: MutableMapping[str, Any]) -> None:
        mapping.update({"a": "1"})
        mapping.update([("b", "2")])
        mapping.update(c="3")
        mapping.update({"a": "x"}, d="4")
        mapping.update()
        assert mapping == {"a": "x", "b": "2", "c": "3", "d": "4"}

    def test_update_from_another_mapping_of_the_same_kind(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["src"] = {"x": "1", "y": {"z": "2"}}
        mapping.update(mapping["src"])
        assert plain(mapping) == {"src": {"x": "1", "y": {"z": "2"}}, "x": "1", "y": {"z": "2"}}

    def test_clear(self, mapping: MutableMapping[str, Any]) -> None:
        mapping.update(a="1", b="2", d={"x": "1"})
        mapping.clear()
        assert len(mapping) == 0
        assert mapping == {}
        mapping["again"] = "1"
        assert mapping == {"again": "1"}

    def test_equality(self, mapping: MutableMapping[str, Any]) -> None:
        mapping.update(a="1", b={"c": "2"})
        assert mapping == {"a": "1", "b": {"c": "2"}}
        assert {"a": "1", "b": {"c": "2"}} == mapping  # noqa: SIM300 - the reflected __eq__
        assert mapping != {"a": "1"}
        assert mapping != {"a": "2", "b": {"c": "2"}}
        not_mappings: list[object] = [["a", "b"], "a", None]
        for other in not_mappings:
            assert mapping != other

    def test_nested_mapping_reads_back_as_a_mapping(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["db"] = {"host": "h", "port": "5432", "opts": {"ssl": "on"}}
        db = mapping["db"]
        assert db["host"] == "h"
        assert db["opts"]["ssl"] == "on"
        assert db == {"host": "h", "port": "5432", "opts": {"ssl": "on"}}
        assert sorted(db) == ["host", "opts", "port"]
        assert len(db) == 3

    def test_writes_through_a_nested_mapping_persist(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["db"] = {"host": "h"}
        mapping["db"]["port"] = "1"
        del mapping["db"]["host"]
        assert plain(mapping) == {"db": {"port": "1"}}

    def test_nested_directories_stay_when_emptied(self, mapping: MutableMapping[str, Any]) -> None:
        # A dict keeps an emptied nested dict; so does every directory an assigned mapping
        # made (v3 keeps it with a marker key, as v2 keeps the directory node).
        mapping["a"] = {"b": {"c": "1"}, "x": "y"}
        del mapping["a"]["b"]["c"]
        assert plain(mapping) == {"a": {"b": {}, "x": "y"}}
        mapping.update(u={"v": {"w": {"k": "1"}}})
        del mapping["u"]["v"]["w"]["k"]
        del mapping["a"]
        assert plain(mapping) == {"u": {"v": {"w": {}}}}

    def test_empty_nested_mapping(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["d"] = {}
        assert "d" in mapping
        assert mapping == {"d": {}}
        mapping["d"]["x"] = "1"
        assert mapping == {"d": {"x": "1"}}

    def test_replacing_leaf_and_subtree(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["k"] = "leaf"
        mapping["k"] = {"x": "1"}
        assert mapping == {"k": {"x": "1"}}
        mapping["k"] = {"y": "2"}  # replaces the whole subtree, no merge
        assert mapping == {"k": {"y": "2"}}
        mapping["k"] = "leaf again"
        assert mapping == {"k": "leaf again"}

    def test_delete_and_pop_subtree(self, mapping: MutableMapping[str, Any]) -> None:
        mapping["a"] = {"x": {"y": "1"}}
        mapping["b"] = {"x": "2"}
        del mapping["a"]
        assert plain(mapping.pop("b")) == {"x": "2"}
        assert mapping == {}

    @pytest.mark.parametrize("key", SPECIAL_KEYS)
    def test_special_keys_round_trip(self, mapping: MutableMapping[str, Any], key: str) -> None:
        mapping[key] = f"value of {key}"
        assert list(mapping) == [key]
        assert mapping[key] == f"value of {key}"
        assert key in mapping
        assert mapping == {key: f"value of {key}"}
        del mapping[key]
        assert key not in mapping

    def test_values_with_special_characters(self, mapping: MutableMapping[str, Any]) -> None:
        values = {"a": "x&y=z", "b": "100%", "c": "multi\nline", "d": "é日本 ", "e": "+ +"}
        mapping.update(values)
        assert mapping == values

    def test_dict_of_mapping(self, mapping: MutableMapping[str, Any]) -> None:
        mapping.update(a="1", b="2")
        assert dict(mapping) == {"a": "1", "b": "2"}
