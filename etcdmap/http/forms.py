"""Query strings and form bodies encoded as Go's ``url.Values.Encode`` does (what etcd expects)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from urllib.parse import quote

__all__ = ["encode_form", "encode_query"]


@functools.lru_cache(maxsize=1024)
def _quote_component(text: str) -> str:
    return quote(text, safe="").replace("%20", "+")



_QUERIES: dict[tuple[tuple[str, str], ...], str] = {}
_QUERIES_MAX = 256


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    """``url.Values.Encode``-style encoding of ordered pairs (space -> ``+``, ``/`` -> ``%2F``).

    The encodings of short queries (every flag combination of the keys API) are cached.
    """
    key = params if type(params) is tuple else tuple(params)
    found = _QUERIES.get(key)
    if found is not None:
        return found
    text = "&".join(
        f"{_quote_component(k)}={_quote_component(v) if len(v) < 64 else _quote_long(v)}"
        for k, v in params
    )
    if len(text) < 128:
        if len(_QUERIES) >= _QUERIES_MAX:
            _QUERIES.clear()
        _QUERIES[key] = text
    return text


def _quote_long(text: str) -> str:
    return quote(text, safe="").replace("%20", "+")


def encode_form(form: Mapping[str, str]) -> bytes:
    """An ``application/x-www-form-urlencoded`` body with keys sorted like Go does."""
    return encode_query(sorted(form.items())).encode("ascii")
