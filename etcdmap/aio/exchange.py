"""One HTTP exchange on asyncio: take or open a connection, send, read the answer -- no policy.

:func:`exchange` is the asyncio counterpart of one adapter ``send``: it never retries nor
follows redirects (the transport's :class:`~etcdmap.http.policy.Plan` decides that) and every
failure is one :class:`~etcdmap.http.attempt.AttemptError` whose ``sent`` bit says whether the
request may have reached the member (``False``: refused, DNS, connect timeout, TLS handshake,
a request HTTP/1.1 refuses, a failed cmux priming). The whole exchange -- connect, send, the head
and, unless streamed, the whole body -- is bounded by one budget, so a server dripping one byte
at a time cannot stretch it. A streamed answer (:class:`BodyStream`) owns its connection until
its body ends (then the connection goes back to the pool) or it is closed (then the connection
is closed).

Long request lines on new plain connections: etcd 3.4/3.5 serve plain-HTTP clients behind
cmux (``etcd-io/etcd release-3.5:server/embed/serve.go``), which reads a new connection's
first request line into a 4,096-byte buffer and resets the connection when the line is longer;
so a ``GET /version`` goes first on such a connection, as the blocking adapter does
(:func:`etcdmap.http.connection.prime`).

Thread-safety: belongs to one event loop.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from requests.structures import CaseInsensitiveDict

from etcdmap.aio.connection import AsyncConnection, AsyncPool
from etcdmap.aio.deadline import deadline
from etcdmap.aio.framing import END, Event, FramingError, Head
from etcdmap.http.adapter import DEFAULT_MAX_BODY
from etcdmap.http.attempt import AttemptError
from etcdmap.http.connection import SNIFF_LINE

__all__ = ["AsyncAnswer", "BodyStream", "exchange"]

_FAILURES = (OSError, FramingError, ValueError)  # TimeoutError is an OSError


@dataclass(slots=True)
class AsyncAnswer:
    """One answer of :func:`exchange`.

    :ivar status: the HTTP status.
    :ivar headers: case-insensitive headers.
    :ivar body: the whole body (``None`` when streamed: read :attr:`stream`).
    :ivar stream: the unread body of a streamed answer (``None`` when read whole).
    """

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes | None
    stream: BodyStream | None = None

    def close(self) -> None:
        """Drop a streamed body (its connection is closed); nothing to do otherwise."""
        if self.stream is not None:
            self.stream.close()


class BodyStream:
    """The body of a streamed answer, piece by piece; owns its connection until the end.

    :param pool: where the connection goes back after a clean end.
    :param conn: the connection.
    :param pending: events already parsed after the head.
    """

    def __init__(self, pool: AsyncPool, conn: AsyncConnection, pending: list[Event]) -> None:
        self._pool = pool
        self._conn: AsyncConnection | None = conn
        self._pending = pending

    async def next_piece(self) -> bytes:
        """The next piece of the body; ``b""`` at its end (or once closed).

        :raises FramingError, ConnectionError: the answer broke (the connection is closed).
        """
        while True:
            conn = self._conn
            if conn is None:
                return b""
            if not self._pending:
                try:
                    self._pending = await conn.events()
                except BaseException:  # a failure, a timeout, a cancellation: never reused
                    self.close()
                    raise
            event = self._pending.pop(0)
            if event is END:
                self._conn = None
                self._pool.put(conn)
                return b""
            if isinstance(event, bytes) and event:
                return event

    def close(self) -> None:
        """Close the connection unless the body ended (idempotent)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    @property
    def ended(self) -> bool:
        """Whether the body ended (or the stream was closed)."""
        return self._conn is None


def _needs_priming(conn: AsyncConnection, method: str, target: str) -> bool:
    # The request line "<method> <target> HTTP/1.1" against cmux's sniffing buffer.
    return conn.fresh and len(method) + len(target) + 10 > SNIFF_LINE


async def _prime(conn: AsyncConnection, host: str) -> None:
    """Send ``GET /version`` and read its answer whole (see the module docstring).

    :raises ConnectionError: the endpoint closed the connection after it.
    """
    await conn.send(conn.framing.request("GET", "/version", [("Host", host)], None))
    while END not in await conn.events():
        pass
    if not conn.framing.reusable():
        raise ConnectionError(
            "the endpoint closed the connection after the GET /version sent before a request "
            f"line longer than {SNIFF_LINE} bytes")


async def _head(conn: AsyncConnection) -> tuple[Head, list[Event]]:
    """The answer's head and the events that came with it."""
    events = await conn.events()
    head = events[0]
    if not isinstance(head, Head):  # pragma: no cover - a framing always starts with a head
        raise FramingError(f"an answer began with {head!r}, not a status line")
    return head, events[1:]


async def _body(conn: AsyncConnection, pending: list[Event], limit: int,
                declared: str | None) -> bytes:
    """The rest of the body, up to its end.

    :param declared: its ``Content-Length`` (checked against ``limit`` before reading).
    :raises ValueError: it is longer than ``limit`` bytes.
    """
    if declared is not None and int(declared) > limit:
        raise ValueError(f"the answer's body ({declared} bytes) is larger than {limit} bytes")
    pieces: list[bytes] = []
    size = 0
    while True:
        for event in pending:
            if event is END:
                return b"".join(pieces)
            if isinstance(event, bytes):
                size += len(event)
                if size > limit:
                    raise ValueError(f"the answer's body is larger than {limit} bytes")
                pieces.append(event)
        pending = await conn.events()


async def _connection(pool: AsyncPool, when: float | None,
                      context: ssl.SSLContext | None) -> AsyncConnection:
    try:
        async with deadline(when):  # an idle one, or wait in the pool's line, or connect
            return await pool.acquire(context)
    except (OSError, ValueError) as exc:  # refused, DNS, TLS handshake, timeout
        raise AttemptError(exc, sent=False, timed_out=isinstance(exc, TimeoutError)) from exc


async def exchange(
    pool: AsyncPool,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes | None,
    *,
    budget: float | None,
    stream: bool = False,
    context: ssl.SSLContext | None = None,
    max_body_size: int = DEFAULT_MAX_BODY,
) -> AsyncAnswer:
    """Send one request to ``pool``'s origin and read its answer.

    :param pool: the origin's pool.
    :param method: the HTTP method.
    :param target: the request target (path and query).
    :param headers: the request's headers (``Host`` first, ``Content-Length`` included).
    :param body: the body (``None``: none).
    :param budget: seconds for the whole exchange (``None``: unbounded).
    :param stream: leave the body unread (:attr:`AsyncAnswer.stream`).
    :param context: the TLS context of an https origin.
    :param max_body_size: the largest body read whole.
    :returns: the answer.
    :raises AttemptError: the exchange failed (``sent``/``timed_out`` say how).
    """
    loop = asyncio.get_running_loop()
    when = None if budget is None else loop.time() + budget
    conn = await _connection(pool, when, context)
    sent = False
    try:
        async with deadline(when):
            if _needs_priming(conn, method, target):
                await _prime(conn, pool.host_header)
            data = conn.framing.request(method, target, headers, body)
            sent = True
            await conn.send(data)
            head, pending = await _head(conn)
            answer_headers = CaseInsensitiveDict(head.headers)
            if stream:
                return AsyncAnswer(head.status, answer_headers, None,
                                   BodyStream(pool, conn, pending))
            content = await _body(conn, pending, max_body_size,
                                  answer_headers.get("content-length"))
    except BaseException as exc:  # a cancellation too: the connection is never reused
        conn.close()
        if isinstance(exc, _FAILURES):
            raise AttemptError(exc, sent=sent, timed_out=isinstance(exc, TimeoutError)) from exc
        raise
    pool.put(conn)
    return AsyncAnswer(head.status, answer_headers, content)
