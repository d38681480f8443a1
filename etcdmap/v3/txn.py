"""Builders of txn compares and operations (``/v3/kv/txn``): pure, no I/O.

Example::

    from etcdmap.v3 import Compare, Op

    client.kv.txn(
        compare=[Compare.value("cfg/a", "==", "v1")],
        success=[Op.put("cfg/a", "v2")],
        failure=[Op.get("cfg/a")],
    )

Every builder validates its arguments and spells the gateway's field names from constants
(the gateway silently ignores a misspelled field). Two traps are avoided by construction: a
compare always names its ``target`` (the default target is VERSION), and a VALUE compare on a
missing key always fails, even against ``""`` (etcd-io/etcd release-3.5:server/etcdserver/apply.go
``applyCompare``) -- use :meth:`Compare.version` ``== 0`` for "absent".

Thread-safety: the objects are immutable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from etcdmap.v3.wire import b64, check_int, key_bytes, prefix_end, to_bytes

__all__ = ["Compare", "Op", "range_fields"]

Operator = Literal["==", "!=", ">", "<"]
_SORT_ORDERS = ("NONE", "ASCEND", "DESCEND")
_SORT_TARGETS = ("KEY", "VERSION", "CREATE", "MOD", "VALUE")
_RESULTS = {"==": "EQUAL", "!=": "NOT_EQUAL", ">": "GREATER", "<": "LESS"}


def range_fields(key: object, *, prefix: bool = False, range_end: object = None) -> dict[str, str]:
    """The ``key``/``range_end`` fields of a key, a prefix or an explicit range.

    :param key: the key (or prefix, or range start): ``str`` (UTF-8) or ``bytes``.
    :param prefix: every key that starts with ``key``.
    :param range_end: the exclusive end of an explicit range (``b"\\0"``: every key >= ``key``).
    :raises TypeError: a key that is not str or bytes.
    :raises ValueError: an empty key (:class:`~etcdmap.v3.errors.KeyNotProvided`), or both
        ``prefix`` and ``range_end``.
    """
    if not isinstance(prefix, bool):
        raise TypeError(f"prefix must be a bool, not {type(prefix).__name__}")
    start = key_bytes(key)
    out = {"key": b64(start)}
    if prefix and range_end is not None:
        raise ValueError("pass prefix=True or range_end=, not both")
    if prefix:
        out["range_end"] = b64(prefix_end(start))
    elif range_end is not None:
        out["range_end"] = b64(to_bytes(range_end, "range_end"))
    return out


def _operator(op: object) -> str:
    if not isinstance(op, str) or op not in _RESULTS:
        raise ValueError(f"compare operator must be one of ==, !=, >, <; got {op!r:.40}")
    return _RESULTS[op]


@dataclass(frozen=True, slots=True)
class Compare:
    """One txn condition on a key (or on every key of a range). Build it with the class methods.

    :ivar fields: the gateway's JSON object for the compare.
    """

    fields: dict[str, Any] = field(hash=False)

    @classmethod
    def _make(cls, key: object, op: object, target: str, name: str, operand: Any, *,
              prefix: bool, range_end: object) -> Compare:
        body: dict[str, Any] = range_fields(key, prefix=prefix, range_end=range_end)
        body.update({"target": target, "result": _operator(op), name: operand})
        return cls(body)

    @classmethod
    def value(cls, key: object, op: Operator, value: str | bytes, *, prefix: bool = False,
              range_end: object = None) -> Compare:
        """Compare the value (always false on a missing key).

        :raises TypeError, ValueError: bad arguments.
        """
        return cls._make(key, op, "VALUE", "value", b64(to_bytes(value)), prefix=prefix,
                         range_end=range_end)

    @classmethod
    def version(cls, key: object, op: Operator, version: int, *, prefix: bool = False,
                range_end: object = None) -> Compare:
        """Compare the version (0 on a missing key: ``version(k, "==", 0)`` = absent).

        :raises TypeError, ValueError: bad arguments.
        """
        v = check_int(version, "version")
        return cls._make(key, op, "VERSION", "version", str(v), prefix=prefix,
                         range_end=range_end)

    @classmethod
    def create(cls, key: object, op: Operator, revision: int, *, prefix: bool = False,
               range_end: object = None) -> Compare:
        """Compare the create revision (0 on a missing key).

        :raises TypeError, ValueError: bad arguments.
        """
        r = check_int(revision, "revision")
        return cls._make(key, op, "CREATE", "create_revision", str(r), prefix=prefix,
                         range_end=range_end)

    @classmethod
    def mod(cls, key: object, op: Operator, revision: int, *, prefix: bool = False,
            range_end: object = None) -> Compare:
        """Compare the mod revision (v2's ``prevIndex``; 0 on a missing key).

        :raises TypeError, ValueError: bad arguments.
        """
        r = check_int(revision, "revision")
        return cls._make(key, op, "MOD", "mod_revision", str(r), prefix=prefix,
                         range_end=range_end)

    @classmethod
    def lease(cls, key: object, op: Operator, lease: int, *, prefix: bool = False,
              range_end: object = None) -> Compare:
        """Compare the attached lease ID (0: no lease).

        :raises TypeError, ValueError: bad arguments.
        """
        lease_id = check_int(lease, "lease")
        return cls._make(key, op, "LEASE", "lease", str(lease_id), prefix=prefix,
                         range_end=range_end)


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of a txn branch. Build it with the class methods.

    :ivar fields: the gateway's ``RequestOp`` JSON object.
    :ivar is_write: a put, a delete, or a nested txn that writes.
    """

    fields: dict[str, Any] = field(hash=False)
    is_write: bool = False

    @classmethod
    def get(cls, key: object, *, prefix: bool = False, range_end: object = None,
            limit: int = 0, keys_only: bool = False, count_only: bool = False,
            revision: int = 0, serializable: bool = False, sort_order: str = "NONE",
            sort_target: str = "KEY") -> Op:
        """A range inside the txn (sees the branch's earlier writes); the options are those
        of :meth:`etcdmap.v3.kv.KV.range`.

        :raises TypeError, ValueError: bad arguments.
        """
        body: dict[str, Any] = range_fields(key, prefix=prefix, range_end=range_end)
        if check_int(limit, "limit"):
            body["limit"] = str(limit)
        if check_int(revision, "revision"):
            body["revision"] = str(revision)
        if sort_order not in _SORT_ORDERS or sort_target not in _SORT_TARGETS:
            raise ValueError(f"bad sort: {sort_order!r} by {sort_target!r}")
        if sort_order != "NONE":
            body.update(sort_order=sort_order, sort_target=sort_target)
        for name, flag in (("keys_only", keys_only), ("count_only", count_only),
                           ("serializable", serializable)):
            if _flag(flag, name):
                body[name] = True
        return cls({"request_range": body})

    @classmethod
    def put(cls, key: object, value: str | bytes = b"", *, lease: int = 0,
            prev_kv: bool = False, ignore_value: bool = False,
            ignore_lease: bool = False) -> Op:
        """A put inside the txn (the options are those of :meth:`etcdmap.v3.kv.KV.put`).

        :raises TypeError, ValueError: bad arguments.
        """
        body: dict[str, Any] = {"key": b64(key_bytes(key))}
        data = to_bytes(value)
        if data or not ignore_value:
            body["value"] = b64(data)
        if check_int(lease, "lease"):
            body["lease"] = str(lease)
        for name, flag in (("prev_kv", prev_kv), ("ignore_value", ignore_value),
                           ("ignore_lease", ignore_lease)):
            if _flag(flag, name):
                body[name] = True
        return cls({"request_put": body}, True)

    @classmethod
    def delete(cls, key: object, *, prefix: bool = False, range_end: object = None,
               prev_kv: bool = False) -> Op:
        """A delete (of a key, a prefix or a range) inside the txn.

        :raises TypeError, ValueError: bad arguments.
        """
        body: dict[str, Any] = range_fields(key, prefix=prefix, range_end=range_end)
        if _flag(prev_kv, "prev_kv"):
            body["prev_kv"] = True
        return cls({"request_delete_range": body}, True)

    @classmethod
    def txn(cls, compare: Sequence[Compare] = (), success: Sequence[Op] = (),
            failure: Sequence[Op] = ()) -> Op:
        """A nested txn.

        :raises TypeError: an element is not a :class:`Compare` / :class:`Op`.
        """
        body = txn_body(compare, success, failure)
        writes = any(op.is_write for op in (*success, *failure))
        return cls({"request_txn": body}, writes)


def txn_body(compare: Sequence[Compare], success: Sequence[Op], failure: Sequence[Op]) -> dict[str, Any]:
    """The JSON body of a txn.

    :raises TypeError: an element is not a :class:`Compare` / :class:`Op`, or a branch is a
        string or a single object instead of a sequence.
    """
    body: dict[str, Any] = {}
    for name, items, kind in (("compare", compare, Compare), ("success", success, Op),
                              ("failure", failure, Op)):
        if isinstance(items, (str, bytes, Compare, Op)) or not isinstance(items, Sequence):
            raise TypeError(f"{name} must be a sequence of {kind.__name__}")
        for item in items:
            if not isinstance(item, kind):
                raise TypeError(f"{name} items must be {kind.__name__}, not {type(item).__name__}")
        if items:
            body[name] = [item.fields for item in items]
    return body
