"""The mirror's tree without a server: applying events, resync differences, read-only views."""

from __future__ import annotations

import json
import random
import threading

import pytest

from etcdmap import EtcdMap, MemoryBackend
from etcdmap.mapping.mirror import Mirror
from etcdmap.mapping.tree import MirrorDir, Tree
from etcdmap.models import Change, Node


def leaf(key: str, value: str, index: int) -> Node:
    return Node(key, value, False, (), index, index)


def dirn(key: str, index: int, *children: Node) -> Node:
    return Node(key, None, True, tuple(children), index, index)


def ev(action: str, node: Node, prev: Node | None = None) -> Change:
    return Change(action, node, prev, node.modified_index)


def loaded() -> Tree:
    tree = Tree("/cfg")
    tree.load(dirn("/cfg", 1, leaf("/cfg/a", "1", 2),
                   dirn("/cfg/d", 3, leaf("/cfg/d/x", "x", 4), dirn("/cfg/d/e", 5)),
                   leaf("/cfg/_hidden", "h", 6)))
    return tree


def test_load_builds_nested_views_without_hidden_keys() -> None:
    tree = loaded()
    assert tree.view.to_dict() == {"a": "1", "d": {"x": "x", "e": {}}}
    assert tree.meta == {"a": (2, False), "d": (3, True), "d/x": (4, False), "d/e": (5, True)}
    assert isinstance(tree.view["d"], MirrorDir)


def test_load_of_a_missing_directory_is_empty() -> None:
    tree = loaded()
    tree.load(None)
    assert tree.view.to_dict() == {} and tree.meta == {}


def test_set_on_a_new_key_creates_intermediate_directories() -> None:
    tree = loaded()
    event = tree.apply(ev("set", leaf("/cfg/n/m/k", "v", 10)))
    assert event is not None
    assert (event.key, event.path, event.action, event.value, event.prev_value, event.index,
            event.dir) == ("n/m/k", "/cfg/n/m/k", "set", "v", None, 10, False)
    assert event.signal.name == "created"
    assert tree.view["n"]["m"]["k"] == "v"
    assert tree.meta["n"] == (10, True) and tree.meta["n/m/k"] == (10, False)


def test_update_reports_the_previous_value() -> None:
    tree = loaded()
    event = tree.apply(ev("compareAndSwap", leaf("/cfg/a", "2", 11), leaf("/cfg/a", "1", 2)))
    assert event is not None and event.signal.name == "updated"
    assert (event.value, event.prev_value) == ("2", "1")
    assert tree.view["a"] == "2" and tree.meta["a"] == (11, False)


def test_delete_of_a_directory_is_one_event_and_empties_old_views() -> None:
    tree = loaded()
    old_view = tree.view["d"]
    event = tree.apply(ev("delete", Node("/cfg/d", None, True, (), 3, 12), dirn("/cfg/d", 3)))
    assert event is not None
    assert (event.key, event.dir, event.signal.name, event.value) == ("d", True, "deleted", None)
    assert "d" not in tree.view and len(old_view) == 0
    assert set(tree.meta) == {"a"}


def test_expire_maps_to_expired() -> None:
    tree = loaded()
    event = tree.apply(ev("expire", Node("/cfg/a", None, False, (), 2, 13), leaf("/cfg/a", "1", 2)))
    assert event is not None and event.signal.name == "expired" and event.prev_value == "1"
    assert "a" not in tree.view


def test_deleting_an_ancestor_clears_everything() -> None:
    tree = Tree("/p/cfg")
    tree.load(dirn("/p/cfg", 1, leaf("/p/cfg/a", "1", 2)))
    event = tree.apply(ev("delete", Node("/p", None, True, (), 1, 5)))
    assert event is not None and event.key == ""
    assert tree.view.to_dict() == {} and tree.meta == {}


def test_hidden_and_outside_keys_are_ignored() -> None:
    tree = loaded()
    assert tree.apply(ev("set", leaf("/cfg/_h2", "x", 20))) is None
    assert tree.apply(ev("set", leaf("/cfg/d/_h/x", "x", 21))) is None
    assert tree.apply(ev("set", leaf("/cfgother", "x", 22))) is None
    assert tree.view.to_dict() == {"a": "1", "d": {"x": "x", "e": {}}}


def test_root_tree_relative_keys() -> None:
    tree = Tree("")
    tree.load(dirn("", 0, leaf("/a", "1", 2)))
    event = tree.apply(ev("set", leaf("/b/c", "2", 3)))
    assert event is not None and event.key == "b/c"
    assert tree.view.to_dict() == {"a": "1", "b": {"c": "2"}}


def test_file_replaced_by_a_directory_and_back() -> None:
    tree = loaded()
    tree.apply(ev("set", dirn("/cfg/a", 30), leaf("/cfg/a", "1", 2)))
    assert tree.view["a"] == {}
    tree.apply(ev("set", leaf("/cfg/d", "now a file", 31)))
    assert tree.view["d"] == "now a file"
    assert "d/x" not in tree.meta


def test_codec_decoding_and_decode_errors_keep_the_raw_text() -> None:
    errors: list[Exception] = []
    tree = Tree("/j", json.loads, errors.append)
    tree.load(dirn("/j", 1, leaf("/j/n", "[1, 2]", 2)))
    assert tree.view["n"] == [1, 2]
    event = tree.apply(ev("set", leaf("/j/n", "not json", 3), leaf("/j/n", "[1, 2]", 2)))
    assert event is not None and event.value == "not json" and event.prev_value == [1, 2]
    assert len(errors) == 1


def test_resync_reports_exact_differences() -> None:
    tree = loaded()
    fresh = dirn("/cfg", 1,
                 leaf("/cfg/a", "1", 2),                       # unchanged
                 dirn("/cfg/n", 40, leaf("/cfg/n/k", "k", 41)),  # new dir with a leaf
                 dirn("/cfg/empty", 42),                       # new empty dir
                 leaf("/cfg/b", "b", 43))                      # new leaf
    # d (with d/x, d/e) is gone
    events = tree.resync(fresh, 50)
    summary = [(e.key, e.signal.name, e.value, e.prev_value, e.index, e.dir) for e in events]
    assert summary == [
        ("d", "deleted", None, None, 50, True),
        ("n/k", "created", "k", None, 41, False),
        ("empty", "created", None, None, 42, True),
        ("b", "created", "b", None, 43, False),
    ]
    assert all(e.action == "resync" for e in events)
    assert tree.view.to_dict() == {"a": "1", "n": {"k": "k"}, "empty": {}, "b": "b"}


def test_resync_update_and_type_change() -> None:
    tree = loaded()
    fresh = dirn("/cfg", 1, leaf("/cfg/a", "changed", 60), leaf("/cfg/d", "file now", 61))
    events = tree.resync(fresh, 70)
    summary = [(e.key, e.signal.name, e.value, e.prev_value) for e in events]
    assert summary == [("d", "deleted", None, None), ("a", "updated", "changed", "1"),
                       ("d", "created", "file now", None)]
    assert tree.resync(fresh, 71) == []  # idempotent
    assert tree.resync(None, 72)[0].key == "a"
    assert tree.view.to_dict() == {}


def test_mirror_dir_is_a_read_only_mapping() -> None:
    tree = loaded()
    view = tree.view
    assert view["d"]["x"] == "x" and view["d/x"] == "x"
    assert "d/x" in view and "d/nope" not in view and "a" in view
    assert 3 not in view  # type: ignore[comparison-overlap]
    assert view.get("nope", 5) == 5 and view.get("d/e") == {}
    with pytest.raises(KeyError):
        view["nope"]
    with pytest.raises(KeyError):
        view["a/b"]  # a is a file
    with pytest.raises(TypeError):
        view["a"] = "x"  # type: ignore[index]
    assert sorted(view) == ["a", "d"] and len(view) == 2
    assert view == {"a": "1", "d": {"x": "x", "e": {}}}
    assert view == {"a": "1", "d": {"x": "x", "e": {}}}
    assert view != {"a": "1"}
    assert "MirrorDir" in repr(view)


def test_iteration_is_a_snapshot_while_the_tree_changes() -> None:
    tree = loaded()
    names = []
    for name in tree.view:
        names.append(name)
        tree.apply(ev("set", leaf(f"/cfg/new{len(names)}", "v", 100 + len(names))))
    assert names == ["a", "d"]


def test_mirror_wait_for_and_read_only_writes() -> None:
    m = EtcdMap(MemoryBackend(), "/cfg")
    m["a"] = "1"
    with m.mirror() as mirror:
        start = m.index
        assert mirror.index == start and mirror["a"] == "1"
        with pytest.raises(TypeError):
            mirror["a"] = "2"
        with pytest.raises(TypeError):
            del mirror["a"]
        assert mirror.wait_for(start, timeout=0)
        assert not mirror.wait_for(start + 1, timeout=0.01)
        t = threading.Timer(0.01, m.__setitem__, args=("b", "2"))
        t.start()
        assert mirror.wait_for(start + 1, timeout=5)
        t.join()
        assert mirror.index == m.index == start + 1 and mirror["b"] == "2"
    assert m == {"a": "1", "b": "2"}  # the read-only mirror wrote nothing


def test_writable_mirror_passes_writes_to_its_source() -> None:
    source: dict[str, str] = {}
    mirror = Mirror(Tree("/x"), source=source, writable=True)
    mirror["k"] = "v"
    assert source == {"k": "v"}
    del mirror["k"]
    assert source == {}
    mirror.close()  # no watch attached: a no-op


def _random_tree(rnd: random.Random, root: str, depth: int = 0) -> Node:
    children = []
    for name in rnd.sample("abcdef", rnd.randint(0, 4)):
        key = f"{root}/{name}"
        if depth < 2 and rnd.random() < 0.35:
            children.append(_random_tree(rnd, key, depth + 1))
        else:
            index = rnd.randint(1, 5)
            children.append(leaf(key, f"v{index}", index))
    return dirn(root, 1, *children)


def _plain_of(node: Node, root: str) -> dict[str, object]:
    tree = Tree(root)
    tree.load(node)
    return tree.view.to_dict()


@pytest.mark.parametrize("seed", range(40))
def test_resync_reaches_the_fresh_state_and_its_events_describe_the_change(seed: int) -> None:
    rnd = random.Random(seed)
    old, new = _random_tree(rnd, "/r"), _random_tree(rnd, "/r")
    tree = Tree("/r")
    tree.load(old)
    model = flatten_plain(tree.view.to_dict())
    events = tree.resync(new, 99)
    assert tree.view.to_dict() == _plain_of(new, "/r")
    for e in events:  # a subscriber applying the signals ends with the same leaves
        if e.removed:
            for k in [k for k in model if k == e.key or k.startswith(e.key + "/")]:
                del model[k]
        elif not e.dir:
            model[e.key] = e.value
    assert model == flatten_plain(_plain_of(new, "/r"))
    assert tree.resync(new, 100) == []


def flatten_plain(tree: dict[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(flatten_plain(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


# ------------------------------------------------------------------ load from etcd's JSON


def listing() -> dict[str, object]:
    """The JSON ``node`` of a recursive GET of ``/cfg`` as etcd v2 sends it."""
    return {"key": "/cfg", "dir": True, "nodes": [
        {"key": "/cfg/a", "value": "1", "modifiedIndex": 2, "createdIndex": 2},
        {"key": "/cfg/d", "dir": True, "modifiedIndex": 3, "createdIndex": 3, "nodes": [
            {"key": "/cfg/d/x", "value": "x", "modifiedIndex": 4, "createdIndex": 4},
            {"key": "/cfg/d/e", "dir": True, "modifiedIndex": 5, "createdIndex": 5},
        ]},
        {"key": "/cfg/_hidden", "value": "h", "modifiedIndex": 6, "createdIndex": 6},
    ]}


def test_load_listing_builds_the_same_state_as_load() -> None:
    tree = Tree("/cfg", decode=json.loads)
    tree.load_listing(listing())
    assert tree.view.to_dict() == {"a": 1, "d": {"x": "x", "e": {}}}
    assert tree.meta == {"a": (2, False), "d": (3, True), "d/x": (4, False), "d/e": (5, True)}
    assert isinstance(tree.view["d"], MirrorDir)


def test_load_listing_of_nothing_or_of_a_leaf_is_empty() -> None:
    tree = loaded()
    tree.load_listing(None)
    assert tree.view.to_dict() == {} and tree.meta == {}
    tree.load_listing({"key": "/cfg", "value": "v", "modifiedIndex": 3})
    assert tree.view.to_dict() == {} and tree.meta == {}


def test_load_listing_of_the_whole_key_space() -> None:
    tree = Tree("")
    tree.load_listing({"dir": True, "nodes": [
        {"key": "/a", "value": "1", "modifiedIndex": 7},
        {"key": "/b", "dir": True, "modifiedIndex": 8,
         "nodes": [{"key": "/b/c", "value": "2", "modifiedIndex": 9}]}]})
    assert tree.view.to_dict() == {"a": "1", "b": {"c": "2"}}
    assert tree.meta == {"a": (7, False), "b": (8, True), "b/c": (9, False)}


@pytest.mark.parametrize("child", [
    {"key": "/cfg/a", "value": 1, "modifiedIndex": 2},
    {"key": "/cfg/a", "value": "1", "modifiedIndex": "2"},
    {"key": 5, "value": "1", "modifiedIndex": 2},
    {"value": "1", "modifiedIndex": 2},
    {"key": "/cfg/d", "dir": True, "modifiedIndex": 2, "nodes": {"k": 1}},
    "not an object",
])
def test_load_listing_refuses_a_broken_answer(child: object) -> None:
    from etcdmap.errors import InvalidResponseError

    tree = loaded()
    with pytest.raises(InvalidResponseError, match="not an etcd v2 listing"):
        tree.load_listing({"key": "/cfg", "dir": True, "nodes": [
            {"key": "/cfg/ok", "value": "1", "modifiedIndex": 1}, child]})
    assert tree.view.to_dict() == {} and tree.meta == {}
