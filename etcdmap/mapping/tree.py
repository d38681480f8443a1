"""The state every watch keeps: an in-memory copy of the watched subtree (private module).

:class:`Tree` holds the decoded values as nested dicts, exposed through read-only
:class:`MirrorDir` views, plus each node's ``modifiedIndex``, so that after etcd dropped the
watch's history the watch can re-read the subtree and send exactly the differences. The
live mirror (:mod:`etcdmap.mapping.mirror`) exposes the same tree to readers.

Thread-safety: only the watch thread mutates a tree, one dict operation at a time; readers
never take a lock (each single dict operation is atomic under the GIL). A read sees every
change up to some index; reads of two keys are not a snapshot (use :meth:`MirrorDir.to_dict`,
which copies each directory's dict atomically). Values are shared, do not mutate them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from etcdmap.errors import InvalidResponseError
from etcdmap.mapping.paths import plain
from etcdmap.models import Change, Node
from etcdmap.signals import Event

__all__ = ["MirrorDir", "Tree"]

_REMOVALS = frozenset({"delete", "compareAndDelete", "expire"})


class MirrorDir(Mapping[str, Any]):
    """A read-only view of one directory of a mirror's in-memory tree.

    ``d[k]`` is one dict lookup: a leaf's decoded value, or a nested :class:`MirrorDir`.
    ``d["a/b"]`` walks nested directories. A view of a directory that is later deleted
    becomes empty; a directory created again later is a new view (index the mirror again).

    Thread-safe for reading from any thread (no locks; see the module docstring).
    """

    __slots__ = ("__weakref__", "_data")

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = {} if data is None else data

    def __getitem__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            if isinstance(key, str) and "/" in key:
                return self._walk(key)
            raise

    def _walk(self, key: str) -> Any:
        node: Any = self
        for part in key.strip("/").split("/"):
            if not isinstance(node, MirrorDir):
                raise KeyError(key)
            node = node._data[part]
        return node

    def __contains__(self, key: object) -> bool:
        if key in self._data:
            return True
        if isinstance(key, str) and "/" in key:
            try:
                self._walk(key)
            except KeyError:
                return False
            return True
        return False

    def get(self, key: str, default: Any = None) -> Any:
        """``self[key]``, or ``default`` when the key is absent."""
        try:
            return self[key]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        # A sorted snapshot (like EtcdMap): the watch thread may change the dict meanwhile.
        return iter(sorted(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def copy(self) -> dict[str, Any]:
        """A plain nested ``dict`` snapshot, like ``dict.copy()`` (the same as :meth:`to_dict`;
        no network). Thread-safe."""
        return self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as plain nested dicts (each directory's dict is copied atomically)."""
        out: dict[str, Any] = {}
        for name, value in sorted(dict(self._data).items()):
            out[name] = value.to_dict() if isinstance(value, MirrorDir) else value
        return out

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MirrorDir):
            return self.to_dict() == other.to_dict()
        if isinstance(other, Mapping):
            return self.to_dict() == plain(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like dict

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"


class Tree:
    """The last known state of a watched subtree: decoded values and ``modifiedIndex`` es.

    :param root: the absolute key of the watched directory (``"/config"``; ``""`` = the
        whole key space).
    :param decode: the codec's ``decode`` (``None``: values are kept as etcd's strings).
    :param on_decode_error: called with the exception when ``decode`` fails (the raw string
        is kept instead).

    Not thread-safe for writers: only one thread (the watch thread) may call :meth:`load`,
    :meth:`apply` and :meth:`resync`. Readers of :attr:`view` need no lock.
    """

    def __init__(
        self,
        root: str,
        decode: Callable[[str], Any] | None = None,
        on_decode_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.root = root.rstrip("/")
        self.view = MirrorDir()
        """The root directory view (its dict is never replaced, only changed in place)."""
        # directory's relative path ("" for the root) -> {child's name: its modifiedIndex};
        # a node is a directory when its path is a key here. Per directory, so that a load
        # hashes no path per key (the child's name is the one the view's dict already holds).
        self._indexes: dict[str, dict[str, int]] = {"": {}}
        self._decode = decode
        self._on_decode_error = on_decode_error

    # ------------------------------------------------------------------ helpers

    @property
    def meta(self) -> dict[str, tuple[int, bool]]:
        """Relative path -> (modifiedIndex, is a directory), for every node below the root
        (a new dict built on each access)."""
        indexes = self._indexes
        out: dict[str, tuple[int, bool]] = {}
        for here, children in indexes.items():
            for name, index in children.items():
                rel = f"{here}/{name}" if here else name
                out[rel] = (index, rel in indexes)
        return out

    def _known(self, rel: str) -> tuple[int, bool] | None:
        """``meta.get(rel)`` without building :attr:`meta`."""
        parent, _, name = rel.rpartition("/")
        children = self._indexes.get(parent)
        if children is None or name not in children:
            return None
        return children[name], rel in self._indexes

    def relative(self, key: str) -> str | None:
        """``key`` relative to the root (``""`` for the root), ``None`` when outside it."""
        if key == self.root:
            return ""
        prefix = self.root + "/"
        if key.startswith(prefix):
            return key[len(prefix):]
        if self.root.startswith(key + "/") or (key == "" and self.root):
            return ""  # an ancestor directory: its deletion/expiry removes the whole subtree
        return None

    def decode(self, raw: str | None) -> Any:
        """Decode a stored string with the codec (``None`` stays ``None``)."""
        if raw is None or self._decode is None:
            return raw
        try:
            return self._decode(raw)
        except Exception as exc:  # a codec error must not stop the watch: keep the raw text
            if self._on_decode_error is not None:
                self._on_decode_error(exc)
            return raw

    def lookup(self, rel: str) -> Any:
        """The decoded value (or :class:`MirrorDir`) at ``rel``; ``None`` when absent."""
        if rel == "":
            return self.view
        node: Any = self.view
        for part in rel.split("/"):
            if not isinstance(node, MirrorDir):
                return None
            node = node._data.get(part)
        return node

    @staticmethod
    def hidden(rel: str) -> bool:
        """Whether ``rel`` is (inside) a hidden node: a path element starting with ``_``.

        etcd omits hidden nodes from listings and from live events, but its history scan
        returns them (etcd-io/etcd release-3.4:Documentation/v2/api.md, "Using hidden nodes"); the
        mirror ignores them so it always equals a GET.
        """
        return rel.startswith("_") or "/_" in rel

    # ------------------------------------------------------------------ mutations

    def _set(self, rel: str, index: int, is_dir: bool, value: Any) -> None:
        if rel == "":
            if not is_dir:
                self._clear()
            return
        parts = rel.split("/")
        data = self.view._data
        indexes = self._indexes
        here = ""
        for part in parts[:-1]:
            path = f"{here}/{part}" if here else part
            child = data.get(part)
            if not isinstance(child, MirrorDir):
                child = MirrorDir()
                data[part] = child
                indexes[here][part] = index
                indexes[path] = {}
            data = child._data
            here = path
        name = parts[-1]
        existing = data.get(name)
        if is_dir:
            if not isinstance(existing, MirrorDir):
                data[name] = MirrorDir()
                indexes[rel] = {}
        else:
            if isinstance(existing, MirrorDir):
                self._forget(rel, existing)
            data[name] = value
        indexes[here][name] = index

    def _remove(self, rel: str) -> None:
        if rel == "":
            self._clear()
            return
        parent, _, name = rel.rpartition("/")
        holder = self.lookup(parent)
        if not isinstance(holder, MirrorDir):
            return
        existing = holder._data.pop(name, None)
        if isinstance(existing, MirrorDir):
            self._forget(rel, existing)
        children = self._indexes.get(parent)
        if children is not None:
            children.pop(name, None)

    def _forget(self, rel: str, directory: MirrorDir) -> None:
        """Empty ``directory`` (and the views below it) and drop their indexes."""
        self._indexes.pop(rel, None)
        for name, value in list(directory._data.items()):
            if isinstance(value, MirrorDir):
                self._forget(f"{rel}/{name}" if rel else name, value)
        directory._data.clear()

    def _clear(self) -> None:
        self._forget("", self.view)  # clear nested views too, then the root dict
        self._indexes = {"": {}}

    # ------------------------------------------------------------------ public API

    def load(self, node: Node | None) -> None:
        """Replace the state with a recursive GET's result, sending nothing.

        :param node: the root node of a recursive GET, ``None`` when the directory is absent.
        """
        self._clear()
        if node is None:
            return
        for rel, (index, is_dir, raw) in _flatten(node, self.root).items():
            if not self.hidden(rel):
                self._set(rel, index, is_dir, None if is_dir else self.decode(raw))

    def load_listing(self, node: Mapping[str, Any] | None) -> None:
        """:meth:`load` from a recursive GET's answer as etcd v2 sends it (its JSON ``node``
        object): the same state, without a :class:`~etcdmap.models.Node` per key (a mirror of
        100,000 keys loads in about a third of the time).

        :param node: the answer's ``node`` object (``None``: the directory is absent).
        :raises InvalidResponseError: a node is not shaped as etcd sends it (nothing of it is
            kept then).
        """
        self._clear()
        if node is None or node.get("dir") is not True:
            return  # absent, or the watched key is a leaf: nothing below it
        children = node.get("nodes")
        if not children:
            return
        try:
            self._load_children(children, self.view._data, self._indexes[""], "",
                                len(self.root) + 1)
        except (TypeError, KeyError, AttributeError) as exc:  # a broken answer, not etcd's
            self._clear()
            raise InvalidResponseError(f"the listing of {self.root or '/'!r} is not an etcd v2 "
                                       f"listing: {exc}") from exc

    def _load_children(self, children: list[Any], data: dict[str, Any],
                       indexes: dict[str, int], prefix: str, cut: int) -> None:
        # Hot path (one pass per node): exact type() checks as etcdmap.v2.wire.parse_node.
        decode = self.decode if self._decode is not None else None
        for child in children:
            key, index = child["key"], child["modifiedIndex"]
            if type(key) is not str or type(index) is not int:
                raise TypeError(f"a node's key or index has the wrong type: {child!r:.200}")
            name = key[cut:]
            if name[:1] == "_":
                continue  # hidden (see hidden())
            indexes[name] = index
            if "dir" in child:  # etcd sends "dir" only as true
                sub = MirrorDir()
                data[name] = sub
                rel = prefix + name
                below: dict[str, int] = {}
                self._indexes[rel] = below
                grand = child.get("nodes")
                if grand:
                    if type(grand) is not list:
                        raise TypeError(f"the nodes of {key!r} are not a list")
                    self._load_children(grand, sub._data, below, rel + "/", len(key) + 1)
                continue
            value = child.get("value")
            if value is not None and type(value) is not str:
                raise TypeError(f"the value of {key!r} is not a string: {value!r:.80}")
            data[name] = value if decode is None else decode(value)

    def apply(self, response: Change) -> Event | None:
        """Apply one watch event; return the :class:`~etcdmap.signals.Event` to send.

        :param response: the change, as a backend's change stream delivers it.
        :returns: the event, or ``None`` when it does not concern the tree (a hidden key, a
            key outside the root, no node).
        """
        node = response.node
        rel = self.relative(node.key)
        if rel is None or self.hidden(rel):
            return None
        prev = response.prev_node
        prev_value = None if prev is None or prev.dir else self.decode(prev.value)
        index = response.index
        if response.action in _REMOVALS:
            self._remove(rel)
            return Event(rel, node.key, response.action, None, prev_value, index,
                         node.dir or (prev is not None and prev.dir), True, True)
        value = None if node.dir else self.decode(node.value)
        self._set(rel, index, node.dir, value)
        return Event(rel, node.key, response.action, value, prev_value, index, node.dir,
                     False, prev is not None)

    def resync(self, node: Node | None, index: int) -> list[Event]:
        """Bring the state to a fresh recursive GET; return the differences as events.

        Removed nodes are reported topmost only (a removed directory implies its children);
        new leaves and new *empty* directories as created; leaves whose ``modifiedIndex``
        changed as updated. Every event has ``action="resync"``.

        :param node: the root node of the fresh recursive GET (``None``: the directory is gone).
        :param index: the GET's ``X-Etcd-Index`` (the index of removal events).
        :returns: the differences, removals first, then the rest in index order.
        """
        new = {} if node is None else _flatten(node, self.root)
        new = {rel: v for rel, v in new.items() if not self.hidden(rel)}
        old = self.meta
        gone = {rel for rel, (_, is_dir) in old.items()
                if rel not in new or new[rel][1] != is_dir}
        events: list[Event] = []
        for rel in sorted(gone):
            parent = rel.rpartition("/")[0]
            if any(p in gone for p in _ancestors(parent)):
                continue
            before = self.lookup(rel)
            was_dir = old[rel][1]
            events.append(Event(rel, self._abs(rel), "resync", None,
                                None if was_dir else before, index, was_dir, True, True))
            self._remove(rel)
        parents = {rel.rpartition("/")[0] for rel in new if "/" in rel}
        changes: list[tuple[int, Event]] = []
        for rel, (mod, is_dir, raw) in new.items():
            known = self._known(rel)
            if known is not None and (is_dir or known[0] == mod):
                continue
            if known is None and is_dir and rel in parents:
                self._set(rel, mod, True, None)  # implied by its children: no event
                continue
            before = None if known is None else self.lookup(rel)
            value = None if is_dir else self.decode(raw)
            changes.append((mod, Event(rel, self._abs(rel), "resync", value, before, mod,
                                       is_dir, False, known is not None)))
        for _, event in sorted(changes, key=lambda c: c[0]):
            self._set(event.key, event.index, event.dir, event.value)
            events.append(event)
        return events

    def _abs(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root


def _ancestors(rel: str) -> Iterator[str]:
    while rel:
        yield rel
        rel = rel.rpartition("/")[0]


def _flatten(node: Node, root: str) -> dict[str, tuple[int, bool, str | None]]:
    """Relative path -> (modifiedIndex, is_dir, raw value) for every node below ``node``."""
    out: dict[str, tuple[int, bool, str | None]] = {}
    cut = len(root) + 1
    stack = list(node.nodes)
    while stack:
        n = stack.pop()
        out[n.key[cut:]] = (n.modified_index, n.dir, n.value)
        if n.nodes:
            stack.extend(n.nodes)
    if not node.dir and node.key == root:
        return {}
    return out
