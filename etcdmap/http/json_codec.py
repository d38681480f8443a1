"""JSON for etcd's request and answer bodies: orjson when it imports (the ``fast`` extra),
the standard library's ``json`` otherwise, with the same results.

Call through the module (``json_codec.loads(body)``), not a name imported from it: tests
run both backends by setting :data:`loads` and :data:`dumps` here (:func:`backends` lists
them).

- :data:`loads` takes the body's bytes and raises a ``ValueError`` on anything that is not
  JSON (``orjson.JSONDecodeError`` and ``UnicodeDecodeError`` are ``ValueError``\\ s).
- :data:`dumps` gives compact bytes; values orjson does not take (integers beyond 64 bits,
  subclasses of ``str`` keys) fall back to ``json``, so every value ``json`` encodes is
  encoded.

Thread-safety: pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["backends", "dumps", "loads"]


def _std_dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


_STD: tuple[Callable[[bytes], Any], Callable[[object], bytes]] = (json.loads, _std_dumps)

try:
    import orjson
except ImportError:  # pragma: no cover - depends on the environment (the fast extra)
    _FAST = None
else:

    def _orjson_dumps(value: object) -> bytes:
        try:
            return orjson.dumps(value)
        except TypeError:  # e.g. an int beyond 64 bits: json takes it
            return _std_dumps(value)

    _FAST = (orjson.loads, _orjson_dumps)

loads: Callable[[bytes], Any]
"""Parse a JSON body (bytes); :raises ValueError: not JSON."""
dumps: Callable[[object], bytes]
"""Encode a value as compact JSON bytes; :raises TypeError: not JSON-serializable."""
loads, dumps = _FAST or _STD


def backends() -> dict[str, tuple[Callable[[bytes], Any], Callable[[object], bytes]]]:
    """The ``(loads, dumps)`` pairs available here: ``"json"`` always, ``"orjson"`` with the
    ``fast`` extra; the first entry is the one in use by default."""
    found = {"json": _STD}
    if _FAST is not None:
        found = {"orjson": _FAST, **found}
    return found
