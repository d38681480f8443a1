"""EtcdMap behaviour beyond the dict contract, on a real etcd: views, keys, codecs, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from etcdmap import connect
from etcdmap.errors import DecodeError, KeyNotFound, NotADirectory
from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client


@pytest.fixture
def count_gets(client: Client, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Count the GETs the client sends (spies on the real calls, etcd still answers).

    ``keys.get_json`` is the bulk-read GET that ``to_dict`` uses.
    """
    calls: list[str] = []

    def spy_on(name: str) -> None:
        real = getattr(client.keys, name)

        def spy(key: str, **kwargs: Any) -> Any:
            calls.append(key)
            return real(key, **kwargs)

        monkeypatch.setattr(client.keys, name, spy)

    spy_on("get")
    spy_on("get_json")
    return lambda: len(calls)


class TestDirectories:
    def test_missing_directory_is_empty_and_created_by_the_first_write(
        self, client: Client, m: EtcdMap
    ) -> None:
        assert len(m) == 0
        assert m.to_dict() == {}
        with pytest.raises(KeyNotFound):
            client.keys.get(m.path)
        m["a"] = "1"
        node = client.keys.get(m.path).node
        assert node is not None
        assert node.dir

    def test_nested_view_is_live(self, client: Client, m: EtcdMap) -> None:
        m["db"] = {"host": "h"}
        view = m["db"]
        assert isinstance(view, EtcdMap)
        assert view.path == f"{m.path}/db"
        m["db"]["port"] = "1"
        assert view["port"] == "1"
        view["user"] = "u"
        assert EtcdMap(client, f"{m.path}/db").to_dict() == {"host": "h", "port": "1", "user": "u"}

    def test_views_share_settings(self, client: Client, etcd_prefix: str) -> None:
        j = EtcdMap(client, etcd_prefix, codec="json", quorum=True)
        j["d"] = {"n": 1}
        assert j["d"].codec is j.codec
        assert j["d"].quorum
        assert j["d"]["n"] == 1

    def test_mkdir(self, m: EtcdMap) -> None:
        d = m.mkdir("d")
        assert d.path == f"{m.path}/d"
        assert m == {"d": {}}
        with pytest.raises(Exception, match="exists"):
            m.mkdir("d")

    def test_to_dict_iteration_and_items_are_one_get_each(
        self, m: EtcdMap, count_gets: Callable[[], int]
    ) -> None:
        m.update(a="1", b={"c": "2", "d": {"e": "3"}})
        before = count_gets()
        assert m.to_dict() == {"a": "1", "b": {"c": "2", "d": {"e": "3"}}}
        assert list(iter(m)) == ["a", "b"]  # (list(m) also calls len(): one more GET)
        items = list(iter(m.items()))
        values = list(iter(m.values()))
        assert count_gets() - before == 4
        assert items[0] == ("a", "1")
        assert values[0] == "1"
        assert isinstance(values[1], EtcdMap)

    def test_assigning_a_map_copies_a_snapshot(self, m: EtcdMap) -> None:
        m["src"] = {"x": "1", "y": {"z": "2"}}
        m["dst"] = m["src"]
        m["src"]["x"] = "changed"
        assert m["dst"].to_dict() == {"x": "1", "y": {"z": "2"}}
        m["src"] = m["src"]  # self-assignment keeps the data
        assert m["src"] == {"x": "changed", "y": {"z": "2"}}

    def test_setdefault_with_a_mapping(self, m: EtcdMap) -> None:
        got = m.setdefault("d", {"x": "1"})
        assert isinstance(got, EtcdMap)
        assert got == {"x": "1"}
        assert m.setdefault("d", {"y": "2"}) == {"x": "1"}

    def test_two_maps_compare_by_content(self, client: Client, m: EtcdMap) -> None:
        m["a"] = {"x": "1"}
        m["b"] = {"x": "1"}
        assert m["a"] == m["b"]
        assert m["a"] == EtcdMap(client, f"{m.path}/b")

    def test_root_map_lists_the_prefix(self, client: Client, m: EtcdMap) -> None:
        m["x"] = "1"
        root = EtcdMap(client, "/")
        assert m.path.lstrip("/") in root
        assert root[m.path.lstrip("/")]["x"] == "1"

    def test_path_is_normalised(self, client: Client, etcd_prefix: str) -> None:
        assert EtcdMap(client, etcd_prefix + "//").path == etcd_prefix
        assert EtcdMap(client, etcd_prefix.lstrip("/")).path == etcd_prefix
        with pytest.raises(ValueError, match="not a valid"):
            EtcdMap(client, etcd_prefix + "/../x")


class TestHiddenKeys:
    def test_by_name_only(self, m: EtcdMap) -> None:
        m["visible"] = "1"
        m["_hidden"] = "2"
        assert m["_hidden"] == "2"
        assert "_hidden" in m
        assert list(m) == ["visible"]
        assert len(m) == 1
        assert m.to_dict() == {"visible": "1"}
        assert m == {"visible": "1"}
        m.clear()
        assert m["_hidden"] == "2"
        del m["_hidden"]
        assert "_hidden" not in m


class TestBadInput:
    @pytest.mark.parametrize(
        ("key", "error"),
        [
            ("a/b", ValueError),
            ("", ValueError),
            (".", ValueError),
            ("..", ValueError),
            ("nul\x00", ValueError),
            ("tab\t", ValueError),
            (1, TypeError),
            (None, TypeError),
        ],
    )
    def test_invalid_keys(self, m: EtcdMap, key: Any, error: type[Exception]) -> None:
        m["ok"] = "1"
        with pytest.raises(error):
            m[key] = "x"
        with pytest.raises(error):
            m[key]
        with pytest.raises(error):
            del m[key]
        assert key not in m
        assert m.to_dict() == {"ok": "1"}

    @pytest.mark.parametrize("value", [True, 1, 1.5, None, b"x", ["a"]])
    def test_non_str_value_without_codec(self, m: EtcdMap, value: Any) -> None:
        with pytest.raises(TypeError, match="str values only"):
            m["k"] = value
        assert "k" not in m

    def test_bad_value_inside_a_tree_writes_nothing(self, m: EtcdMap) -> None:
        m["keep"] = "old"
        with pytest.raises(TypeError, match=r"/keep/b/c"):
            m["keep"] = {"a": "1", "b": {"c": 2}}
        with pytest.raises(ValueError, match="contains '/'"):
            m["keep"] = {"a/b": "1"}
        assert m.to_dict() == {"keep": "old"}

    def test_bad_value_in_update_writes_nothing(self, m: EtcdMap) -> None:
        with pytest.raises(TypeError):
            m.update({"a": "1", "b": 2})
        with pytest.raises(ValueError, match="empty"):
            m.update({"a": "1"}, **{"": "x"})
        assert m.to_dict() == {}

    def test_write_below_a_file(self, client: Client, m: EtcdMap) -> None:
        m["file"] = "v"
        below = EtcdMap(client, f"{m.path}/file")
        with pytest.raises(NotADirectory):
            below["x"] = "1"
        with pytest.raises(NotADirectory):
            len(below)
        with pytest.raises(NotADirectory):
            below["x"] = {"y": "1"}
        assert m.to_dict() == {"file": "v"}


class TestCodecs:
    def test_json(self, client: Client, etcd_prefix: str) -> None:
        j = EtcdMap(client, etcd_prefix, codec="json")
        values = {"n": 1, "f": 1.5, "t": True, "none": None, "l": [1, "é", {"k": None}], "s": "x"}
        j.update(values)
        assert j.to_dict() == values
        assert client.keys.get(f"{etcd_prefix}/l").node.value == '[1,"é",{"k":null}]'  # type: ignore[union-attr]
        assert j.setdefault("none", "other") is None

    def test_bytes(self, client: Client, etcd_prefix: str) -> None:
        b = EtcdMap(client, etcd_prefix, codec="bytes")
        b["blob"] = b"\x00\xff binary"
        assert b["blob"] == b"\x00\xff binary"
        assert client.keys.get(f"{etcd_prefix}/blob").node.value == "AP8gYmluYXJ5"  # type: ignore[union-attr]

    def test_undecodable_value_names_the_key(self, client: Client, etcd_prefix: str) -> None:
        client.keys.set(f"{etcd_prefix}/bad", "{not json")
        j = EtcdMap(client, etcd_prefix, codec="json")
        with pytest.raises(DecodeError, match=f"{etcd_prefix}/bad") as info:
            j["bad"]
        assert info.value.key == f"{etcd_prefix}/bad"
        assert isinstance(info.value.__cause__, ValueError)
        with pytest.raises(DecodeError):
            j.to_dict()
        with pytest.raises(DecodeError):
            j.pop("bad")
        assert "bad" in j  # a failed pop deletes nothing
        assert j.get("missing") is None


class TestMisc:
    def test_index_is_the_last_reads_index(self, client: Client, m: EtcdMap) -> None:
        assert m.index == 0
        written = client.keys.set(f"{m.path}/a", "1")
        m.to_dict()
        assert m.index == written.index
        w = client.keys.watcher(m.path, after_index=m.index, recursive=True)
        client.keys.set(f"{m.path}/b", "2")
        event = w.next(timeout=5)
        assert event.node is not None
        assert event.node.key == f"{m.path}/b"

    def test_index_after_reading_a_missing_directory(self, m: EtcdMap) -> None:
        assert m.to_dict() == {}
        assert m.index > 0

    def test_node(self, m: EtcdMap) -> None:
        m["a"] = "1"
        node = m.node("a")
        assert (node.key, node.value, node.dir) == (f"{m.path}/a", "1", False)
        with pytest.raises(KeyNotFound):
            m.node("missing")

    def test_repr_shows_path_and_endpoints_not_credentials(
        self, etcd_server: EtcdServer, etcd_prefix: str
    ) -> None:
        with Client(etcd_server.client_url, username="root", password="s3cret") as c:
            text = repr(EtcdMap(c, etcd_prefix))
        assert etcd_prefix in text
        assert etcd_server.client_url in text
        assert "s3cret" not in text
        assert "root" not in text

    def test_connect_owns_its_client(self, etcd_server: EtcdServer, etcd_prefix: str) -> None:
        with connect(etcd_server.client_url, etcd_prefix, codec="json", timeout=3) as j:
            j["x"] = [1]
            assert j == {"x": [1]}
            assert j.path == etcd_prefix

    def test_quorum_reads(self, client: Client, etcd_prefix: str) -> None:
        q = EtcdMap(client, etcd_prefix, quorum=True)
        q["a"] = "1"
        assert q == {"a": "1"}
