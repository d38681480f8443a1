"""Pure helpers of :class:`etcdmap.EtcdMap`: key validation, path joining, tree conversion.

No I/O here; everything is unit-tested without a server.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from etcdmap.models import Node

__all__ = [
    "is_hidden",
    "join",
    "node_to_dict",
    "normalize_path",
    "plain",
    "validate_key",
    "walk_tree",
]


def validate_key(key: object) -> str:
    """Check that ``key`` is a valid mapping key: exactly one etcd path segment.

    Allowed: any non-empty ``str`` without ``/`` or control characters, other than ``.`` and
    ``..``. Characters such as ``? # % +``, spaces and non-ASCII are fine (the client layer
    percent-encodes them on the wire).

    :param key: the candidate key.
    :returns: ``key``.
    :raises TypeError: ``key`` is not a ``str``.
    :raises ValueError: ``key`` is empty, ``.``/``..``, contains ``/``, a NUL or another
        control character, or cannot be encoded as UTF-8 (a lone surrogate).
    """
    if not isinstance(key, str):
        raise TypeError(f"EtcdMap keys are str, not {type(key).__name__}")
    if not key:
        raise ValueError("EtcdMap keys cannot be empty")
    if key in (".", ".."):
        raise ValueError(f"{key!r} is not a valid EtcdMap key")
    if "/" in key:
        raise ValueError(
            f"EtcdMap keys are one path segment: {key!r} contains '/'; "
            f"use nested access such as m['a']['b'] or EtcdMap(client, '/path/to/dir')"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in key):
        raise ValueError(f"EtcdMap keys cannot contain control characters: {key!r}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"EtcdMap keys must be valid Unicode text: {key!r}") from exc
    return key


def normalize_path(path: object) -> str:
    """Normalise a directory path: leading ``/``, no trailing or doubled ``/``.

    ``"config"``, ``"/config/"`` and ``"//config"`` all give ``"/config"``; ``""`` and ``"/"``
    give ``"/"`` (the root of the key space).

    :param path: the directory path.
    :returns: the normalised absolute path.
    :raises TypeError: ``path`` is not a ``str``.
    :raises ValueError: a segment is ``.``/``..`` or contains control characters.
    """
    if not isinstance(path, str):
        raise TypeError(f"an EtcdMap path is a str, not {type(path).__name__}")
    segments = [validate_key(s) for s in path.split("/") if s]
    return "/" + "/".join(segments)


def join(path: str, key: str) -> str:
    """Join a normalised directory path and one key segment: ``join("/", "a") == "/a"``."""
    return f"{path}/{key}" if path != "/" else f"/{key}"


def is_hidden(key: str) -> bool:
    """``True`` for keys etcd hides from listings: those starting with ``_`` (etcd-io/etcd
    release-3.4:Documentation/v2/api.md, "Using hidden nodes")."""
    return key.startswith("_")


def node_to_dict(node: Node, decode: Callable[[Node], Any]) -> dict[str, Any]:
    """Convert a directory node from a recursive GET into plain nested dicts.

    :param node: a directory node with its children listed recursively.
    :param decode: turns a file node into its Python value.
    :returns: ``{name: value or nested dict}``, keys in sorted order.
    """
    out: dict[str, Any] = {}
    for child in sorted(node.nodes, key=lambda n: n.name):
        out[child.name] = node_to_dict(child, decode) if child.dir else decode(child)
    return out


def walk_tree(
    tree: Mapping[Any, Any], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Flatten nested mappings into ``(segments, leaf)`` pairs, validating every key.

    Non-empty sub-mappings are expanded; an empty sub-mapping is yielded as ``(segments, {})``
    so that the caller can create the (empty) directory; every other value is a leaf.

    :param tree: the mapping to flatten.
    :param prefix: segments to prepend (used by the recursion).
    :returns: an iterator of ``(segments, value)``; sub-mappings are expanded, never yielded,
        unless empty.
    :raises TypeError: a key is not a ``str``.
    :raises ValueError: a key is not a valid single segment (see :func:`validate_key`).
    """
    for key, value in tree.items():
        segments = (*prefix, validate_key(key))
        if isinstance(value, Mapping):
            if len(value) == 0:
                yield segments, {}
            else:
                yield from walk_tree(value, segments)
        else:
            yield segments, value


def plain(mapping: Mapping[Any, Any]) -> dict[Any, Any]:
    """A snapshot of any mapping as plain nested dicts.

    An object with a ``to_dict()`` that returns a dict (an ``EtcdMap``: one recursive read; a
    mirror's directory) is asked for it; other mappings are copied level by level.
    """
    to_dict = getattr(mapping, "to_dict", None)
    if callable(to_dict):
        result = to_dict()
        if isinstance(result, dict):
            return result
    return {k: plain(v) if isinstance(v, Mapping) else v for k, v in mapping.items()}
