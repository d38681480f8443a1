"""What the I/O thread of :class:`~etcdmap.http.hub.StreamHub` reads: its readers (a socket
and the protocol reading it), its HTTP streams (a body read as lines, framed by
:mod:`etcdmap.http.framing` — a reader), and its timers (see that module).

Thread-safety: :meth:`HubStream.close`, :meth:`HubStream.pause`, :meth:`HubStream.resume`,
the methods of :class:`Reader` and :meth:`Timer.cancel` may be called from any thread; the
callbacks run on the hub's I/O thread (or a stream's own thread, for other adapters).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Protocol

from etcdmap.errors import ClusterError, EtcdMapError
from etcdmap.http.answers import StreamResponse
from etcdmap.http.connection import Connection, ConnectionPool
from etcdmap.http.framing import END, NEED_DATA, FramingError

__all__ = ["End", "HubStream", "Lines", "Reader", "Timer", "call", "read_in_thread"]

log = logging.getLogger("etcdmap.watch")

_MAX_LINE = 256 * 1024 * 1024
"""The longest line of a stream (one watch event) kept in memory."""
_FALLBACK_READ = 300.0
"""Read timeout of a thread-read (non-multiplexed) stream: the liveness check aborts it sooner."""
_RECV = 65536

Lines = Callable[[list[bytes]], None]
End = Callable[[EtcdMapError | None], None]


class HubControl(Protocol):
    """What readers and streams need of their :class:`~etcdmap.http.hub.StreamHub` (keeps
    this module below it)."""

    def _command(self, command: tuple[str, object]) -> None: ...

    def _forget_thread(self, stream: HubStream) -> None: ...

    def _release(self, reader: Reader) -> None: ...


def call(fn: Callable[[], object]) -> None:
    """Run a callback on the I/O thread: its failure is logged, never ends the thread."""
    try:
        fn()
    except Exception:
        log.exception("a watch hub callback failed")


class Timer:
    """A callable due at a time on the hub's I/O thread; :meth:`cancel` from any thread."""

    __slots__ = ("cancelled", "fn", "when")

    def __init__(self, when: float, fn: Callable[[], object]) -> None:
        self.when = when
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run it (idempotent)."""
        self.cancelled = True


class Reader:
    """A socket the hub's I/O thread watches, and the protocol that reads it:
    ``on_ready(writable)`` runs on the I/O thread when the socket is readable (while
    reading), or writable while :meth:`want_write` asked for it; ``on_error(exc)`` once if the
    hub drops it (a failure of ``on_ready``, or of the I/O thread itself). No callback follows
    :meth:`close`.
    """

    __slots__ = ("closed", "hub", "on_error", "on_ready", "reading", "sock", "writing")

    def __init__(self, hub: HubControl, sock: socket.socket, on_ready: Callable[[bool], None],
                 on_error: Callable[[BaseException], None]) -> None:
        self.hub = hub
        self.sock = sock
        self.on_ready = on_ready
        self.on_error = on_error
        self.closed = False
        self.reading = True
        self.writing = False

    def want_write(self, writing: bool) -> None:
        """Be called when the socket can take more bytes (``True``) or not (any thread)."""
        if writing != self.writing and not self.closed:
            self.writing = writing
            self.hub._command(("flow", self))

    def want_read(self, reading: bool) -> None:
        """Read the socket (``True``) or leave its bytes in the kernel (backpressure)."""
        if reading != self.reading and not self.closed:
            self.reading = reading
            self.hub._command(("flow", self))

    def close(self) -> None:
        """Stop watching the socket and close it (idempotent, any thread)."""
        if not self.closed:
            self.closed = True
            self.hub._command(("unread", self))


class HubStream:
    """One HTTP stream read by the hub: its callbacks, its line buffer, its connection (read
    by a :class:`Reader`), or its thread for answers of other adapters.

    :ivar endpoint: the member it reads from.
    :ivar closed: set by :meth:`close`, or when it ended (no callback follows then).
    """

    def __init__(self, hub: HubControl, endpoint: str, on_lines: Lines, on_end: End,
                 on_silence: Callable[[], None] | None) -> None:
        self.hub = hub
        self.endpoint = endpoint
        self.on_lines = on_lines
        self.on_end = on_end
        self.on_silence = on_silence
        self.closed = False
        self.got_line = False
        self.buffer = bytearray()
        self.conn: Connection | None = None
        self.pool: ConnectionPool | None = None
        self.reader: Reader | None = None
        self.response: StreamResponse | None = None
        self.silence_timer: Timer | None = None
        self.flowing = threading.Event()
        self.flowing.set()

    def pause(self) -> None:
        """Stop reading until :meth:`resume` (backpressure: a consumer fell behind). Unread
        bytes wait in the socket buffers; etcd may then drop a v2 stream, as it does for any
        slow reader (the subscription's probe notices)."""
        if not self.closed and self.flowing.is_set():
            self.flowing.clear()
            if self.reader is not None:
                self.reader.want_read(False)

    def resume(self) -> None:
        """Read again after :meth:`pause`."""
        if not self.flowing.is_set():
            self.flowing.set()
            if self.reader is not None and not self.closed:
                self.reader.want_read(True)

    def close(self) -> None:
        """Stop reading it and close its connection (idempotent, any thread)."""
        if self.closed:
            return
        self.closed = True
        self.flowing.set()
        if self.silence_timer is not None:
            self.silence_timer.cancel()
        if self.reader is not None:
            self.reader.close()
        elif self.response is not None:
            self.response.close()  # a thread-read stream: its read returns at once

    def split(self, data: bytes) -> list[bytes]:
        """Add body bytes; :returns: the complete non-empty lines. A line that arrives in
        many pieces (a large v3 txn is one line) is appended in place, not copied again for
        each piece."""
        buffer = self.buffer
        buffer += data
        if b"\n" not in data:
            if len(buffer) > _MAX_LINE:
                raise ValueError(f"a stream line is longer than {_MAX_LINE} bytes")
            return []
        end = buffer.rfind(b"\n")
        complete = bytes(buffer[:end])
        del buffer[:end + 1]
        return [line.rstrip(b"\r") for line in complete.split(b"\n") if line.strip()]

    # ------------------------------------------------------------------ the I/O thread

    def on_ready(self, _writable: bool) -> None:
        """The socket is readable: feed the answer's parser, deliver the lines (I/O thread)."""
        conn = self.conn
        if conn is None or self.closed:
            return
        try:
            while self._pump(conn):  # bytes the parser holds (they came with the head) first
                try:
                    data = conn.sock.recv(_RECV)
                except (BlockingIOError, ssl.SSLWantReadError):
                    return
                conn.receive_data(data)
                if not self._pump(conn) or not data:
                    return
                sock = conn.sock  # one read per turn, but what TLS decrypted already
                if not isinstance(sock, ssl.SSLSocket) or not sock.pending():
                    return
        except OSError as exc:
            self._ended(exc)

    def _pump(self, conn: Connection) -> bool:
        """Take the parser's events; :returns: whether the stream is still open."""
        lines: list[bytes] = []
        try:
            while True:
                event = conn.poll_event()
                if event is NEED_DATA:
                    break
                if type(event) is bytes:
                    lines += self.split(event)
                    continue
                if event is END:
                    self._deliver(lines)
                    self._ended(None)
                    return False
                raise FramingError(f"unexpected {event!r} in the body of a stream")
        except (ValueError, ConnectionError) as exc:
            self._deliver(lines)
            self._ended(exc)
            return False
        self._deliver(lines)
        return not self.closed

    def _deliver(self, lines: list[bytes]) -> None:
        if lines and not self.closed:
            self.got_line = True
            call(lambda: self.on_lines(lines))

    def _ended(self, exc: BaseException | None) -> None:
        """The body ended (``None``: cleanly: the connection goes back to its pool)."""
        conn, reader = self.conn, self.reader
        self.conn = None
        if reader is not None:
            self.hub._release(reader)  # unwatched; the socket is ours again
        if conn is not None:
            if exc is None and self.pool is not None and conn.reusable():
                conn.set_blocking(True)
                self.pool.put(conn)
            else:
                conn.close()
        self.on_error(exc)

    def on_error(self, exc: BaseException | None) -> None:
        """The stream ended or the hub dropped it: tell the owner once (I/O thread)."""
        if self.closed:
            return
        self.closed = True
        if self.silence_timer is not None:
            self.silence_timer.cancel()
        error = None if exc is None else ClusterError([(self.endpoint, exc)], "the stream broke")
        call(lambda: self.on_end(error))

    def silent(self) -> None:
        """The silence window passed (I/O thread): bytes that came while the thread was busy
        count first."""
        self.on_ready(False)
        if not self.closed and not self.got_line and self.on_silence is not None:
            call(self.on_silence)


def read_in_thread(stream: HubStream, response: StreamResponse, silence: float | None) -> None:
    """Read a stream of another adapter in a thread of its own (it cannot be selected)."""
    response.set_read_timeout(silence if silence is not None else _FALLBACK_READ)
    error: EtcdMapError | None = None
    try:
        for line in response.iter_lines():
            stream.flowing.wait()
            if stream.closed:
                return
            if not stream.got_line and silence is not None:
                response.set_read_timeout(_FALLBACK_READ)
            stream.got_line = True
            stream.on_lines([line])
    except EtcdMapError as exc:
        if silence is not None and not stream.got_line and _is_timeout(exc):
            if not stream.closed and stream.on_silence is not None:
                stream.on_silence()
            return
        error = exc
    finally:
        response.close()
        stream.hub._forget_thread(stream)
    if not stream.closed:
        stream.closed = True
        stream.on_end(error)


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError)
