"""Pure parts of EtcdMap: key validation, path handling, tree conversion, reprs (no server)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etcdmap.errors import DecodeError, EtcdMapError
from etcdmap.http.endpoints import strip_credentials as _strip_credentials
from etcdmap.mapping import paths as _mappath
from etcdmap.models import Node


class TestValidateKey:
    @pytest.mark.parametrize(
        "key", ["a", "a b", "q?", "h#", "p%2F", "plus+", "é", "日本", "_hidden", "...", ".a", " "]
    )
    def test_valid(self, key: str) -> None:
        assert _mappath.validate_key(key) == key

    @pytest.mark.parametrize("key", ["", ".", "..", "a/b", "/", "a/", "a\x00b", "\n", "\x7f"])
    def test_invalid_is_value_error(self, key: str) -> None:
        with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
            _mappath.validate_key(key)

    def test_slash_message_suggests_nested_access(self) -> None:
        with pytest.raises(ValueError, match=r"m\['a'\]\['b'\]"):
            _mappath.validate_key("a/b")

    def test_lone_surrogate(self) -> None:
        with pytest.raises(ValueError, match="Unicode"):
            _mappath.validate_key("a\udc80")

    @pytest.mark.parametrize("key", [1, None, b"a", ("a",)])
    def test_non_str_is_type_error(self, key: Any) -> None:
        with pytest.raises(TypeError, match="keys are str"):
            _mappath.validate_key(key)

    @given(st.text(min_size=1))
    def test_accepts_exactly_the_single_segments(self, key: str) -> None:
        bad = (
            key in (".", "..")
            or "/" in key
            or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in key)
            or any(0xD800 <= ord(c) <= 0xDFFF for c in key)
        )
        if bad:
            with pytest.raises(ValueError):  # noqa: PT011
                _mappath.validate_key(key)
        else:
            assert _mappath.validate_key(key) == key


class TestPaths:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("", "/"),
            ("/", "/"),
            ("config", "/config"),
            ("/config/", "/config"),
            ("//a//b/", "/a/b"),
            ("/a b/é", "/a b/é"),
        ],
    )
    def test_normalize(self, path: str, expected: str) -> None:
        assert _mappath.normalize_path(path) == expected

    @pytest.mark.parametrize("path", ["/a/../b", "/./a", "/a\x00"])
    def test_normalize_refuses_dot_segments_and_controls(self, path: str) -> None:
        with pytest.raises(ValueError):  # noqa: PT011
            _mappath.normalize_path(path)

    def test_normalize_refuses_non_str(self) -> None:
        with pytest.raises(TypeError):
            _mappath.normalize_path(b"/a")

    def test_join(self) -> None:
        assert _mappath.join("/", "a") == "/a"
        assert _mappath.join("/x/y", "a b") == "/x/y/a b"

    def test_hidden(self) -> None:
        assert _mappath.is_hidden("_x")
        assert not _mappath.is_hidden("x_")


class TestTrees:
    def test_node_to_dict(self) -> None:
        tree = Node(
            "/r",
            dir=True,
            nodes=(
                Node("/r/b", value="2"),
                Node("/r/a", dir=True, nodes=(Node("/r/a/x", value="1"),)),
                Node("/r/empty", dir=True),
            ),
        )
        out = _mappath.node_to_dict(tree, lambda n: int(n.value or "0"))
        assert out == {"a": {"x": 1}, "b": 2, "empty": {}}
        assert list(out) == ["a", "b", "empty"]

    def test_walk_tree_flattens_and_keeps_empty_dirs(self) -> None:
        got = list(_mappath.walk_tree({"a": {"b": "1", "c": {}}, "d": "2"}))
        assert got == [(("a", "b"), "1"), (("a", "c"), {}), (("d",), "2")]

    def test_walk_tree_validates_every_key(self) -> None:
        with pytest.raises(ValueError, match="contains '/'"):
            list(_mappath.walk_tree({"ok": {"bad/key": "1"}}))
        with pytest.raises(TypeError):
            list(_mappath.walk_tree({"ok": {1: "1"}}))


class TestMisc:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("http://127.0.0.1:2379", "http://127.0.0.1:2379"),
            ("http://user:secret@h:2379/p", "http://h:2379/p"),
            ("https://u@h", "https://h"),
        ],
    )
    def test_strip_credentials(self, url: str, expected: str) -> None:
        assert _strip_credentials(url) == expected

    def test_decode_error(self) -> None:
        err = DecodeError("/cfg/x", "json", "Expecting value")
        assert isinstance(err, EtcdMapError)
        assert isinstance(err, ValueError)
        assert (err.key, err.codec) == ("/cfg/x", "json")
        assert str(err) == (
            "cannot decode the value of '/cfg/x' with the 'json' codec: Expecting value"
        )
