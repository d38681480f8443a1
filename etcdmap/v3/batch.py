"""Atomic tree writes on v3: assigning a mapping, ``update()`` and ``clear()`` in one txn.

etcd refuses a txn that deletes a range and puts a key inside it ("duplicate key given in
txn request"), so a subtree cannot be replaced by "delete the prefix, put the new keys". The
plan instead:

1. read the keys now below each written key (read-only txns, keys only) and remember the
   revision of each read;
2. one txn: compares that nothing below each written key changed since its read
   (``mod_revision < read + 1`` over the key and its prefix: a key created or rewritten
   meanwhile fails it), that the parents are not leaves, and (``create``) that the key is
   absent; success: delete each old key that is not rewritten, put every new key (a directory
   as its marker ``dir/``), and create the missing parent markers;
3. if another writer got in between, start again from 1.

Readers and watchers therefore see the whole change in one revision. A txn holds at most
etcd's ``--max-txn-ops`` operations per branch (128 by default); a larger write is split
into several txns, one after the other, and is **not atomic**: a reader may see part of it,
and a key created concurrently below a replaced key may survive.

Thread-safety: pure planning plus calls on a thread-safe client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from etcdmap.backend import Cond, TreeWrite
from etcdmap.errors import CompareFailed, NotADirectory
from etcdmap.v3 import conds
from etcdmap.v3.layout import ancestors, marker
from etcdmap.v3.models import RangeResponse
from etcdmap.v3.txn import Compare, Op

if TYPE_CHECKING:
    from etcdmap.v3.kv import KV

__all__ = ["plan_puts", "value_bytes", "write_trees"]

_RETRIES = 50


def value_bytes(text: str) -> bytes:
    """The bytes a value is stored as: UTF-8, and surrogate escapes back to the bytes they
    stand for -- the inverse of :attr:`etcdmap.v3.models.KeyValue.value_text`, so that a value
    that is not UTF-8 (another client's) is written back exactly (``etcdmap load``).

    :raises ValueError: a surrogate that stands for no byte.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise ValueError(f"value {text!r:.60} is not valid Unicode text: {exc}") from exc


def plan_puts(writes: Sequence[TreeWrite]) -> dict[str, str]:
    """Every key the writes put, with its text (directories as their markers).

    Every directory an assigned mapping makes gets its marker: the written key, each empty
    directory, and each directory on the way to a leaf (``{"b": {"c": "1"}}`` marks ``b``), so
    that it stays when its last key goes, as on v2 (the entries list only the leaves and the
    empty directories).
    """
    puts: dict[str, str] = {}
    for w in writes:
        if w.delete:
            continue
        if w.value is not None:
            puts[w.key] = w.value
            continue
        puts[marker(w.key)] = ""
        for rel, text in w.entries:
            sub = f"{w.key}/{rel}"
            parts = rel.split("/")
            for depth in range(1, len(parts)):
                puts.setdefault(marker(f"{w.key}/{'/'.join(parts[:depth])}"), "")
            if text is None:
                puts[marker(sub)] = ""
            else:
                puts[sub] = text
    return puts


def _read(kv: KV, writes: Sequence[TreeWrite], max_ops: int) -> tuple[list[str], list[int]]:
    """The keys now at and below each written key, and the revision of each write's read."""
    found: list[str] = []
    revs: list[int] = []
    per = max(1, max_ops // 2)
    for start in range(0, len(writes), per):
        chunk = writes[start:start + per]
        ops = []
        for w in chunk:
            ops += [Op.get(w.key, keys_only=True), Op.get(marker(w.key), prefix=True, keys_only=True)]
        resp = kv.txn([], ops)
        for got in resp.responses:
            assert isinstance(got, RangeResponse)
            found += [k.key_text for k in got.kvs]
        revs += [resp.header.revision] * len(chunk)
    return found, revs


def write_trees(kv: KV, writes: Sequence[TreeWrite], *, lease: int = 0, create: bool = False,
                max_ops: int = 128) -> int:
    """Replace each write's key (see the module docstring).

    :param lease: attach this lease to every key put (0: none).
    :param create: the single write's key must not exist.
    :returns: the revision after the (last) txn.
    :raises NodeExists: ``create`` and something is at the key.
    :raises NotADirectory: a parent of a written key is a leaf.
    :raises CompareFailed: other writers kept changing the subtree (50 attempts).
    """
    if not writes:
        return kv.range("/", count_only=True).header.revision
    puts = plan_puts(writes)
    parents = sorted({a for w in writes for a in ancestors(w.key)})
    for _ in range(_RETRIES):
        found, revs = ([], [0] * len(writes)) if create else _read(kv, writes, max_ops)
        deletes = [k for k in found if k not in puts]
        checks = [Compare.create(a, "==", 0) for a in parents]
        if create:
            checks += [Compare.create(writes[0].key, "==", 0), conds.no_dir(writes[0].key)]
        for w, rev in zip(writes, revs, strict=True):
            if not create:
                checks += [Compare.mod(w.key, "<", rev + 1),
                           Compare.mod(marker(w.key), "<", rev + 1, prefix=True)]
        ops = [Op.delete(k) for k in deletes]
        ops += [Op.put(k, value_bytes(v), lease=lease) for k, v in puts.items()]
        skip = frozenset(puts)
        ops += [Op.txn([Compare.create(marker(a), "==", 0)], [Op.put(marker(a), "")])
                for a in parents if marker(a) not in skip]
        if len(ops) > max_ops or len(checks) > max_ops:
            return _split(kv, writes, ops, parents, max_ops=max_ops, create=create)
        failure = conds.failure_reads(writes[0].key) if create else [Op.get(a) for a in parents]
        resp = kv.txn(checks, ops, failure)
        if resp.succeeded:
            return resp.header.revision
        if create:
            raise conds.failure(writes[0].key, Cond(exists=False), resp)
        _raise_leaf_parent(parents, resp.responses, resp.header.revision)
    raise CompareFailed("Compare failed", "other writers kept changing the subtree", 0)


def _raise_leaf_parent(parents: Sequence[str], responses: Sequence[object], rev: int) -> None:
    for parent, got in zip(parents, responses, strict=False):
        if isinstance(got, RangeResponse) and got.kvs:
            raise NotADirectory("Not a directory", parent, rev)


def _split(kv: KV, writes: Sequence[TreeWrite], ops: list[Op], parents: Sequence[str], *,
           max_ops: int, create: bool) -> int:
    """Too big for one txn: several txns in order (deletes first), not atomic; the first one
    carries the parent (and ``create``) checks."""
    checks = [Compare.create(a, "==", 0) for a in parents][:max_ops]
    key = writes[0].key
    if create:
        checks = [*checks[: max_ops - 2], Compare.create(key, "==", 0), conds.no_dir(key)]
    rev = 0
    for i in range(0, len(ops), max_ops):
        if i == 0:
            failure = conds.failure_reads(key) if create else [Op.get(a) for a in parents]
            resp = kv.txn(checks, ops[:max_ops], failure[:max_ops])
            if not resp.succeeded:
                if create:
                    raise conds.failure(key, Cond(exists=False), resp)
                _raise_leaf_parent(parents, resp.responses, resp.header.revision)
                raise CompareFailed("Compare failed", "a parent changed", resp.header.revision)
        else:
            resp = kv.txn([], ops[i:i + max_ops])
        rev = resp.header.revision
    return rev
