"""The v3 gateway's JSON mapping, both ways: pure functions, no I/O.

- bytes fields are standard padded base64 (:func:`b64`, :func:`unb64`);
- int64/uint64 fields arrive as decimal strings (:func:`as_int`);
- fields holding zero, false or empty are left out of answers (read them as zero);
- a prefix is the range ``[prefix, prefix_end(prefix))`` (:func:`prefix_end`, clientv3's
  ``GetPrefixRangeEnd``, etcd-io/etcd release-3.5:client/v3/op.go).

Malformed answers raise :class:`~etcdmap.errors.InvalidResponseError`; bad arguments raise
``TypeError`` or ``ValueError`` (the empty key: :class:`~etcdmap.v3.errors.KeyNotProvided`).

Thread-safety: every function is pure.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from json import JSONDecodeError
from typing import Any, TypeVar

from etcdmap.errors import InvalidResponseError
from etcdmap.http import json_codec
from etcdmap.v3.errors import KeyNotProvided, RevisionCompacted, error_from_body
from etcdmap.v3.models import (
    DeleteResponse,
    Event,
    KeyValue,
    OpResponse,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    TxnResponse,
    WatchResponse,
)

__all__ = [
    "as_int",
    "b64",
    "check_int",
    "compacted_error",
    "decode_json",
    "first_value",
    "key_bytes",
    "parse_delete",
    "parse_header",
    "parse_kv",
    "parse_put",
    "parse_range",
    "parse_txn",
    "parse_watch_line",
    "prefix_end",
    "to_bytes",
    "unb64",
]

Json = dict[str, Any]
_T = TypeVar("_T")
_BAD = "not an etcd v3 gateway answer"


def _bad(detail: str) -> InvalidResponseError:
    return InvalidResponseError(f"{_BAD}: {detail}")


# --------------------------------------------------------------------------- arguments


def to_bytes(value: object, name: str = "value") -> bytes:
    """A key or value as bytes: ``str`` is encoded as UTF-8, bytes-like objects are copied.

    :raises TypeError: any other type.
    :raises ValueError: a ``str`` that cannot be encoded (a lone surrogate).
    """
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{name} {value!r:.60} is not valid Unicode text: {exc}") from exc
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name} must be str or bytes, not {type(value).__name__}")


def key_bytes(key: object, name: str = "key") -> bytes:
    """A key as bytes; etcd refuses the empty key.

    :raises TypeError: not str or bytes.
    :raises KeyNotProvided: the key is empty (also a ``ValueError``).
    """
    data = to_bytes(key, name)
    if not data:
        raise KeyNotProvided(f"{name} must not be empty", grpc_code=3)
    return data


def check_int(value: object, name: str, minimum: int = 0) -> int:
    """Validate an int argument (a revision, a TTL, an ID).

    :raises TypeError: not an int (``bool`` included).
    :raises ValueError: below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def b64(data: bytes) -> str:
    """Standard padded base64, as the gateway takes bytes fields."""
    return base64.b64encode(data).decode("ascii")


def prefix_end(prefix: bytes) -> bytes:
    """The exclusive end of the range holding every key that starts with ``prefix``.

    Trailing ``0xff`` bytes are dropped and the last other byte is incremented; a prefix of
    ``0xff`` bytes only (or empty) gives ``b"\\0"``, which means "to the end of the keyspace".
    """
    end = prefix.rstrip(b"\xff")
    if not end:
        return b"\0"
    return end[:-1] + bytes([end[-1] + 1])


# --------------------------------------------------------------------------- answers


def decode_json(body: bytes) -> Json:
    """Parse a JSON object body.

    :raises InvalidResponseError: not JSON or not an object.
    """
    try:
        data = json_codec.loads(body)
    except (JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise _bad(f"the body is not JSON ({body[:80]!r})") from exc
    if not isinstance(data, dict):
        raise _bad(f"the body is not a JSON object ({body[:80]!r})")
    return data


def unb64(value: object, field: str) -> bytes:
    """Decode a base64 bytes field (``None`` or absent: ``b""``).

    :raises InvalidResponseError: not a string of valid base64.
    """
    if value is None:
        return b""
    if not isinstance(value, str):
        raise _bad(f"{field} is not a base64 string: {value!r:.60}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad(f"{field} is not valid base64: {value!r:.60}") from exc


def as_int(value: object, field: str) -> int:
    """An int64/uint64 field: a decimal string or a number (absent: 0).

    :raises InvalidResponseError: anything else.
    """
    if value is None:
        return 0
    if type(value) is int:
        return value
    if isinstance(value, str):
        try:
            return int(value, 10)
        except ValueError:
            pass
    raise _bad(f"{field} is not an integer: {value!r:.60}")


def _obj(value: object, field: str) -> Json:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"{field} is not an object: {value!r:.60}")
    return value


def _list(value: object, field: str, parse: Callable[[Any], _T]) -> tuple[_T, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _bad(f"{field} is not a list: {value!r:.60}")
    return tuple(parse(item) for item in value)


def _str(value: object, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(f"{field} is not a string: {value!r:.60}")
    return value


def _bool(value: object, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _bad(f"{field} is not a boolean: {value!r:.60}")
    return value


def parse_header(data: object) -> ResponseHeader:
    """The ``header`` object (absent: all zero)."""
    h = _obj(data, "header")
    return ResponseHeader(
        cluster_id=as_int(h.get("cluster_id"), "cluster_id"),
        member_id=as_int(h.get("member_id"), "member_id"),
        revision=as_int(h.get("revision"), "revision"),
        raft_term=as_int(h.get("raft_term"), "raft_term"),
    )


def parse_kv(data: object) -> KeyValue:
    """One ``mvccpb.KeyValue``."""
    kv = _obj(data, "kv")
    return KeyValue(
        key=unb64(kv.get("key"), "key"),
        value=unb64(kv.get("value"), "value"),
        create_revision=as_int(kv.get("create_revision"), "create_revision"),
        mod_revision=as_int(kv.get("mod_revision"), "mod_revision"),
        version=as_int(kv.get("version"), "version"),
        lease=as_int(kv.get("lease"), "lease"),
    )


def _opt_kv(data: object) -> KeyValue | None:
    return None if data is None else parse_kv(data)


def parse_range(data: Mapping[str, Any]) -> RangeResponse:
    """A ``RangeResponse``."""
    return RangeResponse(
        header=parse_header(data.get("header")),
        kvs=_list(data.get("kvs"), "kvs", parse_kv),
        more=_bool(data.get("more"), "more"),
        count=as_int(data.get("count"), "count"),
    )


def first_value(data: Mapping[str, Any]) -> bytes | None:
    """The value of a ``RangeResponse``'s first key (``None``: no key), parsed no further:
    what a one-key read needs.

    :raises InvalidResponseError: ``kvs`` is not a list of objects, or the value not base64.
    """
    kvs = data.get("kvs")
    if not kvs:  # absent, or the empty list
        return None
    if not isinstance(kvs, list):
        raise _bad(f"kvs is not a list: {kvs!r:.60}")
    return unb64(_obj(kvs[0], "kv").get("value"), "value")


def parse_put(data: Mapping[str, Any]) -> PutResponse:
    """A ``PutResponse``."""
    return PutResponse(header=parse_header(data.get("header")), prev_kv=_opt_kv(data.get("prev_kv")))


def parse_delete(data: Mapping[str, Any]) -> DeleteResponse:
    """A ``DeleteRangeResponse``."""
    return DeleteResponse(
        header=parse_header(data.get("header")),
        deleted=as_int(data.get("deleted"), "deleted"),
        prev_kvs=_list(data.get("prev_kvs"), "prev_kvs", parse_kv),
    )


_OP_PARSERS: dict[str, Callable[[Mapping[str, Any]], OpResponse]] = {
    "response_range": parse_range, "responseRange": parse_range,
    "response_put": parse_put, "responsePut": parse_put,
    "response_delete_range": parse_delete, "responseDeleteRange": parse_delete,
}


def _op_response(data: object) -> OpResponse:
    item = _obj(data, "responses[]")
    for name, value in item.items():
        if name in ("response_txn", "responseTxn"):
            return parse_txn(_obj(value, name))
        parser = _OP_PARSERS.get(name)
        if parser is not None:
            return parser(_obj(value, name))
    raise _bad(f"unknown txn response {item!r:.80}")


def parse_txn(data: Mapping[str, Any]) -> TxnResponse:
    """A ``TxnResponse`` (nested txns included)."""
    return TxnResponse(
        header=parse_header(data.get("header")),
        succeeded=_bool(data.get("succeeded"), "succeeded"),
        responses=_list(data.get("responses"), "responses", _op_response),
    )


def _event(data: object) -> Event:
    ev = _obj(data, "event")
    kind = ev.get("type", "PUT")
    if kind not in ("PUT", "DELETE", 0, 1):
        raise _bad(f"unknown event type {kind!r:.40}")
    return Event(
        type="DELETE" if kind in ("DELETE", 1) else "PUT",
        kv=parse_kv(ev.get("kv")),
        prev_kv=_opt_kv(ev.get("prev_kv")),
    )


def parse_watch_line(line: bytes) -> WatchResponse:
    """One line of the ``/v3/watch`` stream.

    :returns: the message (a canceled watch is returned, not raised: see
        :class:`~etcdmap.v3.watch.Watcher`).
    :raises V3Error: the line is the stream's final error line.
    :raises InvalidResponseError: not a watch message.
    """
    data = decode_json(line)
    result = data.get("result")
    if result is None:
        error = error_from_body(0, line)
        if error is not None:
            raise error
        raise _bad(f"a watch line has no result: {line[:80]!r}")
    msg = _obj(result, "result")
    return WatchResponse(
        header=parse_header(msg.get("header")),
        watch_id=as_int(msg.get("watch_id"), "watch_id"),
        created=_bool(msg.get("created"), "created"),
        canceled=_bool(msg.get("canceled"), "canceled"),
        compact_revision=as_int(msg.get("compact_revision"), "compact_revision"),
        cancel_reason=_str(msg.get("cancel_reason"), "cancel_reason"),
        events=_list(msg.get("events"), "events", _event),
        fragment=_bool(msg.get("fragment"), "fragment"),
    )


def compacted_error(msg: WatchResponse) -> RevisionCompacted:
    """The error of a watch canceled because its start revision was compacted."""
    return RevisionCompacted(
        "etcdserver: mvcc: required revision has been compacted", grpc_code=11,
        compact_revision=msg.compact_revision,
    )
