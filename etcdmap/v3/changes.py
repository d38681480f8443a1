"""The v3 backend's change stream: a v3 watch with ``prev_kv``, as v2-style changes.

Each event becomes a :class:`~etcdmap.models.Change` (etcd-io/etcd release-3.5:
``api/mvccpb/kv.proto``):

- a PUT is ``"create"`` when the key's ``version`` is 1 (it did not exist before), else
  ``"set"``; a DELETE is ``"delete"``. A lease expiry arrives as a plain DELETE, so it is a
  ``"delete"`` too (signal ``deleted``, never ``expired``, on v3);
- a directory marker (``dir/``, see :mod:`etcdmap.v3.layout`) is a change of the directory
  ``dir``; in one revision, the marker PUT of a directory that also gets keys below it is
  left out (v2 makes parents silently too), and the DELETEs below a deleted marker are left
  out (v2 reports a deleted directory once);
- hidden keys below the watched key are left out, as v2's watches do; a non-recursive
  stream reports the watched key (and its marker) only.

After each message the stream yields :class:`~etcdmap.backend.Progress` with the last
revision delivered. The watch itself (:class:`etcdmap.v3.watch.Watcher`) fails over to
another member and resumes at the last revision + 1; a compacted start revision raises
:class:`~etcdmap.v3.errors.RevisionCompacted`, a :class:`~etcdmap.errors.HistoryLost`.

:meth:`V3ChangeStream.nudge` (a consumer waits for a revision with no event under the
watched key) proves in a helper thread that nothing below the key changed between the last
delivered revision and the current one, by comparing the keys and ``mod_revision`` s at both
revisions; the stream then reports that revision as progress. (A key created and deleted
again in between is not seen by that proof: its events still arrive, just after the progress.)

Thread-safety: iterate from one thread; :meth:`~V3ChangeStream.close` and
:meth:`~V3ChangeStream.nudge` from any thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from etcdmap.backend import Progress
from etcdmap.models import Change, Node
from etcdmap.v3.layout import dir_key, is_hidden
from etcdmap.v3.models import Event, KeyValue
from etcdmap.v3.wire import prefix_end

if TYPE_CHECKING:
    from etcdmap.v3.parts import V3Parts
    from etcdmap.v3.watch import Watcher

__all__ = ["V3ChangeStream", "changes_of", "proven_quiet", "watch_range"]

log = logging.getLogger("etcdmap.v3.changes")


def _node(kv: KeyValue | None, key: str, rev: int) -> Node:
    path = dir_key(key)
    is_dir = key.endswith("/")
    if kv is None:
        return Node(path, None, is_dir, (), 0, rev)
    return Node(path, None if is_dir else kv.value_text, is_dir, (), kv.create_revision,
                kv.mod_revision)


def changes_of(events: Sequence[Event], wants: Callable[[str], bool]) -> list[Change]:
    """The changes of one message's events (see the module docstring for the rules)."""
    by_rev: dict[int, list[Event]] = {}
    for ev in events:
        by_rev.setdefault(ev.kv.mod_revision, []).append(ev)
    out: list[Change] = []
    for rev, group in by_rev.items():
        keys = [ev.kv.key_text for ev in group]
        put_keys = [k for k, ev in zip(keys, group, strict=True) if ev.type == "PUT"]
        gone_dirs = [k for k, ev in zip(keys, group, strict=True) if ev.type == "DELETE" and k.endswith("/")]
        for key, ev in zip(keys, group, strict=True):
            if not wants(key):
                continue
            if ev.type == "PUT":
                if key.endswith("/") and any(p != key and p.startswith(key) for p in put_keys):
                    continue  # a parent made on the way
                action = "create" if ev.kv.version == 1 else "set"
                prev = None if ev.prev_kv is None else _node(ev.prev_kv, key, rev)
                out.append(Change(action, _node(ev.kv, key, rev), prev, rev))
            else:
                if any(d != key and key.startswith(d) for d in gone_dirs):
                    continue  # reported with its directory
                prev = None if ev.prev_kv is None else _node(ev.prev_kv, key, rev)
                node = Node(dir_key(key), None, key.endswith("/"), (),
                            0 if ev.prev_kv is None else ev.prev_kv.create_revision, rev)
                out.append(Change("delete", node, prev, rev))
    return out


def watch_range(root: str, recursive: bool) -> tuple[bytes, bytes]:
    """The key range a watch of ``root`` covers: everything below it (``recursive`` or the
    key space root), else the key itself and its directory marker."""
    start = (root or "/").encode()
    if recursive or not root:
        return start, prefix_end((root + "/").encode())
    return start, (root + "/\0").encode()


def proven_quiet(
    client: V3Parts, root: str, recursive: bool, last: int, wants: Callable[[str], bool]
) -> int | None:
    """The current revision if nothing below ``root`` changed since revision ``last``
    (compares the keys and ``mod_revision`` s at both revisions), else ``None``.

    A key created and deleted again in between is not seen by this proof; its events still
    arrive on the stream, just after the progress it allows.
    """
    kv = client.kv
    start, end = watch_range(root, recursive)
    now = kv.range(start, range_end=end, count_only=True).header.revision
    if now <= last:
        return None
    old = kv.range(start, range_end=end, keys_only=True, revision=last)
    new = kv.range(start, range_end=end, keys_only=True, revision=now)
    before = {k.key_text for k in old.kvs if wants(k.key_text)}
    after = {k.key_text: k.mod_revision for k in new.kvs if wants(k.key_text)}
    if set(after) != before or any(mod > last for mod in after.values()):
        return None  # changes are on their way
    return now


class V3ChangeStream:
    """The changes below a key from a revision on (see the module docstring and
    :class:`~etcdmap.backend.ChangeStream`).

    :param client: the v3 client.
    :param key: the watched key (``"/"``: everything).
    :param after: deliver changes with a revision above this.
    :param recursive: every key below (else the key itself).
    :param idle_timeout: the longest silence before the watch is reopened (a stopped member
        is left then); at least 0.5 s.
    :param on_error: not called: the watcher recovers from member failures by itself.
    """

    def __init__(
        self, client: V3Parts, key: str, *, after: int, recursive: bool = True,
        idle_timeout: float = 1.0, on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._client = client
        self._root = key.rstrip("/")
        self._recursive = recursive
        self._idle = max(0.5, float(idle_timeout))
        self._last = after
        self._lock = threading.Lock()
        self._watcher: Watcher | None = None
        self._closed = False
        self._fence = 0  # a revision proven to carry nothing more for this stream
        self.dropped = 0
        """How many times the watch was reopened (failover, idle, nudge)."""

    @property
    def endpoint(self) -> str | None:
        """The member the watch reads from."""
        watcher = self._watcher
        return None if watcher is None else watcher.endpoint

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def wants(self, key: str) -> bool:
        """Whether a change of ``key`` concerns this stream."""
        root = self._root
        if key in (root, root + "/"):
            return True
        if not self._recursive or not key.startswith(root + "/"):
            return False
        return not is_hidden(key[len(root) + 1:])

    def _open(self) -> Watcher:
        start, end = watch_range(self._root, self._recursive)
        return self._client.watch(start, range_end=end, start_revision=self._last + 1,
                                  prev_kv=True, read_timeout=self._idle)

    def __iter__(self) -> Iterator[Change | Progress]:
        while not self._closed:
            watcher = self._open()
            with self._lock:
                if self.closed:
                    watcher.close()
                    return
                self._watcher = watcher
            try:
                for msg in watcher.responses():
                    if msg.events:
                        yield from changes_of(msg.events, self.wants)
                        self._last = max(self._last, *(ev.kv.mod_revision for ev in msg.events))
                        yield Progress(self._last)
                    elif msg.is_progress and msg.header.revision > self._last:
                        self._last = msg.header.revision
                        yield Progress(self._last)
            finally:
                watcher.close()
            if self._fence > self._last:
                self._last = self._fence
                yield Progress(self._last)
            self.dropped += 1

    def close(self) -> None:
        """End the iteration (any thread; idempotent)."""
        with self._lock:
            self._closed = True
            watcher = self._watcher
        if watcher is not None:
            watcher.close()

    def nudge(self) -> None:
        """Prove, in a helper thread, that nothing is pending up to the current revision."""
        threading.Thread(target=self._prove, name="etcdmap-v3-nudge", daemon=True).start()

    def _prove(self) -> None:
        try:
            last = self._last
            now = proven_quiet(self._client, self._root, self._recursive, last, self.wants)
            if now is not None and self._last == last:
                self._fence = now
                watcher = self._watcher
                if watcher is not None:
                    watcher.close()  # the iterator reports the fence and reopens
        except Exception as exc:
            log.debug("watch on %s: nudge failed: %s", self._root or "/", exc)
