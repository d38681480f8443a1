"""The httptools parser of answers: llhttp (Node's HTTP/1.1 parser, in C), the ``fast`` extra.

:class:`LlhttpParser` implements :class:`~etcdmap.http.framing.ResponseParser` (see
:mod:`etcdmap.http.framing` for the events and the rules both parsers share). llhttp parses
and calls back; what it leaves to its user is done here:

- a ``HEAD`` answer has no body, whatever its headers say, and llhttp cannot be told so (its
  ``on_headers_complete`` cannot return "no body" through httptools): the answer ends at its
  head, and anything llhttp reads after that is stray bytes;
- a body without ``Content-Length`` or chunking ends with the connection: llhttp has no
  ``finish()`` in httptools, so the end of the stream (``feed(b"")``) ends it here;
- ``should_keep_alive()`` is only valid inside a callback: it is read in
  ``on_headers_complete``;
- llhttp goes on with the next message after the end of one; one parser serves one answer, and
  any callback after its end (or an error there) marks stray bytes: the connection is not
  reused;
- llhttp takes a ``Transfer-Encoding`` other than ``chunked`` as "read until close", and puts
  no limit on a head's size: both are refused here (the head's size is counted both as bytes
  fed before it is complete and as the header lines it holds); trailers are ignored.

Thread-safety: a parser is used by one thread at a time.
"""

from __future__ import annotations

from collections import deque

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

from etcdmap.http.framing import (
    END,
    MAX_HEAD,
    NEED_DATA,
    Event,
    FramingError,
    Head,
    check_framing_headers,
    header_store,
)

__all__ = ["LlhttpParser"]

# states of an answer
_HEAD = 0  # reading the head
_BODY = 1  # reading the body
_ENDED = 2  # END was queued; llhttp still owes the end of a body-less message
_DONE = 3  # llhttp completed the message too
_NO_BODY = (204, 304)


class LlhttpParser:
    """The parser of one answer to a request with ``method`` (llhttp framing).

    :param method: the request's method.
    """

    __slots__ = ("_error", "_events", "_fed", "_head_only", "_informational", "_keep_alive",
                 "_lines", "_parser", "_reason", "_state", "_stray", "_until_eof")

    def __init__(self, method: str) -> None:
        self._events: deque[Event] = deque()
        self._state = _HEAD
        self._head_only = method == "HEAD"
        self._lines: list[tuple[bytes, bytes]] = []  # the head's header lines, as received
        self._reason = b""
        self._fed = 0  # bytes fed while the head is incomplete
        self._informational = False
        self._keep_alive = False
        self._until_eof = False
        self._stray = False
        self._error: FramingError | None = None
        # a cycle (the parser calls back into self): broken once the answer ended
        self._parser: HttpResponseParser | None = HttpResponseParser(self)

    # ------------------------------------------------------------------ the seam

    def feed(self, data: bytes) -> None:
        """Hand over received bytes (``b""``: the peer closed the connection)."""
        parser = self._parser
        if parser is None or self._error is not None:
            if data and self._error is None:
                self._stray = True  # bytes after the end of the answer
            return
        if not data:
            self._eof()
            return
        if self._state == _HEAD:
            self._fed += len(data)
        try:
            parser.feed_data(data)
        except HttpParserUpgrade:
            self._fail(FramingError("unexpected 101 Switching Protocols"))
        except HttpParserError as exc:
            if self._state >= _ENDED:
                self._stray = True  # the next "message" is not HTTP: stray bytes
            else:
                cause = exc.__context__
                self._fail(cause if isinstance(cause, FramingError) else FramingError(str(exc)))
        if self._state == _HEAD and self._fed > MAX_HEAD and self._error is None:
            self._fail(FramingError(f"the answer's head is longer than {MAX_HEAD} bytes"))
        if self._state >= _ENDED:
            self._parser = None

    def _eof(self) -> None:
        self._parser = None
        if self._state == _BODY and self._until_eof:
            self._state = _DONE
            self._events.append(END)
        elif self._state < _ENDED:
            self._fail(FramingError("the connection closed before the end of the answer"))

    def _fail(self, error: FramingError) -> None:
        self._error = error
        self._parser = None

    def next_event(self) -> Event:
        """The next event (see :mod:`etcdmap.http.framing`).

        :raises FramingError: the answer is malformed or ended early.
        """
        events = self._events
        if events:
            return events.popleft()
        if self._error is not None:
            raise self._error
        return NEED_DATA

    def next_answer(self, method: str) -> LlhttpParser:
        """A new parser for the next answer (one llhttp parser per answer)."""
        return LlhttpParser(method)

    @property
    def reusable(self) -> bool:
        """Whether the answer ended cleanly, keep-alive, with nothing after it."""
        return (self._state >= _ENDED and self._keep_alive and not self._until_eof
                and not self._stray and self._error is None)

    # ------------------------------------------------------------------ llhttp's callbacks

    def on_message_begin(self) -> None:
        if self._state != _HEAD:
            self._stray = True

    def on_status(self, reason: bytes) -> None:
        if self._state == _HEAD:
            self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        state = self._state
        if state == _HEAD:
            self._lines.append((name, value))  # bounded: feed() counts the head's bytes
        elif state != _BODY:  # in a body: a trailer (ignored)
            self._stray = True

    def on_headers_complete(self) -> None:
        if self._state != _HEAD:
            self._stray = True
            return
        parser = self._parser
        assert parser is not None
        status = parser.get_status_code()
        if status < 200:
            if status == 101:
                raise FramingError("unexpected 101 Switching Protocols")
            self._informational = True  # skipped: its end begins the real answer
            self._lines = []
            self._reason = b""
            return
        store = header_store(self._lines)
        chunked = check_framing_headers(store)
        self._keep_alive = parser.should_keep_alive()
        self._events.append(Head(status, self._reason.decode("latin-1"), store))
        if self._head_only or status in _NO_BODY:
            self._state = _ENDED
            self._events.append(END)
        else:
            self._until_eof = not chunked and "content-length" not in store
            self._state = _BODY

    def on_body(self, body: bytes) -> None:
        if self._state == _BODY:
            self._events.append(body)
        else:
            self._stray = True

    def on_message_complete(self) -> None:
        state = self._state
        if state == _HEAD and self._informational:
            self._informational = False
            self._fed = 0
        elif state == _BODY:
            self._state = _DONE
            self._events.append(END)
        elif state == _ENDED:
            self._state = _DONE
        else:
            self._stray = True
