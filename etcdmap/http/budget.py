"""One call's ``timeout=`` spread over the several requests it sends (e.g. a v2 user add
that reads before it writes): :class:`Budget`.

Thread-safety: a :class:`Budget` belongs to one call in one thread.
"""

from __future__ import annotations

from etcdmap import _clock
from etcdmap.errors import DeadlineExceeded
from etcdmap.http.defaults import DEFAULT, CallTimeout

__all__ = ["Budget"]


class Budget:
    """The time left of a call's whole deadline.

    :param timeout: the call's ``timeout=``: seconds, ``None`` (no limit) or ``DEFAULT``.
    :param default: what ``DEFAULT`` stands for (the client's ``timeout``).
    """

    __slots__ = ("_deadline",)

    def __init__(self, timeout: CallTimeout, default: float | None) -> None:
        seconds = default if timeout is DEFAULT else timeout
        self._deadline = None if seconds is None else _clock.monotonic() + seconds

    def left(self) -> float | None:
        """The seconds left, for the next request's ``timeout=`` (``None``: no limit).

        :raises DeadlineExceeded: the deadline has passed.
        """
        if self._deadline is None:
            return None
        left = self._deadline - _clock.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the call's timeout ran out before its last request")
        return left
