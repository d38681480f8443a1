"""What each keys call puts on the wire: pure request builders, no I/O.

The Go client's placement (etcd-io/etcd release-3.5:client/v2/keys.go): ``prevValue``,
``prevIndex``, ``prevExist``, ``dir``, ``noValueOnSuccess`` in the query; ``value``, ``ttl``,
``refresh`` in the form body; ``GET`` always sends ``quorum``, ``recursive`` and ``sorted``.
Unit-tested in tests/unit/test_wire_keys.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from etcdmap.v2 import wire as _wire

__all__ = [
    "KeyRequest",
    "create_in_order_request",
    "delete_request",
    "get_request",
    "refresh_request",
    "set_request",
]


def _flag(value: object, name: str) -> str:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return "true" if value else "false"




class KeyRequest(NamedTuple):
    """One keys request: method, sorted query pairs, form body (``None``: no body) and whether
    it may be re-sent after an ambiguous failure."""

    method: str
    params: Sequence[tuple[str, str]]
    form: dict[str, str] | None
    idempotent: bool


def get_request(*, recursive: bool = False, sort: bool = False, quorum: bool = False) -> KeyRequest:
    """``GET ?quorum=<b>&recursive=<b>&sorted=<b>`` (always all three, like Go).

    :raises TypeError: a flag is not a bool.
    """
    return _GETS[_flag(quorum, "quorum") == "true", _flag(recursive, "recursive") == "true",
                 _flag(sort, "sort") == "true"]


def _get(quorum: bool, recursive: bool, sort: bool) -> KeyRequest:
    params = (("quorum", "true" if quorum else "false"),
              ("recursive", "true" if recursive else "false"),
              ("sorted", "true" if sort else "false"))
    return KeyRequest("GET", params, None, True)


_GETS = {(q, r, s): _get(q, r, s) for q in (False, True) for r in (False, True)
         for s in (False, True)}
"""The eight GET requests (immutable: shared by every call)."""


def set_request(
    value: str,
    *,
    ttl: object = None,
    prev_value: str | None = None,
    prev_index: int | None = None,
    prev_exist: bool | None = None,
    refresh: bool = False,
    dir: bool = False,
    no_value_on_success: bool = False,
) -> KeyRequest:
    """``PUT``: conditions in the query, ``value``/``ttl``/``refresh`` in the body.

    :raises TypeError: wrong argument types (``value`` must be a ``str``).
    :raises ValueError: a bad TTL, a value or ``prev_value`` with ``dir=True``.
    """
    if _flag(dir, "dir") == "true":
        if value not in ("", None):
            raise ValueError("a directory has no value: pass value='' with dir=True")
        if prev_value is not None:
            raise ValueError("prev_value cannot be used with dir=True (no value to compare)")
    else:
        _wire.check_value(value)
    params: list[tuple[str, str]] = []
    if dir:
        params.append(("dir", "true"))
    if _flag(no_value_on_success, "no_value_on_success") == "true":
        params.append(("noValueOnSuccess", "true"))
    if prev_exist is not None:
        params.append(("prevExist", _flag(prev_exist, "prev_exist")))
    if prev_index is not None and _wire.check_index(prev_index, "prev_index") != "0":
        params.append(("prevIndex", str(prev_index)))
    if prev_value is not None:
        params.append(("prevValue", _wire.check_value(prev_value, "prev_value")))
    form: dict[str, str] = {}
    if not dir:
        form["value"] = value
    if ttl is not None:
        form["ttl"] = _wire.check_ttl(ttl)
    if _flag(refresh, "refresh") == "true":
        form["refresh"] = "true"
    conditional = prev_exist is not None or bool(prev_index) or prev_value is not None
    return KeyRequest("PUT", params, form, not dir and not conditional)


def create_in_order_request(value: str, *, ttl: object = None) -> KeyRequest:
    """``POST`` with ``value`` (and ``ttl``) in the body; never re-sent.

    :raises TypeError: ``value`` is not a ``str``.
    :raises ValueError: a bad TTL.
    """
    form = {"value": _wire.check_value(value)}
    if ttl is not None:
        form["ttl"] = _wire.check_ttl(ttl)
    return KeyRequest("POST", [], form, False)


def refresh_request(ttl: object) -> KeyRequest:
    """``PUT ?prevExist=true`` with ``refresh=true&ttl=N`` and no value (keeps the value).

    :raises ValueError: a bad TTL.
    """
    form = {"refresh": "true", "ttl": _wire.check_ttl(ttl)}
    return KeyRequest("PUT", [("prevExist", "true")], form, True)


def delete_request(
    *,
    recursive: bool = False,
    dir: bool = False,
    prev_value: str | None = None,
    prev_index: int | None = None,
) -> KeyRequest:
    """``DELETE`` with every option in the query (etcd never reads a DELETE body).

    :raises TypeError: wrong argument types.
    :raises ValueError: a negative ``prev_index``.
    """
    params: list[tuple[str, str]] = []
    if _flag(dir, "dir") == "true":
        params.append(("dir", "true"))
    if prev_index is not None and _wire.check_index(prev_index, "prev_index") != "0":
        params.append(("prevIndex", str(prev_index)))
    if prev_value is not None:
        params.append(("prevValue", _wire.check_value(prev_value, "prev_value")))
    if _flag(recursive, "recursive") == "true":
        params.append(("recursive", "true"))
    conditional = bool(prev_index) or prev_value is not None
    return KeyRequest("DELETE", params, None, not conditional)
