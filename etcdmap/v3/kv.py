"""The v3 key-value API: range, put, delete range, txn and compaction (``/v3/kv/*``).

Keys and values are ``str`` (sent as UTF-8) or ``bytes``; answers hold ``bytes``
(:class:`~etcdmap.v3.models.KeyValue`). Which calls may be re-sent to another member after an
ambiguous failure (sent, then no answer): ranges, read-only txns and plain puts and deletes
(writing the same value twice leaves the same state, like v2's plain set). A put or delete
with ``prev_kv`` (a retry would report the first attempt's result as the previous value), a
txn that writes, and a compaction raise :class:`~etcdmap.errors.AmbiguousResultError` instead.

Thread-safety: :class:`KV` is thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from etcdmap.http.transport import DEFAULT, CallTimeout
from etcdmap.v3.caller import Caller
from etcdmap.v3.models import DeleteResponse, PutResponse, RangeResponse, TxnResponse
from etcdmap.v3.txn import Compare, Op, range_fields, txn_body
from etcdmap.v3.wire import (
    b64,
    check_int,
    first_value,
    key_bytes,
    parse_delete,
    parse_header,
    parse_put,
    parse_range,
    parse_txn,
    to_bytes,
)

__all__ = ["KV"]

SortOrder = Literal["NONE", "ASCEND", "DESCEND"]
SortTarget = Literal["KEY", "VERSION", "CREATE", "MOD", "VALUE"]
_ORDERS = ("NONE", "ASCEND", "DESCEND")
_TARGETS = ("KEY", "VERSION", "CREATE", "MOD", "VALUE")


def _flags(body: dict[str, Any], **flags: object) -> None:
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
        if value:
            body[name] = True


class KV:
    """``client.kv``: keys and values.

    :param caller: the client's call layer.
    """

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def range(
        self,
        key: str | bytes,
        *,
        prefix: bool = False,
        range_end: str | bytes | None = None,
        limit: int = 0,
        revision: int = 0,
        keys_only: bool = False,
        count_only: bool = False,
        serializable: bool = False,
        sort_order: SortOrder = "NONE",
        sort_target: SortTarget = "KEY",
        timeout: CallTimeout = DEFAULT,
    ) -> RangeResponse:
        """Read a key, every key under a prefix, or a range.

        A missing key is not an error: the answer has no ``kvs``.

        :param key: the key, prefix or range start.
        :param prefix: every key starting with ``key``.
        :param range_end: explicit exclusive range end (``b"\\0"``: every key >= ``key``).
        :param limit: at most this many keys (0: all); ``.more`` says the answer was cut.
        :param revision: read the state at this past revision (0: the current state).
        :param keys_only: leave values out.
        :param count_only: only ``.count``.
        :param serializable: answer from the member's local state (faster, maybe stale)
            instead of a linearizable read.
        :param sort_order: ``"NONE"`` (key order), ``"ASCEND"`` or ``"DESCEND"``.
        :param sort_target: what to sort on.
        :param timeout: whole-call deadline (default: the client's).
        :raises RevisionCompacted: ``revision`` was compacted (history lost).
        :raises FutureRevision: ``revision`` is newer than the store.
        :raises TypeError, ValueError: bad arguments (the empty key: KeyNotProvided).
        :raises PermissionDenied: the user may not read the range.
        """
        body: dict[str, Any] = range_fields(key, prefix=prefix, range_end=range_end)
        if check_int(limit, "limit"):
            body["limit"] = str(limit)
        if check_int(revision, "revision"):
            body["revision"] = str(revision)
        if sort_order not in _ORDERS:
            raise ValueError(f"sort_order must be one of {_ORDERS}: {sort_order!r}")
        if sort_target not in _TARGETS:
            raise ValueError(f"sort_target must be one of {_TARGETS}: {sort_target!r}")
        if sort_order != "NONE":
            body.update(sort_order=sort_order, sort_target=sort_target)
        _flags(body, keys_only=keys_only, count_only=count_only, serializable=serializable)
        data = self._caller.call("/v3/kv/range", body, idempotent=True, timeout=timeout)
        return parse_range(data)

    def get(self, key: str | bytes, *, serializable: bool = False,
            timeout: CallTimeout = DEFAULT) -> bytes | None:
        """The value of one key, or ``None`` when it does not exist (the answer is parsed only
        as far as the value: :meth:`range` gives the revisions).

        :raises TypeError, ValueError: bad arguments.
        """
        body: dict[str, Any] = range_fields(key)
        _flags(body, serializable=serializable)
        return first_value(self._caller.call("/v3/kv/range", body, idempotent=True,
                                             timeout=timeout))

    def put(
        self,
        key: str | bytes,
        value: str | bytes = b"",
        *,
        lease: int = 0,
        prev_kv: bool = False,
        ignore_value: bool = False,
        ignore_lease: bool = False,
        timeout: CallTimeout = DEFAULT,
    ) -> PutResponse:
        """Set a key.

        :param key: the key.
        :param value: the value (``str`` is sent as UTF-8).
        :param lease: attach this lease (the key goes when the lease expires; 0: none).
        :param prev_kv: return the previous key-value (``.prev_kv``).
        :param ignore_value: keep the current value (a "touch": bumps version and
            mod_revision); ``value`` must then be empty.
        :param ignore_lease: keep the key's current lease; ``lease`` must then be 0.
        :param timeout: whole-call deadline.
        :raises LeaseNotFound: ``lease`` does not exist.
        :raises TouchMissingKey: ``ignore_value``/``ignore_lease`` on a missing key.
        :raises RequestTooLarge: the value is over the server's request limit.
        :raises AmbiguousResultError: with ``prev_kv``, sent and unanswered.
        :raises TypeError, ValueError: bad arguments.
        """
        body: dict[str, Any] = {"key": b64(key_bytes(key))}
        data = to_bytes(value)
        if data:
            body["value"] = b64(data)
        if check_int(lease, "lease"):
            body["lease"] = str(lease)
        _flags(body, prev_kv=prev_kv, ignore_value=ignore_value, ignore_lease=ignore_lease)
        answer = self._caller.call("/v3/kv/put", body, idempotent=not prev_kv, timeout=timeout)
        return parse_put(answer)

    def delete(
        self,
        key: str | bytes,
        *,
        prefix: bool = False,
        range_end: str | bytes | None = None,
        prev_kv: bool = False,
        timeout: CallTimeout = DEFAULT,
    ) -> DeleteResponse:
        """Delete a key, every key under a prefix, or a range (in one revision).

        Deleting nothing is not an error (``.deleted`` is 0). A plain delete may be re-sent
        after an ambiguous failure; ``.deleted`` then counts what the last attempt deleted.

        :raises AmbiguousResultError: with ``prev_kv``, sent and unanswered.
        :raises TypeError, ValueError: bad arguments.
        """
        body: dict[str, Any] = range_fields(key, prefix=prefix, range_end=range_end)
        _flags(body, prev_kv=prev_kv)
        data = self._caller.call("/v3/kv/deleterange", body, idempotent=not prev_kv,
                                 timeout=timeout)
        return parse_delete(data)

    def txn(
        self,
        compare: Sequence[Compare] = (),
        success: Sequence[Op] = (),
        failure: Sequence[Op] = (),
        *,
        timeout: CallTimeout = DEFAULT,
    ) -> TxnResponse:
        """Run ``success`` if every compare holds, else ``failure``, atomically.

        :returns: ``.succeeded`` and one response per operation of the branch that ran.
        :raises TooManyTxnOps: a branch has more ops than the server's ``--max-txn-ops`` (128).
        :raises DuplicateKey: a branch writes one key twice.
        :raises AmbiguousResultError: a txn that writes was sent and no answer came.
        :raises TypeError: an element is not a :class:`Compare` / :class:`Op`.
        """
        body = txn_body(compare, success, failure)
        writes = any(op.is_write for op in (*success, *failure))
        data = self._caller.call("/v3/kv/txn", body, idempotent=not writes, timeout=timeout)
        return parse_txn(data)

    def compact(self, revision: int, *, physical: bool = False,
                timeout: CallTimeout = DEFAULT) -> int:
        """Discard the history before ``revision`` (watches and reads from older revisions
        then fail with :class:`~etcdmap.v3.errors.RevisionCompacted`).

        :param revision: the oldest revision to keep.
        :param physical: wait until the compaction is applied to the backend.
        :returns: the store revision of the answer.
        :raises RevisionCompacted: already compacted at ``revision`` or later.
        :raises FutureRevision: ``revision`` is newer than the store.
        :raises AmbiguousResultError: sent and unanswered.
        :raises TypeError, ValueError: bad arguments.
        """
        body: dict[str, Any] = {"revision": str(check_int(revision, "revision", 1))}
        _flags(body, physical=physical)
        data = self._caller.call("/v3/kv/compaction", body, idempotent=False, timeout=timeout)
        return parse_header(data.get("header")).revision
