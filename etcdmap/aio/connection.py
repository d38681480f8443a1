"""Keep-alive HTTP/1.1 connections on asyncio, and their per-origin pools.

An :class:`AsyncConnection` is an asyncio transport, a small protocol that buffers what
arrives (:class:`_Wire`) and the connection's :class:`~etcdmap.aio.framing.Framing`. It is
always in one of two places: idle in its :class:`AsyncPool`, or owned by the one exchange (or
streamed answer) using it. It goes back to the pool only after a complete answer with nothing
after it (:meth:`AsyncConnection.release`); whatever else ends an exchange -- an error, a
timeout, a cancellation at any await, an answer dropped before its end -- closes it
(:meth:`AsyncConnection.close`), so a pooled connection never holds the rest of an old answer.

An idle connection on which anything arrives (the peer closed it, or sent stray bytes) is
marked stale and closed when taken. Reads pause while more than :data:`_HIGH_WATER` bytes
wait for a slow reader (a watch stream), and writes wait for the kernel's buffer to drain.

Thread-safety: a pool and its connections belong to one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable

from etcdmap.aio.framing import Event, Framing, new_framing
from etcdmap.http.endpoints import Origin

__all__ = ["AsyncConnection", "AsyncPool"]

_HIGH_WATER = 1 << 20
"""Bytes buffered for a slow reader before the socket's reading pauses."""


class _Wire(asyncio.Protocol):
    """What the event loop reports of one socket, kept for the connection's reader."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.busy = True  # a new connection belongs to the exchange that opened it
        self.stale = False
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._eof = False
        self._error: BaseException | None = None
        self._reader: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._reading_paused = False

    # ---------------------------------------------------------------- loop callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.busy:  # nothing is expected on an idle connection
            self.stale = True
            return
        self._chunks.append(data)
        self._size += len(data)
        if self._size > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self._reading_paused = True
        self._wake_reader()

    def eof_received(self) -> bool:
        self._eof = True
        self.stale = True
        self._wake_reader()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self.stale = True
        self._error = exc
        self._wake_reader()
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_reader(self) -> None:
        waiter = self._reader
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # ---------------------------------------------------------------- the reader's side

    async def read(self) -> bytes:
        """What arrived since the last read; ``b""`` once the peer closed its side.

        :raises ConnectionError: the connection broke.
        """
        while not self._chunks:
            if self._error is not None:
                raise ConnectionResetError(f"the connection broke: {self._error}")
            if self._eof:
                return b""
            self._reader = asyncio.get_running_loop().create_future()
            try:
                await self._reader
            finally:
                self._reader = None
        data = self._chunks.popleft() if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    async def drain(self) -> None:
        """Wait until the kernel takes more (after a large write).

        :raises ConnectionError: the connection broke.
        """
        if self._writable is not None:
            await asyncio.shield(self._writable)
        if self._error is not None or (self.transport is not None and self.transport.is_closing()):
            raise ConnectionResetError("the connection closed while sending")


class AsyncConnection:
    """One keep-alive HTTP/1.1 connection on the event loop.

    :param wire: its protocol (connected).
    :param fresh: a plain-HTTP connection that carried no request yet (cmux priming).
    :param generation: the pool generation it was opened in.
    """

    __slots__ = ("_on_close", "_wire", "framing", "fresh", "generation")

    def __init__(self, wire: _Wire, *, fresh: bool, generation: int,
                 on_close: Callable[[], None] | None = None) -> None:
        self._wire = wire
        self.framing: Framing = new_framing()
        self.fresh = fresh
        self.generation = generation
        self._on_close = on_close

    async def send(self, data: bytes) -> None:
        """Write ``data`` and wait while the kernel's buffer is full.

        :raises ConnectionError: the connection broke.
        """
        transport = self._wire.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        transport.write(data)
        await self._wire.drain()

    async def events(self) -> list[Event]:
        """The next answer events, reading as needed (never an empty list).

        :raises FramingError: not a valid answer.
        :raises ConnectionError: the connection broke or closed mid-answer.
        """
        while True:
            events = self.framing.feed(await self._wire.read())
            if events:
                return events

    def idle_ok(self) -> bool:
        """Whether an idle connection may carry a request (nothing arrived while idle)."""
        transport = self._wire.transport
        return not self._wire.stale and transport is not None and not transport.is_closing()

    def take(self) -> None:
        """Mark the connection as owned by an exchange (data may arrive)."""
        self._wire.busy = True

    def release(self) -> bool:
        """After the answer's end: make the connection idle if it can be reused.

        :returns: ``True``: put it back in the pool; ``False``: it was closed.
        """
        if self.framing.reusable() and self.idle_ok():
            self._wire.busy = False
            self.fresh = False  # it carried a request: cmux classified it
            return True
        self.close()
        return False

    def close(self) -> None:
        """Close the socket at once, dropping anything unsent or unread (idempotent)."""
        transport = self._wire.transport
        if transport is not None and not transport.is_closing():
            # RuntimeError: its loop is closed; asyncio reclaims the socket (with a warning)
            with contextlib.suppress(RuntimeError):
                transport.abort()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()


class AsyncPool(Origin):
    """The connections to one origin (``scheme://host[:port]``): idle keep-alive ones, and at
    most ``limit`` open at once -- a request that finds none idle and the limit reached waits
    in line (first come, first served) for one to come back or close.

    :param origin: the origin URL.
    :param maxsize: idle connections kept (extra ones are closed when released).
    :param limit: connections open at once (idle and in use).
    """

    def __init__(self, origin: str, maxsize: int = 32, limit: int = 64) -> None:
        super().__init__(origin)
        self.maxsize = maxsize
        self.limit = limit
        self.generation = 0
        self.opened = 0
        """Connections open now (idle and in use)."""
        self._idle: list[AsyncConnection] = []
        self._line: deque[asyncio.Future[AsyncConnection | None]] = deque()

    def take(self) -> AsyncConnection | None:
        """An idle connection still fit for a request, or ``None``."""
        idle = self._idle
        while idle:
            conn = idle.pop()
            if conn.idle_ok() and conn.generation == self.generation:
                conn.take()
                return conn
            conn.close()
        return None

    async def acquire(self, context: ssl.SSLContext | None) -> AsyncConnection:
        """An idle connection, else a new one while fewer than :attr:`limit` are open, else
        the first to come back (or a free slot) after waiting in line; bound by the
        caller's deadline. A cancelled wait leaves the line and hands on its turn.

        :raises OSError: refused, DNS, TLS handshake (nothing was sent).
        """
        if not self._line:
            conn = self.take()
            if conn is not None:
                return conn
            if self.opened < self.limit:
                self.opened += 1
                return await self.connect(context)
        turn: asyncio.Future[AsyncConnection | None] = asyncio.get_running_loop().create_future()
        self._line.append(turn)
        try:
            given = await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self._hand(turn.result())  # its turn came as it was cancelled: pass it on
            else:
                self._line.remove(turn)
            raise
        if given is not None:
            return given
        return await self.connect(context)  # a slot was kept for it

    def _hand(self, conn: AsyncConnection | None) -> None:
        """Give a connection coming back (or, ``None``, an open slot) to the first request
        waiting in line; without one, the connection goes idle and the slot is freed."""
        while self._line:
            turn = self._line.popleft()
            if not turn.done():
                if conn is not None:
                    conn.take()
                turn.set_result(conn)
                return
        if conn is None:
            self.opened -= 1
        elif len(self._idle) < self.maxsize:
            self._idle.append(conn)
        else:
            conn.close()

    def _closed(self) -> None:
        """A connection closed: its slot goes to the first request in line, or is freed."""
        self._hand(None)

    async def connect(self, context: ssl.SSLContext | None) -> AsyncConnection:
        """Open a new connection in a slot already counted in :attr:`opened` (bound by the
        caller's deadline).

        :raises OSError: refused, DNS, TLS handshake (nothing was sent).
        """
        loop = asyncio.get_running_loop()
        try:
            _, wire = await loop.create_connection(
                _Wire, self.hostname, self.port, ssl=context,
                server_hostname=self.hostname if context is not None else None,
            )
        except BaseException:
            self._closed()
            raise
        return AsyncConnection(wire, fresh=not self.https, generation=self.generation,
                               on_close=self._closed)

    def put(self, conn: AsyncConnection) -> None:
        """Return a connection whose answer ended (see :meth:`AsyncConnection.release`)."""
        if not conn.release():
            return
        if conn.generation == self.generation:
            self._hand(conn)
        else:
            conn.close()

    @property
    def idle(self) -> int:
        """How many connections are idle in the pool."""
        return len(self._idle)

    @property
    def waiting(self) -> int:
        """How many requests wait in line for a connection."""
        return len(self._line)

    def close(self) -> None:
        """Close every idle connection; connections in flight close when released."""
        self.generation += 1
        while self._idle:
            self._idle.pop().close()
