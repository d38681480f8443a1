"""The answers of :class:`~etcdmap.http.adapter.FastAdapter`: the response and its body.

:class:`StreamBody` is ``response.raw``: the body read incrementally from the connection (h11
events), bounded when read whole, abortable from another thread, and detachable for a reader
of many streams. Thread-safety: see each class.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from typing import Any

import h11
import requests
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from etcdmap.http.attempt import AttemptError
from etcdmap.http.connection import Connection, ConnectionPool

__all__ = ["FastResponse", "HeaderStore", "ResponseHeaders", "StreamBody", "build_response", "header_store"]

_ZERO = datetime.timedelta(0)


class ResponseHeaders(CaseInsensitiveDict):  # type: ignore[type-arg]
    """The headers of a :class:`FastResponse`: requests' ``CaseInsensitiveDict`` whose
    :meth:`get` looks the name up in one step (the client reads several headers of every
    answer; the inherited ``get`` goes through ``Mapping.get`` and ``__getitem__``)."""

    def get(self, key: str, default: Any = None) -> Any:
        """The value of header ``key`` (any case), or ``default``."""
        item = self._store.get(key.lower())  # type: ignore[attr-defined]
        return default if item is None else item[1]


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


HeaderStore = dict[str, tuple[str, str]]
"""What ``CaseInsensitiveDict._store`` holds: ``lower-case name -> (name as sent, value)``."""

_NAMES: dict[bytes, tuple[str, str]] = {}
_NAMES_MAX = 512


def header_store(event: h11.Response) -> HeaderStore:
    """The answer's headers as requests keeps them (repeated names joined with ``", "``).

    The decoded and lower-cased names are cached (bounded): an etcd answer repeats the same
    dozen names on every request.
    """
    store: HeaderStore = {}
    names = _NAMES
    for name, value in event.headers.raw_items():
        known = names.get(name)
        if known is None:
            text = name.decode("latin-1")
            known = (text, text.lower())
            if len(names) >= _NAMES_MAX:
                names.clear()
            names[name] = known
        key, lower = known
        text = value.decode("latin-1")
        previous = store.get(lower)
        store[lower] = (key, text) if previous is None else (key, f"{previous[1]}, {text}")
    return store


def build_response(request: requests.PreparedRequest, event: h11.Response, store: HeaderStore,
                   raw: StreamBody) -> requests.Response:
    """The ``requests.Response`` of an answer whose head was read (body in ``raw``).

    :param store: the headers (:func:`header_store`).
    """
    response = FastResponse.__new__(FastResponse)  # every attribute Response() sets, set here
    response._content = False  # type: ignore[assignment] # requests' "not read yet"
    response._content_consumed = False  # type: ignore[attr-defined]
    response._next = None  # type: ignore[attr-defined]
    response.status_code = event.status_code
    headers = ResponseHeaders.__new__(ResponseHeaders)
    headers._store = store  # type: ignore[attr-defined] # all __init__ sets
    response.headers = headers
    response.raw = raw
    response.url = request.url or ""
    content_type = store.get("content-type")
    if content_type is not None and content_type[1] == "application/json":
        response.encoding = "utf-8"  # what get_encoding_from_headers says, without parsing
    else:
        response.encoding = get_encoding_from_headers(headers)
    response.history = []
    response.reason = event.reason.decode("latin-1")
    response.elapsed = _ZERO
    response.request = request
    return response


class StreamBody:
    """The body of a :class:`FastAdapter` answer, read incrementally (``response.raw``).

    Read it from one thread (:meth:`read`, :meth:`stream`, or requests' ``iter_content``);
    :meth:`abort` may be called from any thread. At the end of a clean body the connection
    goes back to its pool; after an error, an abort or an early close it is closed.

    For a reader of many streams (a selector thread): :meth:`detach` hands over the
    :class:`~etcdmap.http.connection.Connection` (socket + h11 state with any bytes already
    received) and takes the body out of the adapter's hands.
    """

    def __init__(  # noqa: PLR0917
        self, pool: ConnectionPool, conn: Connection, method: str, status: int,
        store: HeaderStore, request: requests.PreparedRequest, max_body_size: int,
    ) -> None:
        self._pool = pool
        self._conn: Connection | None = conn
        self._request = request
        self._max = max_body_size
        self._lock = threading.Lock()
        self._ended = method == "HEAD" or status in (204, 304)
        self.status = status
        self.closed = False
        length = store.get("content-length")  # h11 checked it: digits, one value
        self.length: int | None = None if length is None else int(length[1])
        """The ``Content-Length`` (``None``: chunked or until close)."""
        if self._ended:
            self._finish()

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
        if isinstance(event, h11.Data):
            return bytes(event.data)
        if isinstance(event, h11.EndOfMessage):
            self._ended = True
            self._finish()
            return b""
        raise ConnectionError(f"the connection closed in the middle of the body ({event!r})")

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

        :raises OSError, h11.ProtocolError, ValueError: the read failed (connection closed).
        """
        if not self._ended and self.length is not None and self.length > limit:
            self._release(reuse=False)
            raise ValueError(f"answer body of {self.length} bytes exceeds the limit of {limit}")
        conn = self._conn
        if conn is None or self._ended:
            return b""
        pieces: list[bytes | bytearray] = []
        size = 0
        try:
            while True:  # _next() inlined (one call less per event): every answer of the
                # client is read here; keep the two in step
                event = conn.next_event()
                if type(event) is h11.Data:
                    size += len(event.data)
                    if size > limit:
                        raise ValueError(f"answer body exceeds the limit of {limit} bytes")  # noqa: TRY301
                    pieces.append(event.data)
                elif type(event) is h11.EndOfMessage:
                    break
                else:
                    raise ConnectionError(  # noqa: TRY301
                        f"the connection closed in the middle of the body ({event!r})")
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
        except (OSError, h11.ProtocolError, ValueError) as exc:
            raise self._fail(exc) from exc

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        """Yield the body's pieces as they arrive (what requests' ``iter_content`` uses).

        :raises AttemptError: the connection broke, timed out or was aborted.
        """
        while True:
            try:
                piece = self._next()
            except (OSError, h11.ProtocolError, ValueError) as exc:
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
