"""HTTP/1.1 framing for the asyncio connections: bytes in, events out, no I/O.

The asyncio connection (:mod:`etcdmap.aio.connection`) knows HTTP only through
:class:`Framing`: :meth:`~Framing.request` gives the bytes of a request, :meth:`~Framing.feed`
turns what the socket read into events (:class:`Head`, body ``bytes``, :data:`END`), and
:meth:`~Framing.reusable` says whether the connection may carry the next request.

There is one HTTP/1.1 framing in etcdmap, :mod:`etcdmap.http.framing`, shared with the
blocking adapter: the request head is written and checked by its
:class:`~etcdmap.http.framing.HeadWriter` and answers are parsed by its engines (httptools when
it imports, else h11; ``ETCDMAP_FRAMING`` chooses), so both clients refuse the same things
(two different ``Content-Length``\\ s, a ``Transfer-Encoding`` other than ``chunked``, bad
chunk sizes, heads over :data:`MAX_HEAD` bytes, control characters in targets and header
values, bytes after an answer). This module only maps that framing's events onto the
connection's.

Thread-safety: a :class:`Framing` belongs to one connection, used by one task at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from etcdmap.http import framing as shared
from etcdmap.http import framing_choice
from etcdmap.http.framing import END, MAX_HEAD, End, FramingError

__all__ = ["END", "MAX_HEAD", "End", "Event", "Framing", "FramingError", "Head", "SharedFraming",
           "new_framing"]

_WRITER: Final = shared.HeadWriter()
_INVALID: Final = "not a valid HTTP/1.1 answer"


@dataclass(frozen=True, slots=True)
class Head:
    """The status line and headers of an answer.

    :ivar status: the HTTP status (never 1xx: informational answers are skipped).
    :ivar headers: ``(name, value)`` pairs (names lower-cased; a repeated name once, its
        values joined with ``", "``).
    """

    status: int
    headers: list[tuple[str, str]]


Event = Head | bytes | End
"""What :meth:`Framing.feed` gives: the head, a piece of the body, or the end."""


class Framing(Protocol):
    """One connection's HTTP/1.1 state: request bytes out, answer events in."""

    def request(self, method: str, target: str, headers: Sequence[tuple[str, str]],
                body: bytes | None) -> bytes:
        """The bytes of one request (``headers`` include ``Host``; a ``Content-Length`` in
        them is ignored: it is written from ``body``).

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
        the next request may follow."""


class SharedFraming:
    """:class:`Framing` on :mod:`etcdmap.http.framing` (the blocking adapter's framing).

    :param name: the engine (``"httptools"`` or ``"h11"``; ``None``:
        :func:`~etcdmap.http.framing_choice.default_framing`).
    """

    __slots__ = ("_ended", "_factory", "_parser")

    def __init__(self, name: str | None = None) -> None:
        self._factory = framing_choice.parser_for(name or framing_choice.default_framing())
        self._parser: shared.ResponseParser | None = None
        self._ended = False

    def request(self, method: str, target: str, headers: Sequence[tuple[str, str]],
                body: bytes | None) -> bytes:
        """See :meth:`Framing.request`."""
        host = next((v for n, v in headers if n.lower() == "host"), None)
        if host is None:
            raise ValueError("cannot send this request: it has no Host header")
        rest = tuple((n, v) for n, v in headers if n.lower() not in ("host", "content-length"))
        try:
            head = _WRITER.head(method, target, host, rest, shared.body_length(method, body))
        except FramingError as exc:
            raise ValueError(f"cannot send this request: {exc}") from exc
        previous = self._parser
        if previous is not None and self._ended and previous.reusable:
            self._parser = previous.next_answer(method)
        else:
            self._parser = self._factory(method)
        self._ended = False
        return head + body if body else head

    def feed(self, data: bytes) -> list[Event]:
        """See :meth:`Framing.feed`."""
        parser = self._parser
        if parser is None:
            raise FramingError(f"{_INVALID}: bytes arrived with no request in flight")
        events: list[Event] = []
        try:
            parser.feed(data)
            while not self._ended:
                event = parser.next_event()
                if event is shared.NEED_DATA:
                    break
                if isinstance(event, shared.Head):
                    events.append(Head(event.status, [
                        (lower, value) for lower, (_, value) in event.headers.items()]))
                elif event is END:
                    self._ended = True
                    events.append(END)
                else:
                    events.append(event)  # type: ignore[arg-type]  # a piece of the body
        except FramingError as exc:
            if not data:
                raise ConnectionError(f"the connection closed before the answer ended ({exc})"
                                      ) from exc
            raise FramingError(f"{_INVALID}: {exc}") from exc
        return events

    def reusable(self) -> bool:
        """See :meth:`Framing.reusable`."""
        return self._ended and self._parser is not None and self._parser.reusable


def new_framing() -> Framing:
    """The framing of a new connection (the engine :mod:`etcdmap.http.framing` chooses)."""
    return SharedFraming()
