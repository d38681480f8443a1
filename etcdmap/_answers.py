"""What :class:`etcdmap.transport.Transport` hands back: answers, streams and 5xx failures.

Re-exported by :mod:`etcdmap.transport`; import them from there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from etcdmap._closing import Closing
from etcdmap._pool import Connection, ConnectionPool, Headers, RawResponse
from etcdmap.errors import ClusterError, DeadlineExceeded, EtcdMapError, ServerError

__all__ = ["HTTPResult", "ServerError", "StreamResponse"]


@dataclass(frozen=True, slots=True)
class HTTPResult:
    """One HTTP answer.

    :ivar status: the HTTP status.
    :ivar headers: case-insensitive headers.
    :ivar body: the whole body.
    :ivar endpoint: the base URL of the endpoint that answered.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    endpoint: str


class StreamResponse(Closing):
    """An open streaming answer from :meth:`Transport.stream`.

    :ivar status: the HTTP status.
    :ivar headers: case-insensitive headers (``X-Etcd-Index`` is the watch's start index).
    :ivar endpoint: the endpoint that answered.
    :ivar read_timeout: the socket read timeout.

    Read it from one thread (:meth:`iter_lines` or :meth:`read`); :meth:`close` may be called
    from any thread and makes a blocked read return promptly (the socket is shut down).
    """

    def __init__(
        self,
        resp: RawResponse,
        headers: Headers,
        endpoint: str,
        *,
        read_timeout: float | None,
        conn: Connection,
        pool: ConnectionPool,
        data: bytes | None = None,
    ) -> None:
        self._resp = resp
        self.status = resp.status
        self.headers: Mapping[str, str] = headers
        self.endpoint = endpoint
        self.read_timeout = read_timeout
        self._conn = conn
        self._pool = pool
        self._data = data
        self._closed = False
        self._done = False  # the connection was handed back or closed
        self._done_lock = threading.Lock()
        if data is not None:
            self._finish(reuse=False)

    @property
    def closed(self) -> bool:
        """``True`` once :meth:`close` was called."""
        return self._closed

    def set_read_timeout(self, seconds: float | None) -> None:
        """Change the read timeout for the rest of the body, e.g. a short idle window once
        the headers arrived (the watch's backfill polls). Call it from the reading thread.

        :param seconds: the new socket read timeout (``None``: wait forever).
        """
        self.read_timeout = seconds
        if not self._done:
            self._conn.settimeout(seconds)

    def _finish(self, reuse: bool) -> None:
        with self._done_lock:
            if self._done:
                return
            self._done = True
            reuse = reuse and not self._closed and not self._resp.will_close
        if reuse:
            self._pool.put(self._conn)
        else:
            self._conn.close()

    def _translate(self, exc: Exception) -> EtcdMapError:
        if isinstance(exc, TimeoutError):
            return DeadlineExceeded(
                f"{self.endpoint} sent nothing for {self.read_timeout} s on the stream"
            )
        return ClusterError([(self.endpoint, exc)], "the stream broke")

    def read(self) -> bytes:
        """Read the rest of the body.

        :returns: the body (``b""`` once closed).
        :raises DeadlineExceeded: nothing arrived for ``read_timeout`` seconds.
        :raises ClusterError: the connection broke (one entry: this endpoint).
        """
        if self._data is not None:
            return self._data
        try:
            data = self._resp.read()
        except (OSError, ValueError, AttributeError) as exc:
            self._finish(reuse=False)
            if self._closed:
                return b""
            raise self._translate(exc) from exc
        self._data = data
        self._finish(reuse=True)
        return data

    def iter_lines(self) -> Iterator[bytes]:
        """Yield each non-empty line (one JSON event each, without ``\\n``) as it arrives.

        Stops at the end of the body or after :meth:`close`.

        :raises DeadlineExceeded: nothing arrived for ``read_timeout`` seconds.
        :raises ClusterError: the connection broke (one entry: this endpoint).
        """
        if self._data is not None:
            yield from (line for line in self._data.split(b"\n") if line.strip())
            return
        while True:
            line = self._readline()
            if line is None:
                return
            if line.strip():
                yield line.rstrip(b"\r\n")

    def _readline(self) -> bytes | None:
        if self._closed:
            return None
        try:
            line = self._resp.readline()
        except (OSError, ValueError, AttributeError) as exc:
            self._finish(reuse=False)
            if self.closed:
                return None
            raise self._translate(exc) from exc
        if not line:
            self._finish(reuse=True)
            return None
        return line

    def close(self) -> None:
        """Abort the stream (thread-safe, idempotent); the connection is not reused."""
        with self._done_lock:
            if self._done:
                return  # finished: the connection may already serve another request
            self._closed = True
            self._conn.abort()  # wakes a read blocked in another thread
        self._finish(reuse=False)

    def __repr__(self) -> str:
        return f"<StreamResponse {self.status} from {self.endpoint}>"
