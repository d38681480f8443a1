"""The typed "use the client's setting" sentinel of every call's ``timeout=`` (re-exported by
:mod:`etcdmap.http.transport`)."""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["DEFAULT", "CallTimeout", "UseDefault"]


class UseDefault(enum.Enum):
    """The type of :data:`DEFAULT` (a typed sentinel, like httpx's ``UseClientDefault``)."""

    DEFAULT = "DEFAULT"

    def __repr__(self) -> str:
        return "<client default>"


DEFAULT: Final = UseDefault.DEFAULT
"""Sentinel for "use the transport's configured value" (``timeout=``, ``request_timeout=``)."""
CallTimeout = float | None | UseDefault
"""A call's ``timeout=``: seconds, ``None`` (no limit) or :data:`DEFAULT` (the client's)."""
