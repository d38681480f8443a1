"""The v3 backend's pure parts, without a server: the key layout (markers, hidden keys,
leaf-and-directory conflicts), watch events as v2-style changes, tree-write plans and the
diagnosis of a failed conditional write."""

from __future__ import annotations

from etcdmap.backend import Cond, TreeWrite
from etcdmap.errors import CompareFailed, KeyNotFound, NodeExists, NotADirectory, NotAFile
from etcdmap.v3.batch import plan_puts
from etcdmap.v3.changes import changes_of
from etcdmap.v3.conds import compares, failure, marker_ops
from etcdmap.v3.layout import ancestors, build_dict, build_node, dir_key, marker
from etcdmap.v3.models import Event, KeyValue, RangeResponse, ResponseHeader, TxnResponse


def kv(key: str, value: str = "", rev: int = 1, version: int = 1) -> KeyValue:
    return KeyValue(key.encode(), value.encode(), rev, rev, version)


def test_names() -> None:
    assert marker("/a/b") == marker("/a/b/") == "/a/b/"
    assert dir_key("/a/b/") == "/a/b" and dir_key("/a/b") == "/a/b"
    assert ancestors("/a/b/c") == ["/a", "/a/b"] and ancestors("/a") == []


def test_build_node_lists_children_and_hides_markers_and_hidden_keys() -> None:
    below = [kv("/c/"), kv("/c/_h", "x"), kv("/c/a", "1"), kv("/c/d/"), kv("/c/d/e", "2"),
             kv("/c/empty/"), kv("/c/x/_y/z", "3")]
    node = build_node("/c", None, below, recursive=False)
    assert node is not None and node.dir
    assert [(n.name, n.dir, n.value) for n in node.nodes] == [
        ("a", False, "1"), ("d", True, None), ("empty", True, None), ("x", True, None)]
    assert node.nodes[1].nodes == ()  # not recursive
    deep = build_node("/c", None, below, recursive=True)
    assert deep is not None and [n.name for n in deep.nodes[1].nodes] == ["e"]
    assert deep.nodes[3].nodes == ()  # only a hidden key below "x"
    assert build_dict("/c", below, None) == {"a": "1", "d": {"e": "2"}, "empty": {}, "x": {}}


def test_build_node_leaf_missing_and_dir_wins() -> None:
    leaf = build_node("/k", kv("/k", "v", rev=3), [], recursive=False)
    assert leaf is not None and (leaf.value, leaf.dir, leaf.created_index) == ("v", False, 3)
    assert build_node("/k", None, [], recursive=False) is None
    both = build_node("/c", None, [kv("/c/a", "leaf"), kv("/c/a/b", "1")], recursive=True)
    assert both is not None and both.nodes[0].dir  # a leaf and a directory: the dir wins
    assert build_dict("/", [kv("/a", "1"), kv("/b/c", "2")], lambda k, t: f"{k}={t}") == {
        "a": "/a=1", "b": {"c": "/b/c=2"}}


def put(key: str, value: str = "", rev: int = 5, version: int = 1, prev: str | None = None) -> Event:
    before = None if prev is None else kv(key, prev, rev=2, version=version - 1)
    return Event("PUT", KeyValue(key.encode(), value.encode(), 2 if prev else rev, rev, version),
                 before)


def delete(key: str, rev: int = 6, prev: str | None = "p") -> Event:
    return Event("DELETE", KeyValue(key.encode(), b"", 0, rev, 0),
                 None if prev is None else kv(key, prev, rev=2))


def test_changes_create_set_delete() -> None:
    def wants(key: str) -> bool:
        return key.startswith("/c/") and "/_" not in key

    got = changes_of([put("/c/a", "1"), put("/c/b", "2", rev=6, version=2, prev="1"),
                      delete("/c/a", rev=7), put("/c/_h", "x", rev=8), put("/other", rev=8)], wants)
    assert [(c.action, c.node.key, c.node.value, c.index) for c in got] == [
        ("create", "/c/a", "1", 5), ("set", "/c/b", "2", 6), ("delete", "/c/a", None, 7)]
    assert got[1].prev_node is not None and got[1].prev_node.value == "1"
    assert got[2].prev_node is not None and got[2].prev_node.value == "p"


def test_changes_collapse_parents_made_on_the_way_and_deleted_directories() -> None:
    def wants(key: str) -> bool:
        return True

    made = changes_of([put("/c/d/"), put("/c/d/x", "1"), put("/c/e/")], wants)
    assert [(c.node.key, c.node.dir) for c in made] == [("/c/d/x", False), ("/c/e", True)]
    gone = changes_of([delete("/c/d/", prev=""), delete("/c/d/x"), delete("/c/d/y/z"),
                       delete("/c/f")], wants)
    assert [(c.node.key, c.node.dir) for c in gone] == [("/c/d", True), ("/c/f", False)]


def test_plan_puts_and_marker_ops() -> None:
    puts = plan_puts([TreeWrite("/m/a", "1"), TreeWrite("/m/t", None, (("x", "2"), ("e", None))),
                      TreeWrite("/m/gone", delete=True)])
    assert puts == {"/m/a": "1", "/m/t/": "", "/m/t/x": "2", "/m/t/e/": ""}
    assert len(marker_ops("/a/b/c")) == 2 and marker_ops("/a/b/c", frozenset({"/a/"}))


def _failed(leaf: KeyValue | None, parents: list[KeyValue | None], below: int) -> TxnResponse:
    h = ResponseHeader(revision=9)
    reads = [RangeResponse(h, (leaf,) if leaf else ()),
             *(RangeResponse(h, (p,) if p else ()) for p in parents), RangeResponse(h, count=below)]
    return TxnResponse(h, False, tuple(reads))


def test_failure_names_v2s_error() -> None:
    assert isinstance(failure("/a/b", Cond(), _failed(None, [kv("/a")], 0)), NotADirectory)
    assert isinstance(failure("/a/b", Cond(), _failed(None, [None], 2)), NotAFile)
    assert isinstance(failure("/a/b", Cond(exists=False), _failed(kv("/a/b"), [None], 0)),
                      NodeExists)
    assert isinstance(failure("/a/b", Cond(exists=True), _failed(None, [None], 0)), KeyNotFound)
    err = failure("/a/b", Cond(value="x", revision=4), _failed(kv("/a/b", "y", 3), [None], 0))
    assert isinstance(err, CompareFailed) and err.cause == "[x != y] [4 != 3]" and err.index == 9
    assert [c.fields["target"] for c in compares("/k", Cond(exists=False))] == ["CREATE"]
    assert [c.fields["target"] for c in compares("/k", Cond(value="v", revision=3))] == [
        "VALUE", "MOD"]
