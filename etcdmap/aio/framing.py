"""HTTP/1.1 framing for the asyncio connections: bytes in, events out, no I/O (h11 inside).

The asyncio connection (:mod:`etcdmap.aio.connection`) knows HTTP only through
:class:`Framing`: :meth:`~Framing.request` gives the bytes of a request, :meth:`~Framing.feed`
turns what the socket read into events (:class:`Head`, body ``bytes``, :data:`END`), and
:meth:`~Framing.reusable` says whether the connection may carry the next request. The h11
implementation (:class:`H11Framing`) refuses what HTTP/1.1 forbids (two different
``Content-Length``\\ s, a ``Transfer-Encoding`` other than ``chunked``, bad chunk sizes, heads
over :data:`MAX_HEAD` bytes, control characters in targets and header values) as the blocking
adapter does.

This interface is the seam for the framing engines of :mod:`etcdmap.http` (h11 or httptools):
only :func:`new_framing` names an implementation, so another engine is an adapter returned by
it (its request writer behind :meth:`~Framing.request`, its parser's events mapped to
:class:`Head` / ``bytes`` / :data:`END` and its errors to :class:`FramingError`).

Thread-safety: a :class:`Framing` belongs to one connection, used by one task at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import h11

__all__ = ["END", "MAX_HEAD", "End", "Event", "Framing", "FramingError", "H11Framing", "Head",
           "new_framing"]

MAX_HEAD = 65536
"""The longest answer head (status line and headers) accepted, in bytes."""


class FramingError(ValueError):
    """The peer's bytes are not a valid HTTP/1.1 answer."""


@dataclass(frozen=True, slots=True)
class Head:
    """The status line and headers of an answer.

    :ivar status: the HTTP status (never 1xx: informational answers are skipped).
    :ivar headers: ``(name, value)`` pairs as received (names lower-cased).
    """

    status: int
    headers: list[tuple[str, str]]


class End:
    """The type of :data:`END`: the answer's body ended."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END"


END: Final = End()
"""The answer's body ended (the last event of an answer)."""
Event = Head | bytes | End
"""What :meth:`Framing.feed` gives: the head, a piece of the body, or the end."""


class Framing(Protocol):
    """One connection's HTTP/1.1 state: request bytes out, answer events in."""

    def request(self, method: str, target: str, headers: Sequence[tuple[str, str]],
                body: bytes | None) -> bytes:
        """The bytes of one request (``headers`` include ``Host`` and ``Content-Length``).

        :raises ValueError: a target or header HTTP/1.1 refuses (nothing may be sent).
        """

    def feed(self, data: bytes) -> list[Event]:
        """Parse bytes read from the socket (``b""``: the peer closed its side).

        :returns: the events they complete, in order (maybe none).
        :raises FramingError: not a valid answer.
        :raises ConnectionError: the peer closed before the answer ended.
        """

    def reusable(self) -> bool:
        """After :data:`END`: whether the exchange ended cleanly with nothing unread, so that
        the next request may follow (the state is then reset for it)."""


class H11Framing:
    """:class:`Framing` by h11 (python-hyper's HTTP/1.1 state machine)."""

    __slots__ = ("_h11", "_head_bytes")

    def __init__(self) -> None:
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self._head_bytes = 0  # fed before the head was complete (-1: it was)

    def request(self, method: str, target: str, headers: Sequence[tuple[str, str]],
                body: bytes | None) -> bytes:
        """See :meth:`Framing.request`."""
        h = self._h11
        try:
            data = h.send(h11.Request(method=method, target=target, headers=list(headers))) or b""
            if body:
                data += h.send(h11.Data(data=body)) or b""
            return data + (h.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError as exc:
            raise ValueError(f"cannot send this request: {exc}") from exc

    def feed(self, data: bytes) -> list[Event]:
        """See :meth:`Framing.feed`."""
        h = self._h11
        if self._head_bytes >= 0:
            self._head_bytes += len(data)
        h.receive_data(data)
        events: list[Event] = []
        try:
            while True:
                event = h.next_event()
                kind = type(event)
                if kind is h11.Data:
                    events.append(bytes(event.data))  # type: ignore[union-attr]
                elif kind is h11.Response:
                    self._check_head_size()
                    events.append(Head(event.status_code, [  # type: ignore[union-attr]
                        (n.decode("latin-1"), v.decode("latin-1"))
                        for n, v in event.headers]))  # type: ignore[union-attr]
                elif kind is h11.EndOfMessage:
                    events.append(END)
                    return events
                elif kind is h11.ConnectionClosed:
                    raise ConnectionError("the connection closed before the answer ended")
                elif event is h11.NEED_DATA or event is h11.PAUSED:
                    return events
                # h11.InformationalResponse: skipped
        except h11.RemoteProtocolError as exc:
            raise FramingError(f"not a valid HTTP/1.1 answer: {exc}") from exc

    def _check_head_size(self) -> None:
        # h11 bounds an incomplete head only; a whole one that came in one read is bounded here.
        size = self._head_bytes - len(self._h11.trailing_data[0])
        self._head_bytes = -1
        if size > MAX_HEAD:
            raise FramingError(f"not a valid HTTP/1.1 answer: a head of {size} bytes "
                               f"(the limit is {MAX_HEAD})")

    def reusable(self) -> bool:
        """See :meth:`Framing.reusable`."""
        h = self._h11
        if h.our_state is not h11.DONE or h.their_state is not h11.DONE or h.trailing_data[0]:
            return False
        h.start_next_cycle()
        self._head_bytes = 0
        return True


def new_framing() -> Framing:
    """The framing of a new connection."""
    return H11Framing()
