"""Streams of JSON lines (watch answers), without I/O: splitting, limits, and what a failure means.

:class:`LineBuffer` cuts the pieces of a body, as they arrive, into its non-empty lines (one
event each); :func:`stream_failure` says what a failed read of a stream is for the caller: a
:class:`~etcdmap.errors.DeadlineExceeded` after silence, else a one-entry
:class:`~etcdmap.errors.ClusterError`.

Thread-safety: a :class:`LineBuffer` belongs to one reader.
"""

from __future__ import annotations

from etcdmap.errors import ClusterError, DeadlineExceeded, EtcdMapError
from etcdmap.http.attempt import is_timeout

__all__ = ["MAX_LINE", "LineBuffer", "stream_failure", "too_large"]

MAX_LINE = 256 * 1024 * 1024
"""The longest line of a stream (one watch event), or body read whole from it, kept in memory."""


def stream_failure(endpoint: str, read_timeout: float | None, exc: BaseException) -> EtcdMapError:
    """The error of a failed read on a stream from ``endpoint`` (not raised).

    :returns: :class:`DeadlineExceeded` when nothing came for ``read_timeout`` seconds, else a
        :class:`ClusterError` with one entry (``endpoint``, ``exc``).
    """
    if is_timeout(exc):
        return DeadlineExceeded(f"{endpoint} sent nothing for {read_timeout} s on the stream")
    return ClusterError([(endpoint, exc)], "the stream broke")


def too_large(endpoint: str, what: str) -> ClusterError:
    """The error of a body or line over :data:`MAX_LINE` (not raised)."""
    return ClusterError([(endpoint, ValueError(f"{what} too long"))],
                        f"a stream's {what} is longer than {MAX_LINE} bytes")


class LineBuffer:
    """Cuts a byte stream into its non-empty lines (without ``\\n``; a ``\\r`` before it is
    dropped).

    :param endpoint: where the stream comes from (for errors).
    :param limit: the longest line kept.
    """

    def __init__(self, endpoint: str, limit: int = MAX_LINE) -> None:
        self._endpoint = endpoint
        self._limit = limit
        self._buffer = b""

    def feed(self, piece: bytes) -> list[bytes]:
        """The lines ``piece`` completes, in order.

        :raises ClusterError: a line is longer than the limit.
        """
        buffer = self._buffer + piece
        if b"\n" not in piece:
            self._buffer = buffer
            if len(buffer) > self._limit:
                raise too_large(self._endpoint, "line")
            return []
        *lines, self._buffer = buffer.split(b"\n")
        return [line.rstrip(b"\r") for line in lines if line.strip()]

    def end(self) -> bytes | None:
        """The last line, if the stream ended without a ``\\n`` after it."""
        rest, self._buffer = self._buffer, b""
        return rest.rstrip(b"\r\n") if rest.strip() else None
