"""The live mirror: a watch-coherent, in-memory copy of an etcd subtree, read at dict speed.

``m.mirror()`` reads the whole subtree once (one recursive GET), then a
:class:`~etcdmap.mapping.watch.Watch` started at that GET's ``X-Etcd-Index + 1`` applies every
change to the copy, sending the :mod:`etcdmap.signals` with ``sender`` = the mirror. It is a
read-only :class:`~collections.abc.Mapping` (``mirror(writable=True)`` passes writes through
to etcd); directories are nested read-only :class:`MirrorDir` views of the same tree.

``mirror[k]`` is one dict lookup of an already decoded value: no lock, no I/O. A read sees
every change up to some index (:attr:`Mirror.index`); reads of two keys are not a snapshot
(use :meth:`MirrorDir.to_dict`, which copies each directory's dict atomically). Values are
shared between readers: do not mutate them (e.g. lists from the ``json`` codec).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from etcdmap._closing import Closing
from etcdmap._waiter import IndexWaiter
from etcdmap.backend import SupportsListing
from etcdmap.errors import KeyNotFound
from etcdmap.mapping.codecs import decodes_verbatim
from etcdmap.mapping.tree import MirrorDir, Tree
from etcdmap.mapping.watch import Watch, log
from etcdmap.signals import report_error

__all__ = ["Mirror", "MirrorDir", "load_tree", "mirror_map", "watch_map"]


class Mirror(MirrorDir, Closing):
    """A live, watch-coherent copy of an etcd directory (see the module docstring).

    Create it with :meth:`etcdmap.mapping.EtcdMap.mirror`. ``mirror[k]`` is a dict lookup;
    :attr:`index` tells how current it is; :meth:`wait_for` gives read-your-writes; the
    signals are sent with ``sender`` = the mirror. Use it as a context manager or call
    :meth:`close` to stop its watch.

    Thread-safe: reads from any thread; writes (when ``writable``) go through the
    thread-safe :class:`~etcdmap.mapping.EtcdMap`.
    """

    __slots__ = ("_source", "_waiter", "_watch", "writable")

    def __init__(self, tree: Tree, source: Any, *, writable: bool = False) -> None:
        super().__init__(tree.view._data)
        self._source = source
        self.writable = writable
        """Whether writes pass through to etcd (``mirror(writable=True)``)."""
        self._waiter = IndexWaiter()
        self._watch: Watch | None = None

    @property
    def index(self) -> int:
        """The etcd index this copy is current to: every change up to it has been applied."""
        return self._waiter.index

    @property
    def watch(self) -> Watch | None:
        """The :class:`~etcdmap.mapping.watch.Watch` keeping the mirror current."""
        return self._watch

    def _advance(self, index: int) -> None:
        # Called by the watch thread after it applied everything up to ``index``.
        self._waiter.advance(index)

    def wait_for(self, index: int | None = None, timeout: float | None = 5.0) -> bool:
        """Wait until the mirror has applied every change up to ``index``.

        After ``m["x"] = "1"``, ``mirror.wait_for(m.index)`` makes ``mirror["x"] == "1"``
        (use the index of the map you wrote through: a nested view has its own). Without
        ``index``, waits for the cluster's current index (one quorum read first), i.e. for
        every write that completed before the call.

        An index of a write *outside* the mirrored directory carries no event; the mirror
        then reconnects its watch to prove nothing is missing, which takes a fraction of a
        second.

        :param index: an etcd index (e.g. a write's ``Response.index``), or ``None``.
        :param timeout: seconds to wait at most (``None``: no limit).
        :returns: ``True`` when the mirror reached ``index``, ``False`` on timeout.
        :raises EtcdMapError: reading the current index failed (``index=None`` only).
        """
        if index is None:
            index = self._source.backend.current_index(self._source.path)
        nudge = self._watch.nudge if self._watch is not None else None
        return self._waiter.wait_for(index, timeout, nudge)

    def __setitem__(self, key: str, value: Any) -> None:
        self._writable()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._writable()[key]

    def _writable(self) -> Any:
        if not self.writable:
            raise TypeError("the mirror is read-only; use mirror(writable=True) or the EtcdMap")
        return self._source

    def close(self, timeout: float = 2.0) -> None:
        """Stop the watch (the copy stays readable but no longer changes).

        :param timeout: seconds to wait for the watch thread.
        """
        if self._watch is not None:
            self._watch.stop(timeout)


def mirror_map(emap: Any, *, writable: bool = False, idle_timeout: float = 1.0) -> Mirror:
    """Build a :class:`Mirror` of an :class:`~etcdmap.mapping.EtcdMap` (``m.mirror()``).

    One recursive GET, then a watch from that GET's ``X-Etcd-Index + 1``.

    :param emap: the map (writes go through it when ``writable``).
    :param writable: let ``mirror[k] = v`` and ``del mirror[k]`` write through to etcd.
    :param idle_timeout: see :class:`~etcdmap.mapping.watch.Watch`.
    :returns: the live mirror (close it, or use it as a context manager).
    :raises EtcdMapError: the first read failed.
    """
    holder: list[Mirror] = []
    tree, index = load_tree(emap, decode_error_reporter(emap.path, lambda: holder[0]))
    mirror = Mirror(tree, emap, writable=writable)
    holder.append(mirror)
    mirror._advance(index)
    watch = Watch(emap.backend, tree, mirror, after_index=index, recursive=True,
                  idle_timeout=idle_timeout, on_index=mirror._advance)
    mirror._watch = watch
    watch.start()
    return mirror


# ---------------------------------------------------------------------- EtcdMap entry points


def load_tree(emap: Any, on_decode_error: Callable[[Exception], None]) -> tuple[Tree, int]:
    """A :class:`~etcdmap.mapping.tree.Tree` of ``emap``'s subtree from one recursive GET, and the
    GET's ``X-Etcd-Index``.

    :raises EtcdMapError: the read failed.
    """
    codec = emap.codec
    decode = None if decodes_verbatim(codec, emap.backend.capabilities) else codec.decode
    tree = Tree("" if emap.path == "/" else emap.path, decode, on_decode_error)
    backend = emap.backend
    if isinstance(backend, SupportsListing):  # v2: etcd's JSON, no model per key
        raw, index = backend.read_listing(emap.path)
        tree.load_listing(raw)
        return tree, index
    try:
        node, index = backend.read(emap.path, recursive=True)
    except KeyNotFound as exc:
        node, index = None, exc.index
    tree.load(node)
    return tree, index


def decode_error_reporter(path: str, sender: Callable[[], object]) -> Callable[[Exception], None]:
    """A callback that logs a codec failure and sends it as ``watch_error``."""

    def report(exc: Exception) -> None:
        log.warning("watch on %s: cannot decode a value: %s", path, exc)
        report_error(sender(), exc)

    return report


def watch_map(
    emap: Any,
    *,
    recursive: bool = True,
    after_index: int | None = None,
    idle_timeout: float = 1.0,
) -> Watch:
    """Start a :class:`Watch` on an :class:`~etcdmap.mapping.EtcdMap` (``m.watch()``).

    It first reads the subtree (one recursive GET: the state it diffs against after a lost
    history), then delivers every event after ``after_index``, or after the map's last read
    (:attr:`~etcdmap.mapping.EtcdMap.index`) when there was one, or after that GET.

    :param emap: the map; it is the signals' ``sender``.
    :param recursive: watch every key below (``False``: events on the directory itself only).
    :param after_index: deliver events from ``after_index + 1`` on.
    :param idle_timeout: see :class:`Watch`.
    :returns: the started watch.
    :raises EtcdMapError: the first read failed (nothing is started then).
    """
    tree, index = load_tree(emap, decode_error_reporter(emap.path, lambda: emap))
    if after_index is not None:
        if isinstance(after_index, bool) or not isinstance(after_index, int) or after_index < 0:
            raise ValueError(f"after_index must be an int >= 0, got {after_index!r}")
        start = after_index
    else:
        start = emap.index if 0 < emap.index < index else index
    watch = Watch(emap.backend, tree, emap, after_index=start, recursive=recursive,
                  idle_timeout=idle_timeout)
    return watch.start()
