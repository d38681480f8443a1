"""python-etcd3's watch events (``etcd3.events``): :class:`PutEvent` and :class:`DeleteEvent`.

An event reads its attributes from the key-value after the change (``event.key``,
``.value``, ``.version``, ``.create_revision``, ``.mod_revision``, ``.lease``) and, with a
``prev_`` prefix, from the one before it (``event.prev_value``; empty when the watch did not
ask for ``prev_kv``), as python-etcd3's events read their protobuf messages. Keys and values
are ``bytes``.

Thread-safety: immutable once built.
"""

from __future__ import annotations

from typing import Any

from etcdmap.v3.models import Event as CoreEvent
from etcdmap.v3.models import KeyValue

__all__ = ["DeleteEvent", "Event", "PutEvent", "new_event"]

_EMPTY = KeyValue(b"")


class Event:
    """One change of a watched key.

    :param event: the :class:`etcdmap.v3.models.Event` it wraps.
    """

    def __init__(self, event: CoreEvent) -> None:
        self.key: bytes = event.kv.key
        self._event = event

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name.startswith("prev_"):
            return getattr(self._event.prev_kv or _EMPTY, name[5:])
        return getattr(self._event.kv, name)

    def __str__(self) -> str:
        return f"{type(self)} key={self.key!r} value={self.value!r}"


class PutEvent(Event):
    """A key was written."""


class DeleteEvent(Event):
    """A key was deleted (or its lease expired)."""


def new_event(event: CoreEvent) -> Event:
    """The :class:`PutEvent` or :class:`DeleteEvent` of an etcdmap event."""
    return PutEvent(event) if event.type == "PUT" else DeleteEvent(event)
