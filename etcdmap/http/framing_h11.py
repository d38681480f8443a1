"""The h11 parser of answers: python-hyper's HTTP/1.1 state machine (always installed).

:class:`H11Parser` implements :class:`~etcdmap.http.framing.ResponseParser` (see
:mod:`etcdmap.http.framing` for the events and the rules both parsers share) on h11's public
API. h11 frames an answer by the request it answers (a ``HEAD`` answer has no body), and its
state machine only reads an answer after a request was sent through it: each parser is shown a
stand-in request with the same method (the request itself is written by
:class:`~etcdmap.http.framing.HeadWriter`, which validates what h11 would).

Thread-safety: a parser is used by one thread at a time.
"""

from __future__ import annotations

import h11

from etcdmap.http.framing import (
    END,
    MAX_HEAD,
    NEED_DATA,
    BoundedCache,
    Event,
    FramingError,
    Head,
    check_framing_headers,
    header_store,
)

__all__ = ["H11Parser"]

_STAND_INS = BoundedCache(64)  # method -> the h11.Request shown to h11 (events are immutable)
_END = h11.EndOfMessage()


def _stand_in(method: str) -> h11.Request:
    request: h11.Request | None = _STAND_INS.get(method)  # type: ignore[assignment]
    if request is None:
        request = h11.Request(method=method, target="/", headers=[("Host", "-")])
        _STAND_INS.put(method, request)
    return request


def _head(event: h11.Response) -> Head:
    store = header_store(event.headers.raw_items())  # h11 bounds only an incomplete head
    check_framing_headers(store)
    return Head(event.status_code, event.reason.decode("latin-1"), store)


class H11Parser:
    """The parser of one answer to a request with ``method`` (h11 framing).

    :param method: the request's method.
    """

    __slots__ = ("_closed", "_conn")

    def __init__(self, method: str) -> None:
        self._conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self._begin(method)

    def _begin(self, method: str) -> None:
        conn = self._conn
        conn.send(_stand_in(method))
        conn.send(_END)
        self._closed = False

    def next_answer(self, method: str) -> H11Parser:
        """This parser, reset for the next answer on the same connection (h11's next cycle:
        cheaper than a new state machine)."""
        self._conn.start_next_cycle()
        self._begin(method)
        return self

    def feed(self, data: bytes) -> None:
        """Hand over received bytes (``b""``: the peer closed the connection)."""
        if self._closed:
            return
        self._closed = not data
        self._conn.receive_data(data)

    def next_event(self) -> Event:
        """The next event (see :mod:`etcdmap.http.framing`).

        :raises FramingError: the answer is malformed or ended early.
        """
        conn = self._conn
        try:
            while True:
                event = conn.next_event()
                kind = type(event)
                if kind is h11.Data:
                    data = bytes(event.data)  # type: ignore[union-attr]
                    if data:
                        return data
                elif kind is h11.Response:
                    return _head(event)  # type: ignore[arg-type]
                elif kind is h11.EndOfMessage or event is h11.PAUSED:
                    return END
                elif event is h11.NEED_DATA:
                    return NEED_DATA
                elif kind is h11.InformationalResponse:
                    if event.status_code == 101:  # type: ignore[union-attr]
                        raise FramingError("unexpected 101 Switching Protocols")
                else:  # ConnectionClosed
                    raise FramingError("the connection closed before the end of the answer")
        except h11.ProtocolError as exc:
            raise FramingError(str(exc) or type(exc).__name__) from exc

    @property
    def reusable(self) -> bool:
        """Whether the answer ended cleanly, keep-alive, with nothing after it."""
        conn = self._conn
        unread, closed = conn.trailing_data
        return (conn.our_state is h11.DONE and conn.their_state is h11.DONE
                and not unread and not closed)
