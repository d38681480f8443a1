"""``AsyncStreamResponse``: an open streaming answer of the asyncio transport (v2 and v3 watches).

The asyncio form of :class:`etcdmap.http.answers.StreamResponse`: read its body whole
(:meth:`~AsyncStreamResponse.read`) or line by line (``async for line in
resp.iter_lines()``), each read waiting at most ``read_timeout``; close it (``await
resp.aclose()``, or ``async with``) to drop it. A body that ends cleanly gives its connection
back to the pool; one dropped, failed or cancelled before its end closes it.

Thread-safety: belongs to one task at a time (:meth:`~AsyncStreamResponse.close` from any
task of the same loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from types import TracebackType

from etcdmap.aio.deadline import deadline
from etcdmap.aio.exchange import BodyStream
from etcdmap.http.lines import MAX_LINE, LineBuffer, stream_failure, too_large

__all__ = ["AsyncStreamResponse"]


class AsyncStreamResponse:
    """An open streaming answer.

    :ivar status: the HTTP status.
    :ivar headers: case-insensitive headers (``X-Etcd-Index`` is a v2 watch's start index).
    :ivar endpoint: the endpoint that answered.
    :ivar read_timeout: the longest wait of one read (``None``: forever).
    """

    def __init__(self, status: int, headers: Mapping[str, str], endpoint: str, *,
                 body: BodyStream | None, data: bytes | None,
                 read_timeout: float | None) -> None:
        self.status = status
        self.headers = headers
        self.endpoint = endpoint
        self.read_timeout = read_timeout
        self._body = body
        self._data = data
        self._dropped = False

    @property
    def closed(self) -> bool:
        """Whether the body ended or the stream was closed."""
        return self._body is None or self._body.ended

    def set_read_timeout(self, seconds: float | None) -> None:
        """Change the longest wait of each later read."""
        self.read_timeout = seconds

    async def _next_piece(self) -> bytes:
        body = self._body
        if body is None:
            return b""
        when = None
        if self.read_timeout is not None:
            when = asyncio.get_running_loop().time() + self.read_timeout
        try:
            async with deadline(when):
                return await body.next_piece()
        except (OSError, ValueError) as exc:  # a timeout, a reset, broken framing
            body.close()
            raise stream_failure(self.endpoint, self.read_timeout, exc) from exc

    async def read(self) -> bytes:
        """The rest of the body.

        :returns: the body (``b""`` once closed).
        :raises DeadlineExceeded: nothing arrived for ``read_timeout`` seconds.
        :raises ClusterError: the connection broke, or the body is too large.
        """
        if self._data is not None:
            return self._data
        pieces = []
        size = 0
        while piece := await self._next_piece():
            size += len(piece)
            if size > MAX_LINE:
                self.close()
                raise too_large(self.endpoint, "body")
            pieces.append(piece)
        self._data = b"".join(pieces)
        return self._data

    async def iter_lines(self) -> AsyncIterator[bytes]:
        """Each non-empty line (one JSON event, without ``\\n``) as it arrives, until the end
        of the body or :meth:`close`.

        :raises DeadlineExceeded: nothing arrived for ``read_timeout`` seconds.
        :raises ClusterError: the connection broke (one entry: this endpoint).
        """
        lines = LineBuffer(self.endpoint)
        if self._data is not None:
            for line in lines.feed(self._data):
                yield line
        else:
            while piece := await self._next_piece():
                for line in lines.feed(piece):
                    yield line
        last = lines.end()
        if last is not None and not self._dropped:
            yield last

    def close(self) -> None:
        """Drop the stream: an unfinished body's connection is closed, never reused
        (idempotent)."""
        if self._body is not None and not self._body.ended:
            self._dropped = True
            self._body.close()

    async def aclose(self) -> None:
        """:meth:`close`, as a coroutine."""
        self.close()

    async def __aenter__(self) -> AsyncStreamResponse:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<AsyncStreamResponse {self.status} from {self.endpoint}>"
