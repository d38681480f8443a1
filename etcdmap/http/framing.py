"""Sans-IO HTTP/1.1 framing: request heads out, answer events in (no sockets here).

This is the seam between etcdmap's connections (the thread-per-request
:mod:`etcdmap.http.connection`, and asyncio ones) and the bytes of HTTP/1.1 (RFC 9112).

**Request heads** are written here, without a library: :class:`HeadWriter` checks the method
(a token), the target (visible ASCII, no space), every header name (a token) and value (no
control character, no leading or trailing blank; ``str`` values are sent as latin-1) and
refuses what would let a header or a request be smuggled (CR/LF, a ``Transfer-Encoding``, a
``Content-Length`` that is not the body's). The header block of a request (``Host`` and the
client's fixed headers) is the same on every request to an endpoint, so it is checked and
formatted once and cached; per request only the request line and ``Content-Length`` are
formatted.

**Answers** are parsed by a :class:`ResponseParser`, one per answer
(:func:`etcdmap.http.framing_choice.parser_for`): feed it the bytes as they arrive (``b""``
once the peer closed) and take its events with ``next_event()`` (``next_answer(method)``
gives the parser of the next answer on the same connection):

- :class:`Head` once (status, reason, headers); informational ``1xx`` answers are skipped;
- ``bytes``: the next piece of the body (never empty);
- :data:`END`: the answer is complete (a body read until the connection closed ends at EOF);
- :data:`NEED_DATA`: feed more bytes first.

A malformed answer raises :class:`FramingError` (a ``ValueError``) from ``next_event()``,
after the events that came before the fault. After :data:`END`, ``reusable`` says whether the
connection may carry the next exchange: false after ``Connection: close``, HTTP/1.0 without
keep-alive, a body read until EOF, or bytes after the end of the answer (stray bytes must never
be read as the next request's answer). Both parsers refuse two different or repeated
``Content-Length`` values, a ``Transfer-Encoding`` other than ``chunked`` alone, both
``Transfer-Encoding`` and ``Content-Length`` (RFC 9112 §6.1), bad chunk sizes, a head longer
than :data:`MAX_HEAD` bytes, and a ``101 Switching Protocols`` (nothing here asks for one).
Header values are decoded as latin-1, without their surrounding blanks.

**Two parsers**, chosen by name (:mod:`etcdmap.http.framing_choice`): ``"httptools"``
(llhttp, Node's parser in C: :mod:`etcdmap.http.framing_httptools`, with the ``fast``
extra) and ``"h11"`` (python-hyper's pure-Python state machine:
:mod:`etcdmap.http.framing_h11`, always installed). The default is httptools when it
imports, or what the environment variable ``ETCDMAP_FRAMING`` names. They differ only where
llhttp is stricter than h11 and cannot be relaxed safely: obsolete line folding, bare-LF line
ends and a ``Content-Length`` repeated with the same value are refused by httptools and
accepted by h11; a blank line after an answer is skipped by httptools, and makes h11 close the
connection.

Thread-safety: a parser is used by one thread at a time; :class:`HeadWriter` and the module's
caches are thread-safe.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Final, NamedTuple, Protocol

__all__ = [
    "END",
    "MAX_HEAD",
    "NEED_DATA",
    "BoundedCache",
    "End",
    "FramingError",
    "Head",
    "HeadWriter",
    "HeaderStore",
    "NeedData",
    "ParserFactory",
    "ResponseParser",
    "header_store",
]

MAX_HEAD = 65536
"""The longest answer head accepted, in bytes: more than that received before the head is
complete, or header lines (name, value, ``": "`` and CRLF) longer than that in all."""

HeaderStore = dict[str, tuple[str, str]]
"""Headers as requests keeps them: ``lower-case name -> (name as sent, value)``; a name sent
more than once has its values joined with ``", "`` (RFC 9110 §5.3)."""


class FramingError(ValueError):
    """The bytes are not a valid HTTP/1.1 answer (or request parts are invalid to send)."""


class Head(NamedTuple):
    """The head of an answer.

    :ivar status: the status code (200..599; informational answers are skipped).
    :ivar reason: the reason phrase (may be empty).
    :ivar headers: the headers (:data:`HeaderStore`).
    """

    status: int
    reason: str
    headers: HeaderStore


class End:
    """The type of :data:`END`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END"


class NeedData:
    """The type of :data:`NEED_DATA`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


END: Final = End()
"""Event: the answer is complete."""
NEED_DATA: Final = NeedData()
"""Event: the parser needs more bytes."""

Event = Head | bytes | End | NeedData


class ResponseParser(Protocol):
    """The parser of one answer (see the module docstring). Not thread-safe."""

    def feed(self, data: bytes) -> None:
        """Hand over received bytes; ``b""`` means the peer closed the connection."""

    def next_event(self) -> Event:
        """The next event.

        :raises FramingError: the answer is malformed (or ended before it was complete).
        """

    @property
    def reusable(self) -> bool:
        """After :data:`END`: whether the connection may carry the next exchange."""

    def next_answer(self, method: str) -> ResponseParser:
        """The parser of the next answer on the same connection (call it only once this
        one is :attr:`reusable`); it may be this object, reset (h11 keeps its state machine
        from one exchange to the next)."""


class BoundedCache:
    """A dict that is emptied when it reaches ``maxsize`` entries. Lock-free reads; writes
    take a lock, so threads filling it at once cannot lose or mix entries.

    :param maxsize: the most entries kept.
    """

    __slots__ = ("_data", "_lock", "get", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: dict[object, object] = {}
        self._lock = threading.Lock()
        self.get = self._data.get
        """``get(key, default=None)``: the cached value (a plain dict lookup)."""

    def put(self, key: object, value: object) -> None:
        """Cache ``value`` under ``key``."""
        with self._lock:
            if len(self._data) >= self.maxsize:
                self._data.clear()
            self._data[key] = value

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


# ---------------------------------------------------------------------- answer headers

_NAMES = BoundedCache(512)  # raw name -> (name as sent, lower-case name)


def header_store(lines: Iterable[tuple[bytes, bytes]]) -> HeaderStore:
    """The headers of an answer from its ``(name, value)`` lines as received: values
    decoded as latin-1 without trailing blanks, repeated names joined with ``", "``, names
    decoded once and cached (an etcd answer repeats the same dozen names on every request).

    :raises FramingError: a second ``Content-Length``, or header lines longer in all than
        :data:`MAX_HEAD` bytes.
    """
    store: HeaderStore = {}
    names = _NAMES.get
    size = 0
    for name, value in lines:
        known: tuple[str, str] | None = names(name)  # type: ignore[assignment]
        if known is None:
            decoded = name.decode("latin-1")
            known = (decoded, decoded.lower())
            _NAMES.put(name, known)
        size += len(name) + len(value) + 4
        key, lower = known
        text = value.decode("latin-1").rstrip(" \t")
        previous = store.get(lower)
        if previous is None:
            store[lower] = (key, text)
        elif lower == "content-length":
            raise FramingError("the answer has more than one Content-Length")
        else:
            store[lower] = (key, f"{previous[1]}, {text}")
    if size > MAX_HEAD:
        raise FramingError(f"the answer's head is longer than {MAX_HEAD} bytes")
    return store


def check_framing_headers(store: HeaderStore) -> bool:
    """Check the headers that frame the body; :returns: whether the body is chunked.

    :raises FramingError: a ``Transfer-Encoding`` other than ``chunked`` alone, or one
        beside a ``Content-Length`` (RFC 9112 §6.1: a sign of response splitting).
    """
    coding = store.get("transfer-encoding")
    if coding is None:
        return False
    if coding[1].strip(" \t").lower() != "chunked":
        raise FramingError(f"unsupported Transfer-Encoding {coding[1]!r} (only chunked)")
    if "content-length" in store:
        raise FramingError("the answer has both Transfer-Encoding and Content-Length")
    return True


# ---------------------------------------------------------------------- request heads

_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
_TARGET = re.compile(r"[\x21-\x7e]+")
_VALUE = re.compile(rb"(?:[^\x00-\x20\x7f]+(?:[ \t]+[^\x00-\x20\x7f]+)*)?")
_METHODS: set[str] = set()
_NO_BODY = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def _value_bytes(value: str | bytes, name: str) -> bytes:
    try:
        data = value.encode("latin-1") if isinstance(value, str) else value
    except UnicodeEncodeError as exc:
        raise FramingError(f"header {name!r} holds characters beyond latin-1: {value!r:.80}"
                           ) from exc
    if not isinstance(data, bytes) or _VALUE.fullmatch(data) is None:
        raise FramingError(f"invalid value of header {name!r}: {value!r:.80}")
    return data


class HeadWriter:
    """Writes request heads (see the module docstring). Thread-safe.

    :param maxsize: header blocks cached (distinct header sets).
    """

    def __init__(self, maxsize: int = 256) -> None:
        self._blocks = BoundedCache(maxsize)

    def head(self, method: str, target: str, host: str,
             headers: Iterable[tuple[str, str | bytes]], length: int | None) -> bytes:
        """The request line and headers, ending with the blank line.

        :param method: the method (a token).
        :param target: the request target: the percent-quoted path and query.
        :param host: the ``Host`` header (a ``Host`` in ``headers`` is ignored).
        :param headers: the other headers as ``(name, value)`` pairs (a tuple is cached as
            it is; put no ``Content-Length`` in it, see ``length``).
        :param length: the body's length (``Content-Length``), ``None`` for no body.
        :raises FramingError: an invalid method, target, header name or value, or a
            ``Transfer-Encoding`` header.
        """
        if method not in _METHODS:
            if _TOKEN.fullmatch(method) is None:
                raise FramingError(f"invalid method {method!r:.40}")
            _METHODS.add(method)
        if _TARGET.fullmatch(target) is None:
            raise FramingError(f"invalid request target {target!r:.80} (percent-quote it)")
        if isinstance(headers, tuple):
            key = (host, headers)
            block: bytes | None = self._blocks.get(key)  # type: ignore[assignment]
            if block is None:
                block = self._block(host, headers)
                self._blocks.put(key, block)
        else:
            block = self._block(host, headers)
        line = f"{method} {target} HTTP/1.1\r\n".encode("ascii")
        if length is None:
            return line + block + b"\r\n"
        return b"%s%sContent-Length: %d\r\n\r\n" % (line, block, length)

    @staticmethod
    def _block(host: str, headers: Iterable[tuple[str, str | bytes]]) -> bytes:
        parts = [b"Host: " + _value_bytes(host, "Host") + b"\r\n"]
        for name, value in headers:
            if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
                raise FramingError(f"invalid header name {name!r:.80}")
            lower = name.lower()
            if lower == "host":
                continue
            if lower in ("content-length", "transfer-encoding"):
                raise FramingError(f"{name} is written from the body, not passed as a header")
            parts.append(b"%s: %s\r\n" % (name.encode("ascii"), _value_bytes(value, name)))
        return b"".join(parts)


def body_length(method: str, body: bytes | None) -> int | None:
    """The ``Content-Length`` to send: the body's, or 0 for a method that has a body."""
    if body is not None:
        return len(body)
    return None if method in _NO_BODY else 0


# ---------------------------------------------------------------------- parsers

ParserFactory = Callable[[str], ResponseParser]
"""Makes the parser of one answer, given the request's method."""
