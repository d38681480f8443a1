"""Pure v2 keys protocol: key quoting, parameter building, JSON to models, error mapping.

Nothing here does I/O; every function is deterministic and unit-tested on its own
(``tests/unit/test_wire*.py``). The rules come from the spec (``etcd-v2-spec.md``):

- ``pkg/pathutil/path.go`` (release-3.5): a key goes on the wire as Go's canonical URL path (``//``
  collapsed, ``.`` and ``..``
  resolved, a trailing ``/`` kept) escaped like Go's URL path escaping, so keys containing
  ``? # % + & = space`` and non-ASCII characters round-trip exactly.
- ``client/v2/keys.go`` (release-3.5): which parameter goes in the query and which in the form body;
  query and body keys are
  sorted like Go's ``url.Values.Encode``.
- ``server/etcdserver/api/v2store/event.go``, ``node_extern.go``: response bodies are decoded with
  exact, case-sensitive keys; error bodies are
  mapped by ``errorCode`` (never by the HTTP status) through :func:`etcdmap.errors.error_for_code`.

All functions are thread-safe (they keep no state).
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from etcdmap import _checks
from etcdmap.errors import (
    DirectoryTTLUnsupported,
    EtcdError,
    InvalidResponseError,
    V2DisabledError,
    error_for_code,
)
from etcdmap.http import json_codec
from etcdmap.http.forms import encode_form, encode_query
from etcdmap.models import Node
from etcdmap.v2.models import Response

__all__ = [
    "KEYS_PREFIX",
    "Params",
    "canonical_key",
    "check_index",
    "check_ttl",
    "check_value",
    "decode_error",
    "decode_event",
    "decode_response",
    "encode_form",
    "encode_query",
    "key_path",
    "parse_expiration",
    "parse_index",
    "parse_node",
]

KEYS_PREFIX = "/v2/keys"

Params = list[tuple[str, str]]
"""Ordered ``(name, value)`` pairs (already in wire order)."""

# Go's url.URL.String() leaves these literal in a path (besides A-Z a-z 0-9 - _ . ~).
_PATH_SAFE = "$&+,/:;=@"
_UTC = timezone.utc
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d\d):(\d\d))\Z",
    re.ASCII,
)


# --------------------------------------------------------------------------- keys and URLs


def canonical_key(key: str) -> str:
    """Clean a key like Go's ``pathutil.CanonicalURLPath`` (etcd-io/etcd
    release-3.5:pkg/pathutil/path.go), within the key space.

    ``//`` collapses, ``.`` and ``..`` resolve (never above the root), a trailing ``/`` is kept.
    ``""`` stays ``""`` (the keys root without a slash).

    :param key: the key, with or without a leading ``/``.
    :returns: the canonical key: ``""`` or a string starting with ``/``.
    """
    if not key:
        return ""
    if key[0] != "/":
        key = "/" + key
    clean = posixpath.normpath(key)
    if clean.startswith("//"):  # posixpath keeps a leading "//" (POSIX); Go does not
        clean = "/" + clean.lstrip("/")
    if key[-1] == "/" and clean != "/":
        clean += "/"
    return clean


@functools.lru_cache(maxsize=4096)
def _quote_path(path: str) -> str:
    return quote(path, safe=_PATH_SAFE)


def key_path(key: str, prefix: str = KEYS_PREFIX) -> str:
    """The percent-quoted URL path of a key, e.g. ``"a b?"`` -> ``"/v2/keys/a%20b%3F"``.

    :param key: the key (see :func:`canonical_key`).
    :param prefix: the API prefix, ``/v2/keys`` by default.
    :returns: a path starting with ``/`` for :meth:`etcdmap.http.transport.Transport.request`.
    :raises TypeError: ``key`` is not a ``str``.
    """
    if type(key) is not str:
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, not {type(key).__name__}")
        key = str(key)  # a str subclass: cache on the plain string
    return _key_path(key, prefix)


@functools.lru_cache(maxsize=4096)
def _key_path(key: str, prefix: str) -> str:
    return _quote_path(prefix + canonical_key(key))


# --------------------------------------------------------------------------- argument checks

check_ttl = _checks.check_ttl


def check_value(value: object, name: str = "value") -> str:
    """Return ``value`` if it is a ``str``.

    :raises TypeError: it is not (etcd stores strings; encode other types yourself or use a codec).
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value


def check_index(index: object, name: str) -> str:
    """Validate a ``prev_index``/``after_index`` (a non-negative ``int``) and return its wire form.

    :raises TypeError: not an ``int`` (bools refused).
    :raises ValueError: negative.
    """
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"{name} must be an int, not {type(index).__name__}")
    if index < 0:
        raise ValueError(f"{name} must be >= 0, got {index}")
    return str(index)


# --------------------------------------------------------------------------- decoding


def parse_expiration(text: str) -> datetime:
    """Parse etcd's RFC 3339 (nano) timestamp into an aware UTC :class:`~datetime.datetime`.

    Up to 9 fractional digits are accepted (truncated to microseconds); ``Z`` or a numeric offset.

    :raises ValueError: not such a timestamp.
    """
    match = _RFC3339.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = match.groups()
    micro = int(frac[:6].ljust(6, "0")) if frac else 0
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
            tzinfo=_UTC,
        )
    except ValueError as exc:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}") from exc
    if zulu:
        return moment
    offset = timedelta(hours=int(off_h), minutes=int(off_m))
    try:
        return moment + offset if sign == "-" else moment - offset
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError(f"not an RFC 3339 timestamp in range: {text!r}") from exc


def parse_node(data: Mapping[str, Any]) -> Node:
    """Build a :class:`~etcdmap.models.Node` from etcd's JSON object (exact, case-sensitive keys).

    The root node has no ``key`` and no indexes (etcd-io/etcd release-3.4:Documentation/v2/api.md):
    it gets ``key=""``. Types are
    checked exactly as JSON decodes them (``type(x) is int``: a bool or a numeric string is
    not an index), so a misbehaving endpoint or proxy cannot slip a ``str`` index into the
    watch cursor's int arithmetic.

    :param data: the decoded JSON object of one node (a ``dict``, or any mapping).
    :returns: the node, with its children parsed recursively.
    :raises ValueError: ``data`` is not a mapping, or a field has the wrong type: ``key``,
        ``value`` (when present) or ``expiration`` not a string, ``createdIndex``,
        ``modifiedIndex`` or ``ttl`` (when present) not an int, ``dir`` not a bool, ``nodes``
        not a list of objects, or ``expiration`` not an RFC 3339 timestamp.
    """
    # Hot path (a recursive get of 10,000 keys calls this 10,001 times): exact type() checks
    # on the fields, no isinstance chains; the mapping check costs one comparison for a dict.
    if type(data) is not dict and not isinstance(data, Mapping):
        raise ValueError(f"malformed node: {data!r:.200} is not a JSON object")
    get = data.get
    key = get("key", "")
    value = get("value")
    is_dir = get("dir", False)
    children = get("nodes")
    created_index = get("createdIndex", 0)
    modified_index = get("modifiedIndex", 0)
    ttl = get("ttl")
    expiration = get("expiration")
    if (
        type(key) is not str
        or (value is not None and type(value) is not str)
        or type(created_index) is not int
        or type(modified_index) is not int
        or (ttl is not None and type(ttl) is not int)
        or type(is_dir) is not bool
        or (children is not None and type(children) is not list)
    ):
        raise ValueError(f"malformed node: {dict(data)!r:.200}")
    return Node(
        key=key,
        value=value,
        dir=is_dir,
        nodes=tuple([parse_node(child) for child in children]) if children else (),
        created_index=created_index,
        modified_index=modified_index,
        ttl=ttl or None,
        expiration=parse_expiration(expiration) if expiration is not None else None,
    )


def parse_index(headers: Mapping[str, str], endpoint: str = "") -> int:
    """The ``X-Etcd-Index`` header as an int (0 when absent).

    :param headers: a case-insensitive mapping.
    :raises InvalidResponseError: the header is not a non-negative integer.
    """
    raw = headers.get("X-Etcd-Index")
    if not raw:
        return 0
    try:
        index = int(raw)
    except ValueError:
        index = -1
    if index < 0:
        raise InvalidResponseError(f"{endpoint}: bad X-Etcd-Index header {raw!r}", endpoint)
    return index


def _describe(body: bytes) -> str:
    text = body[:60].decode("utf-8", "replace").strip()
    return repr(text) if text else "an empty body"


def _load(body: bytes, status: int, endpoint: str) -> Any:
    try:
        return json_codec.loads(body)
    except ValueError as exc:  # orjson.JSONDecodeError is a json.JSONDecodeError too
        if status == 404 and body.startswith(b"404 page not found"):
            raise V2DisabledError(
                f"{endpoint} answered 404 page not found on the v2 API: the etcd v2 API is not "
                "enabled (start etcd 3.4/3.5 with --enable-v2=true; etcd 3.6+ has no v2 API)",
                endpoint,
            ) from exc
        raise InvalidResponseError(
            f"{endpoint} answered HTTP {status} with {_describe(body)}, not etcd JSON: "
            "not an etcd v2 endpoint?",
            endpoint,
        ) from exc


def decode_error(status: int, body: bytes, endpoint: str = "") -> EtcdError | None:
    """The :class:`~etcdmap.errors.EtcdError` an error body describes, or ``None`` if it is not one.

    Mapped on ``errorCode`` only; an unknown code gives a plain :class:`EtcdError`.
    """
    try:
        data = json_codec.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("errorCode"), int):
        return None
    return error_for_code(
        data["errorCode"],
        str(data.get("message", "")),
        str(data.get("cause", "")),
        data.get("index", 0) if isinstance(data.get("index"), int) else 0,
    )


def server_error(status: int, body: bytes, endpoint: str) -> tuple[EtcdError | None, bool]:
    """The transport's reading of a v2 5xx body: the etcd error, and whether it is final.

    etcd 3.5's directory-TTL regression (500, code 300 "Not a file") is deterministic: every
    member answers the same, so it is returned like a 4xx instead of failing over.
    """
    error = decode_error(status, body, endpoint)
    return error, isinstance(error, DirectoryTTLUnsupported)


def _event(data: dict[str, Any], headers: Mapping[str, str], endpoint: str) -> Response:
    """The :class:`~etcdmap.v2.models.Response` of one event object.

    :raises ValueError: ``action`` is not a string or a node is malformed (see :func:`parse_node`).
    """
    action = data["action"]
    if type(action) is not str:
        raise ValueError(f"action {action!r:.60} is not a string")
    node = data.get("node")
    prev = data.get("prevNode")
    return Response(
        action=action,
        node=parse_node(node) if node is not None else None,
        prev_node=parse_node(prev) if prev is not None else None,
        index=parse_index(headers, endpoint),
        cluster_id=headers.get("X-Etcd-Cluster-Id", ""),
        raft_index=_header_int(headers, "X-Raft-Index"),
        raft_term=_header_int(headers, "X-Raft-Term"),
    )


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    """A non-negative integer header (``X-Raft-Index``, ``X-Raft-Term``); ``None`` when absent.

    Unlike ``X-Etcd-Index``, which etcdmap needs, these are informative: a malformed value
    gives ``None`` rather than an error.
    """
    text = headers.get(name)
    if text is None or not text.isdigit():
        return None
    return int(text)


def decode_event(
    status: int, headers: Mapping[str, str], body: bytes, endpoint: str = ""
) -> dict[str, Any]:
    """The parsed JSON event of one keys answer, without models, or raise its error.

    For bulk reads: :meth:`etcdmap.EtcdMap.to_dict` walks the JSON of 10,000 keys several
    times faster than building :class:`~etcdmap.models.Node` objects first.

    :param status: the HTTP status.
    :param headers: the headers (unused; the same signature as :func:`decode_response`).
    :param body: the raw body.
    :param endpoint: the endpoint that answered, for error messages.
    :returns: the event object, e.g. ``{"action": "get", "node": {...}}`` (200/201).
    :raises EtcdError: the body is an etcd error (the subclass for its ``errorCode``).
    :raises V2DisabledError: ``404 page not found``: the server does not serve v2.
    :raises InvalidResponseError: an empty, non-JSON or non-event body.
    """
    data = _load(body, status, endpoint)
    if not isinstance(data, dict):
        raise InvalidResponseError(
            f"{endpoint} answered {_describe(body)}: not an etcd v2 endpoint?", endpoint
        )
    if status in (200, 201) and "action" in data:
        return data
    code = data.get("errorCode")
    if isinstance(code, int):
        index = data.get("index", 0)
        raise error_for_code(
            code,
            str(data.get("message", "")),
            str(data.get("cause", "")),
            index if isinstance(index, int) else 0,
        )
    raise InvalidResponseError(
        f"{endpoint} answered HTTP {status} with {_describe(body)}: not an etcd v2 endpoint?",
        endpoint,
    )


def decode_response(
    status: int, headers: Mapping[str, str], body: bytes, endpoint: str = ""
) -> Response:
    """Turn one keys answer into a :class:`~etcdmap.v2.models.Response` or raise its error.

    :param status: the HTTP status.
    :param headers: case-insensitive headers (``X-Etcd-Index``, ``X-Etcd-Cluster-Id``).
    :param body: the raw body.
    :param endpoint: the endpoint that answered, for error messages.
    :returns: the response (200/201 with an etcd event).
    :raises EtcdError: the body is an etcd error (the subclass for its ``errorCode``).
    :raises V2DisabledError: ``404 page not found``: the server does not serve v2.
    :raises InvalidResponseError: an empty, non-JSON or non-event body, or an event whose
        ``action`` is not a string or whose nodes have a field of the wrong type
        (see :func:`parse_node`).
    """
    data = decode_event(status, headers, body, endpoint)
    try:
        return _event(data, headers, endpoint)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidResponseError(
            f"{endpoint} answered a malformed event {_describe(body)} ({exc}): "
            "not an etcd v2 endpoint?",
            endpoint,
        ) from exc
