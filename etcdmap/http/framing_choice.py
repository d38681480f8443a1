"""Which HTTP/1.1 parser new connections use: the framings by name, what imports here, and the
default (:mod:`etcdmap.http.framing` describes the parsers and their seam).

The engines (:mod:`etcdmap.http.framing_httptools`, :mod:`etcdmap.http.framing_h11`) import
:mod:`etcdmap.http.framing`; this module imports them, so that ``framing`` imports neither.

Thread-safety: pure functions (the environment is read at each call).
"""

from __future__ import annotations

import os

from etcdmap.http.framing import ParserFactory

__all__ = ["ENV_FRAMING", "FRAMINGS", "available_framings", "default_framing", "parser_for"]

FRAMINGS = ("httptools", "h11")
"""The framings by name, fastest first."""
ENV_FRAMING = "ETCDMAP_FRAMING"
"""Environment variable naming the framing of new adapters (``h11`` or ``httptools``)."""


def _factory(name: str) -> ParserFactory:
    if name == "httptools":  # imported on demand: httptools is the optional ``fast`` extra
        from etcdmap.http.framing_httptools import LlhttpParser  # noqa: PLC0415

        return LlhttpParser
    if name == "h11":
        from etcdmap.http.framing_h11 import H11Parser  # noqa: PLC0415

        return H11Parser
    raise ValueError(f"unknown framing {name!r}: one of {', '.join(FRAMINGS)}")


def available_framings() -> list[str]:
    """The framings that import here, fastest first."""
    found = []
    for name in FRAMINGS:
        try:
            _factory(name)
        except ImportError:
            continue
        found.append(name)
    return found


def default_framing() -> str:
    """``$ETCDMAP_FRAMING`` when set, else the fastest framing that imports.

    :raises ValueError: the variable names no framing.
    """
    chosen = os.environ.get(ENV_FRAMING, "").strip()
    if chosen:
        if chosen not in FRAMINGS:
            raise ValueError(f"{ENV_FRAMING}={chosen!r}: one of {', '.join(FRAMINGS)}")
        return chosen
    return available_framings()[0]


def parser_for(name: str) -> ParserFactory:
    """The parser factory of framing ``name`` (call it with the method of each request).

    :raises ValueError: an unknown name.
    :raises ImportError: its library is not installed (httptools: the ``fast`` extra).
    """
    return _factory(name)
