"""How the mapping layer lays a v2-style tree onto v3's flat key space (pure, no I/O).

v3 has no directories: a directory is a key prefix. The layout used by
:class:`~etcdmap.v3.backend.V3Backend`:

- a leaf is the key itself: ``/config/db/host``;
- a directory ``/config/db`` exists while some key starts with ``/config/db/``; etcdmap also
  keeps a **marker** key ``/config/db/`` (the directory's key with a trailing ``/``, empty
  value) for every directory it makes (``mkdir``, an assigned mapping, the parents of a write),
  so an empty directory stays, as on v2. Markers never show in listings or values;
- hidden keys (a path element starting with ``_``) are left out of listings, as v2 does;
- should a key be a leaf and a directory at once (written by another v3 client), the
  directory wins and the leaf is not listed.

Thread-safety: pure functions over immutable data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from etcdmap.models import Node
from etcdmap.v3.models import KeyValue

__all__ = [
    "ancestors",
    "build_dict",
    "build_node",
    "dir_key",
    "is_hidden",
    "marker",
]


def marker(key: str) -> str:
    """The marker key of the directory ``key`` (``/a/b`` -> ``/a/b/``)."""
    return key.rstrip("/") + "/"


def dir_key(key: str) -> str:
    """The directory key of a marker (``/a/b/`` -> ``/a/b``); other keys unchanged."""
    return key[:-1] if key.endswith("/") else key


def ancestors(key: str) -> list[str]:
    """The parent directories of ``key``, top first (``/a/b/c`` -> ``["/a", "/a/b"]``)."""
    parts = [p for p in key.split("/") if p]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


def is_hidden(rel: str) -> bool:
    """Whether a path relative to a listed directory is (inside) a hidden ``_`` node."""
    return rel.startswith("_") or "/_" in rel


class _Dir:
    """A directory being assembled from a sorted range."""

    __slots__ = ("children", "kv")

    def __init__(self) -> None:
        self.kv: KeyValue | None = None  # the marker, when there is one
        self.children: dict[str, _Dir | KeyValue] = {}


def _assemble(root: str, kvs: Iterable[KeyValue]) -> _Dir:
    """The tree below ``root`` (its keys start with ``root + "/"``), hidden nodes left out."""
    top = _Dir()
    cut = len(root) + 1
    for kv in kvs:
        parts = kv.key_text[cut:].split("/")
        hidden = next((i for i, name in enumerate(parts) if name.startswith("_")), None)
        if hidden is not None:  # keep the visible directories above a hidden node
            parts = [*parts[:hidden], ""] if hidden else []
        if not parts:
            continue
        here = top
        for name in parts[:-1]:
            child = here.children.get(name)
            if not isinstance(child, _Dir):  # a leaf and a directory at once: the dir wins
                child = _Dir()
                here.children[name] = child
            here = child
        last = parts[-1]
        if last == "":  # a marker (or a hidden node): the directory ``here`` itself
            if hidden is None:
                here.kv = kv
        elif last not in here.children:
            here.children[last] = kv
    return top


def _dir_node(key: str, d: _Dir, *, list_children: bool, recursive: bool) -> Node:
    nodes: tuple[Node, ...] = ()
    if list_children:
        out = []
        for name in sorted(d.children):
            child = d.children[name]
            sub = f"{key}/{name}"
            if isinstance(child, _Dir):
                out.append(_dir_node(sub, child, list_children=recursive, recursive=recursive))
            else:
                out.append(leaf_node(child))
        nodes = tuple(out)
    created = d.kv.create_revision if d.kv else 0
    modified = d.kv.mod_revision if d.kv else 0
    return Node(key, None, True, nodes, created, modified)


def leaf_node(kv: KeyValue, ttl: int | None = None) -> Node:
    """A leaf's :class:`~etcdmap.models.Node` (``ttl``: looked up by the caller)."""
    return Node(kv.key_text, kv.value_text, False, (), kv.create_revision, kv.mod_revision, ttl)


def build_node(
    key: str, leaf: KeyValue | None, below: Sequence[KeyValue], *, recursive: bool
) -> Node | None:
    """The node at ``key`` from the range of the key itself and the range of ``key + "/"``.

    :param leaf: the key's own kv, if any.
    :param below: every kv starting with ``key + "/"`` (markers included), in key order.
    :param recursive: list the whole subtree (else the direct children only).
    :returns: ``None`` when there is nothing at ``key``.
    """
    root = key.rstrip("/")
    if below:
        return _dir_node(root, _assemble(root, below), list_children=True, recursive=recursive)
    if leaf is not None:
        return leaf_node(leaf)
    return None


def build_dict(
    key: str, below: Sequence[KeyValue], decode: Callable[[str, str], Any] | None
) -> dict[str, Any]:
    """The subtree below ``key`` as nested dicts (``decode(key, text)`` per value)."""
    root = key.rstrip("/")

    def walk(prefix: str, d: _Dir) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, child in d.children.items():
            if isinstance(child, _Dir):
                out[name] = walk(f"{prefix}/{name}", child)
            else:
                text = child.value_text
                out[name] = text if decode is None else decode(f"{prefix}/{name}", text)
        return out

    return walk(root, _assemble(root, below))
