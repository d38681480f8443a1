"""The one context-manager shape shared by the objects that own something to release.

A class that subclasses :class:`Closing` and defines :meth:`Closing.close` is usable in a
``with`` statement: ``__enter__`` returns the object itself and ``__exit__`` calls ``close()``
(whatever was raised in the block propagates unchanged). A class whose ``__enter__`` must do more
(start a server, a thread) overrides ``__enter__`` only and keeps this ``__exit__``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import TypeVar

__all__ = ["Closing"]

_C = TypeVar("_C", bound="Closing")


class Closing(ABC):
    """Mixin: ``with obj: ...`` returns ``obj`` and calls ``obj.close()`` on the way out.

    Thread-safety: that of the subclass's ``close()``; the mixin adds no state.
    """

    __slots__ = ()

    @abstractmethod
    def close(self) -> None:
        """Release what the object holds (called by ``__exit__``)."""

    def __enter__(self: _C) -> _C:
        """:returns: the object itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Call :meth:`close`; an exception raised in the ``with`` block is not suppressed."""
        self.close()
