"""What :class:`etcdmap.http.transport.Transport` hands back: answers, streams and 5xx failures.

Re-exported by :mod:`etcdmap.http.transport`; import them from there.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import NamedTuple

import requests

from etcdmap._closing import Closing
from etcdmap.errors import ClusterError, DeadlineExceeded, EtcdMapError, ServerError
from etcdmap.http.adapter import StreamBody
from etcdmap.http.attempt import is_timeout

__all__ = ["HTTPResult", "ServerError", "StreamResponse", "abort_response"]

_MAX_LINE = 256 * 1024 * 1024
"""The longest line of a stream (one watch event) kept in memory."""


class HTTPResult(NamedTuple):
    """One HTTP answer (a named tuple: one is built per request).

    :ivar status: the HTTP status.
    :ivar headers: case-insensitive headers.
    :ivar body: the whole body.
    :ivar endpoint: the base URL of the endpoint that answered.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    endpoint: str


def abort_response(response: requests.Response) -> None:
    """Stop a streamed response from any thread, whatever adapter produced it.

    etcdmap's adapter shuts its socket down; for requests' ``HTTPAdapter`` the urllib3
    connection's socket is shut down (best effort) and the response closed.
    """
    raw = response.raw
    if isinstance(raw, StreamBody):
        raw.abort()
        return
    conn = getattr(raw, "connection", None)  # urllib3's HTTPResponse.connection (>= 1.26)
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)
    response.close()


def _set_idle(response: requests.Response, seconds: float | None) -> None:
    raw = response.raw
    if isinstance(raw, StreamBody):
        raw.set_idle(seconds)
        return
    conn = getattr(raw, "connection", None)  # urllib3's HTTPResponse.connection (>= 1.26)
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):  # urllib3: its socket's timeout bounds each read
        sock.settimeout(seconds)


class StreamResponse(Closing):
    """An open streaming answer from :meth:`Transport.stream` (a ``requests.Response`` inside).

    :ivar status: the HTTP status.
    :ivar headers: case-insensitive headers (``X-Etcd-Index`` is the watch's start index).
    :ivar endpoint: the endpoint that answered.
    :ivar read_timeout: the longest wait of one read.
    :ivar response: the underlying ``requests.Response`` (its body is being streamed).

    Read it from one thread (:meth:`iter_lines` or :meth:`read`); :meth:`close` may be called
    from any thread and makes a blocked read return promptly.
    """

    def __init__(self, response: requests.Response, endpoint: str, *,
                 read_timeout: float | None, data: bytes | None = None) -> None:
        self.response = response
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers
        self.endpoint = endpoint
        self.read_timeout = read_timeout
        self._data = data
        self._closed = False
        self._ended = data is not None
        self._lock = threading.Lock()
        self._pieces: Iterator[bytes] | None = None

    @property
    def closed(self) -> bool:
        """``True`` once :meth:`close` was called."""
        return self._closed

    def set_read_timeout(self, seconds: float | None) -> None:
        """Change the read timeout for the rest of the body, e.g. a short idle window once
        the headers arrived (the watch's backfill polls). Call it from the reading thread.

        :param seconds: the new wait of each read (``None``: wait forever).
        """
        self.read_timeout = seconds
        if not self._ended:
            _set_idle(self.response, seconds)

    def _translate(self, exc: BaseException) -> EtcdMapError:
        if is_timeout(exc):
            return DeadlineExceeded(
                f"{self.endpoint} sent nothing for {self.read_timeout} s on the stream"
            )
        return ClusterError([(self.endpoint, exc)], "the stream broke")

    def _next_piece(self) -> bytes:
        """The next piece of the body; ``b""`` at its end (or once closed)."""
        if self._ended or self._closed:
            return b""
        if self._pieces is None:
            self._pieces = self.response.iter_content(chunk_size=None)
        try:
            piece = next(self._pieces, b"")
        except Exception as exc:  # any layer's failure: translated once, here
            self._ended = True
            self.response.close()
            if self.closed:  # close() from another thread ended the read
                return b""
            raise self._translate(exc) from exc
        if not piece:
            self._ended = True
            self.response.close()  # a clean end: the connection goes back to its pool
        return piece

    def read(self) -> bytes:
        """Read the rest of the body.

        :returns: the body (``b""`` once closed).
        :raises DeadlineExceeded: nothing arrived for ``read_timeout`` seconds.
        :raises ClusterError: the connection broke (one entry: this endpoint).
        """
        if self._data is not None:
            return self._data
        pieces = []
        size = 0
        while piece := self._next_piece():
            size += len(piece)
            if size > _MAX_LINE:
                self.close()
                raise ClusterError([(self.endpoint, ValueError("body too large"))],
                                   f"the answer is larger than {_MAX_LINE} bytes")
            pieces.append(piece)
        self._data = b"".join(pieces)
        return self._data

    def iter_lines(self) -> Iterator[bytes]:
        """Yield each non-empty line (one JSON event each, without ``\\n``) as it arrives.

        Stops at the end of the body or after :meth:`close`.

        :raises DeadlineExceeded: nothing arrived for ``read_timeout`` seconds.
        :raises ClusterError: the connection broke (one entry: this endpoint).
        """
        if self._data is not None:
            yield from (line for line in self._data.split(b"\n") if line.strip())
            return
        buffer = b""
        while True:
            piece = self._next_piece()
            if not piece:
                if buffer.strip() and not self._closed:
                    yield buffer.rstrip(b"\r\n")
                return
            buffer += piece
            if b"\n" not in piece:
                if len(buffer) > _MAX_LINE:
                    self.close()
                    raise ClusterError([(self.endpoint, ValueError("line too long"))],
                                       f"a stream line is longer than {_MAX_LINE} bytes")
                continue
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    yield line.rstrip(b"\r")

    def close(self) -> None:
        """Abort the stream (thread-safe, idempotent); an unfinished connection is not reused."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if not self._ended:
            abort_response(self.response)
        self.response.close()

    def __repr__(self) -> str:
        return f"<StreamResponse {self.status} from {self.endpoint}>"
