"""The answers of :class:`~etcdmap.http.adapter.FastAdapter`: the response and its body.

:class:`StreamBody` is ``response.raw``: the body read incrementally from the connection
(:mod:`etcdmap.http.framing` events), bounded when read whole, abortable from another thread,
and detachable for a reader of many streams. Thread-safety: see each class.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from typing import Any

import requests
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from etcdmap.http.attempt import AttemptError
from etcdmap.http.connection import Connection, ConnectionPool
from etcdmap.http.framing import END, NEED_DATA, FramingError, Head, HeaderStore
from etcdmap.http.requests_internals import ResponseHeaders, headers_from_store, new_response

__all__ = ["DirectAnswer", "FastResponse", "HeaderStore", "ResponseHeaders", "StreamBody",
           "build_response"]

_ZERO = datetime.timedelta(0)


class FastResponse(requests.Response):
    """A ``requests.Response`` built without the cookie jar every ``Response()`` creates (an
    ``RLock`` and a cookie policy per answer): :attr:`cookies` is made on first access."""

    _jar: RequestsCookieJar | None = None

    @property
    def cookies(self) -> RequestsCookieJar:
        """An empty cookie jar (etcd sets no cookies), created on first access."""
        if self._jar is None:
            self._jar = RequestsCookieJar()
        return self._jar

    @cookies.setter
    def cookies(self, jar: RequestsCookieJar) -> None:
        self._jar = jar


class DirectAnswer:
    """An answer read whole by :meth:`FastAdapter.exchange <etcdmap.http.adapter.FastAdapter.exchange>`:
    the part of a ``requests.Response`` the transport reads (``status_code``, ``headers``,
    ``content``, ``close()``), without the rest.

    :param status_code: the status.
    :param headers: the headers (case-insensitive, as ``Response.headers``).
    :param content: the whole body.
    """

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: CaseInsensitiveDict[Any], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def close(self) -> None:
        """Nothing to release: the body was read and the connection went back to its pool."""

    def __repr__(self) -> str:
        return f"<DirectAnswer [{self.status_code}]>"


def build_response(request: requests.PreparedRequest, head: Head, raw: StreamBody,
                   content: bytes | None, adapter: object) -> requests.Response:
    """The ``requests.Response`` of an answer whose head was read.

    :param head: the answer's head.
    :param raw: its body (``response.raw``).
    :param content: the whole body when it was read, ``None`` when it is streamed.
    :param adapter: the adapter (``response.connection``, as requests' adapters set it).
    """
    store = head.headers
    headers = headers_from_store(ResponseHeaders, store)
    content_type = store.get("content-type")
    if content_type is not None and content_type[1] == "application/json":
        encoding: str | None = "utf-8"  # what get_encoding_from_headers says, without parsing
    else:
        encoding = get_encoding_from_headers(headers)
    return new_response(FastResponse, {
        "_content": False if content is None else content,
        "_content_consumed": content is not None,
        "_next": None,
        "status_code": head.status,
        "headers": headers,
        "raw": raw,
        "url": request.url or "",
        "encoding": encoding,
        "history": [],
        "reason": head.reason,
        "elapsed": _ZERO,
        "request": request,
        "connection": adapter,
    })


class StreamBody:
    """The body of a :class:`FastAdapter` answer, read incrementally (``response.raw``).

    Read it from one thread (:meth:`read`, :meth:`stream`, or requests' ``iter_content``);
    :meth:`abort` may be called from any thread. At the end of a clean body the connection
    goes back to its pool; after an error, an abort or an early close it is closed.

    For a reader of many streams (a selector thread): :meth:`detach` hands over the
    :class:`~etcdmap.http.connection.Connection` (socket + the answer's parser with any bytes
    already received) and takes the body out of the adapter's hands.
    """

    def __init__(  # noqa: PLR0917
        self, pool: ConnectionPool, conn: Connection, method: str, status: int,
        store: HeaderStore, request: requests.PreparedRequest | None, max_body_size: int,
    ) -> None:
        self._pool = pool
        self._conn: Connection | None = conn
        self._request = request
        self._max = max_body_size
        self._lock = threading.Lock()
        self._ended = False
        self.status = status
        self.closed = False
        length = store.get("content-length")  # the parser checked it: digits, one value
        self.length: int | None = (None if length is None or method == "HEAD"
                                   or status in (204, 304) else int(length[1]))
        """The ``Content-Length`` (``None``: chunked, until close, or no body)."""

    @property
    def pool(self) -> ConnectionPool:
        """The pool a cleanly ended connection goes back to (for a reader that detached it)."""
        return self._pool

    @property
    def connection(self) -> Connection | None:
        """The connection while the body is being read (``None`` once released)."""
        return self._conn

    def _next(self) -> bytes:
        """The next piece of the body; ``b""`` at its end."""
        conn = self._conn
        if conn is None or self._ended:
            return b""
        event = conn.next_event()
        if type(event) is bytes:
            return event
        if event is END:
            self._ended = True
            self._finish()
            return b""
        raise FramingError(f"unexpected {event!r} in the body")

    def _fail(self, exc: BaseException) -> AttemptError:
        conn = self._conn
        aborted = conn is not None and conn.aborted
        self._release(reuse=False)
        if aborted:
            return AttemptError("the stream was aborted", sent=True, request=self._request)
        return AttemptError(exc, sent=True, timed_out=isinstance(exc, TimeoutError),
                            request=self._request)

    def read_all(self, limit: int) -> bytes:
        """The rest of the body, at most ``limit`` bytes.

        :raises OSError, ValueError: the read failed (connection closed, malformed answer).
        """
        if not self._ended and self.length is not None and self.length > limit:
            self._release(reuse=False)
            raise ValueError(f"answer body of {self.length} bytes exceeds the limit of {limit}")
        conn = self._conn
        if conn is None or self._ended:
            return b""
        parser = conn.parser
        assert parser is not None
        pieces: list[bytes] = []
        size = 0
        try:
            while True:  # Connection.next_event() inlined (one call less per event): every
                # answer of the client is read here; keep the two in step
                event = parser.next_event()
                if type(event) is bytes:
                    size += len(event)
                    if size > limit:
                        raise ValueError(f"answer body exceeds the limit of {limit} bytes")  # noqa: TRY301
                    pieces.append(event)
                elif event is END:
                    break
                elif event is NEED_DATA:
                    conn.receive()
                else:
                    raise FramingError(f"unexpected {event!r} in the body")  # noqa: TRY301
        except BaseException:
            self._release(reuse=False)
            raise
        self._ended = True
        self._finish()
        return b"".join(pieces)

    def read(self, amt: int | None = None, decode_content: bool | None = None,
             **_: object) -> bytes:
        """Read up to ``amt`` bytes (the next piece that arrives), or the rest of the body.

        :raises AttemptError: the connection broke, timed out or was aborted.
        """
        try:
            if amt is None:
                return self.read_all(self._max)
            return self._next()
        except (OSError, ValueError) as exc:
            raise self._fail(exc) from exc

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        """Yield the body's pieces as they arrive (what requests' ``iter_content`` uses).

        :raises AttemptError: the connection broke, timed out or was aborted.
        """
        while True:
            try:
                piece = self._next()
            except (OSError, ValueError) as exc:
                raise self._fail(exc) from exc
            if not piece:
                return
            yield piece

    def set_idle(self, timeout: float | None) -> None:
        """Change how long each later read may wait (call it from the reading thread)."""
        if self._conn is not None:
            self._conn.set_idle(timeout)

    def abort(self) -> None:
        """Stop the body from any thread (idempotent); the connection is not reused."""
        with self._lock:
            self.closed = True
            if self._conn is not None:
                self._conn.abort()

    def detach(self) -> Connection:
        """Hand the connection over to the caller (e.g. a selector thread reading streams).

        :returns: the connection, in the middle of the body; the caller closes it.
        :raises ValueError: the body was already released.
        """
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is None:
            raise ValueError("the body was already read or closed")
        return conn

    def _finish(self) -> None:
        self._release(reuse=True)

    def _release(self, *, reuse: bool) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            reuse = reuse and not (conn is not None and conn.aborted)
        if conn is None:
            return
        if reuse and conn.reusable():
            self._pool.put(conn)
        else:
            conn.close()

    def release_conn(self) -> None:
        """requests calls it from ``Response.close()``: a body not read to its end is dropped."""
        self._release(reuse=self._ended)

    def close(self) -> None:
        """Close the body; a connection with unread body is closed, not reused."""
        self.closed = True
        self._release(reuse=self._ended)

    def readable(self) -> bool:
        """Always ``True`` (a file-like body)."""
        return True
