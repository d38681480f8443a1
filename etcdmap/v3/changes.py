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

The watch itself resumes by revision (:class:`~etcdmap.v3.cursor.RevisionCursor`); a
compacted start revision raises :class:`~etcdmap.v3.errors.RevisionCompacted`, a
:class:`~etcdmap.errors.HistoryLost`.

:func:`proven_quiet` (a consumer waits for a revision with no event under the watched key)
proves that nothing below the key changed between the last delivered revision and the current
one by replaying that span of the key space's history (one short watch): unlike comparing
the keys at both revisions, it also sees a key created and deleted again in between.

Thread-safety: pure functions; :func:`proven_quiet` blocks (run it on a worker).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from etcdmap.models import Change, Node
from etcdmap.v3.layout import dir_key
from etcdmap.v3.models import Event, KeyValue
from etcdmap.v3.wire import prefix_end

if TYPE_CHECKING:
    from etcdmap.v3.client_protocol import V3Parts

__all__ = ["changes_of", "proven_quiet", "watch_range"]

_MAX_SPAN = 10_000
"""Revisions a quiet proof replays at most (a longer span is left to the stream)."""
_PROOF_READ = 2.0
"""Seconds of silence after which the replay of a quiet proof is given up."""


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


def proven_quiet(client: V3Parts, wants: Callable[[str], bool], last: int) -> int | None:
    """The current revision if no key that ``wants`` changed after revision ``last``, else
    ``None`` (also when the proof is inconclusive: history compacted, the user may not watch
    the whole key space, the span is longer than 10,000 revisions).

    Replays the key space's history from ``last + 1`` with one watch up to the first event at
    or after the current revision: every revision is one put, delete or txn, so an event at
    the current revision exists and everything before it comes first, in revision order
    (etcd-io/etcd release-3.5:server/mvcc/watchable_store.go ``syncWatchers``).
    """
    now = client.kv.range(b"\0", count_only=True).header.revision
    if now <= last or now - last > _MAX_SPAN:
        return None
    watcher = client.watch(b"\0", range_end=b"\0", start_revision=last + 1,
                           read_timeout=_PROOF_READ)
    try:
        for msg in watcher.responses():
            if watcher.reopens:
                return None  # silence: inconclusive
            for ev in msg.events:
                if ev.kv.mod_revision <= now and wants(ev.kv.key_text):
                    return None  # changes are on their way
                if ev.kv.mod_revision >= now:
                    return now
    except Exception:  # inconclusive (compacted, denied, unreachable): the stream decides
        return None
    finally:
        watcher.close()
    return None
