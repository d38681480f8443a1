"""Compares and failure diagnosis of the v3 backend's conditional writes (pure, no I/O).

A v2-style write on v3 is one txn whose compares say everything v2 would check: the parents
are not leaves (v2 ``NotADirectory``), the key is not a directory (``NotAFile``), and the
caller's :class:`~etcdmap.backend.Cond` (``prevExist`` -> ``create_revision`` = 0 / > 0,
``prevValue`` -> VALUE, ``prevIndex`` -> ``mod_revision``). When the txn fails, its failure
branch reads the key, its parents and the size of its subtree, and :func:`failure` names the
first check that failed, with v2's error class, message and cause.

Thread-safety: pure functions.
"""

from __future__ import annotations

from etcdmap.backend import Cond
from etcdmap.errors import (
    CompareFailed,
    EtcdError,
    KeyNotFound,
    NodeExists,
    NotADirectory,
    NotAFile,
)
from etcdmap.v3.layout import ancestors, marker
from etcdmap.v3.models import KeyValue, RangeResponse, TxnResponse
from etcdmap.v3.txn import Compare, Op

__all__ = ["compares", "failure", "failure_reads", "marker_ops", "no_dir", "parents_ok"]


def parents_ok(key: str) -> list[Compare]:
    """Every parent of ``key`` is not a leaf (create revision 0)."""
    return [Compare.create(a, "==", 0) for a in ancestors(key)]


def no_dir(key: str) -> Compare:
    """Nothing below ``key``: no key starts with ``key + "/"`` (markers included)."""
    return Compare.create(marker(key), "==", 0, prefix=True)


def compares(key: str, cond: Cond) -> list[Compare]:
    """The compares of ``cond`` on the leaf ``key``."""
    out: list[Compare] = []
    if cond.exists is False:
        out.append(Compare.create(key, "==", 0))
    elif cond.exists and cond.value is None and not cond.revision:
        out.append(Compare.create(key, ">", 0))
    if cond.value is not None:
        out.append(Compare.value(key, "==", cond.value))
    if cond.revision:
        out.append(Compare.mod(key, "==", cond.revision))
    return out


def marker_ops(key: str, skip: frozenset[str] = frozenset()) -> list[Op]:
    """Create the marker of every parent of ``key`` where missing (a nested txn each, so an
    existing marker keeps its revisions and no event is sent for it)."""
    ops = []
    for parent in ancestors(key):
        m = marker(parent)
        if m not in skip:
            ops.append(Op.txn([Compare.create(m, "==", 0)], [Op.put(m, "")]))
    return ops


def failure_reads(key: str) -> list[Op]:
    """The failure branch: the key, each parent, and how many keys lie below the key."""
    return [Op.get(key), *(Op.get(a) for a in ancestors(key)),
            Op.get(marker(key), prefix=True, count_only=True)]


def _range(resp: TxnResponse, i: int) -> RangeResponse:
    got = resp.responses[i]
    assert isinstance(got, RangeResponse)
    return got


def failure(key: str, cond: Cond, resp: TxnResponse, *, is_dir: bool = False) -> EtcdError:
    """The v2 error for a failed write of ``key`` (``resp``: the failure branch of
    :func:`failure_reads`)."""
    rev = resp.header.revision
    parents = ancestors(key)
    for i, parent in enumerate(parents, start=1):
        if _range(resp, i).kvs:
            return NotADirectory("Not a directory", parent, rev)
    leaf: KeyValue | None = next(iter(_range(resp, 0).kvs), None)
    below = _range(resp, len(parents) + 1).count
    if cond.exists is False and (leaf is not None or below):
        return NodeExists("Key already exists", key, rev)
    if below and not is_dir:
        return NotAFile("Not a file", key, rev)
    if leaf is None and not below:
        return KeyNotFound("Key not found", key, rev)
    if leaf is None:
        return NotAFile("Not a file", key, rev)
    value_ok = cond.value is None or leaf.value_text == cond.value
    index_ok = not cond.revision or leaf.mod_revision == cond.revision
    value_cause = f"[{cond.value} != {leaf.value_text}]"
    index_cause = f"[{cond.revision} != {leaf.mod_revision}]"
    if value_ok and index_ok:  # raced: the state changed between the txn and the reads
        return CompareFailed("Compare failed", "the key changed meanwhile", rev)
    cause = (index_cause if value_ok else value_cause if index_ok
             else f"{value_cause} {index_cause}")
    return CompareFailed("Compare failed", cause, rev)
