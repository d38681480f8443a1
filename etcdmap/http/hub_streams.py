"""The streams of :class:`~etcdmap.http.hub.StreamHub` and its timers (see that module).

Thread-safety: :meth:`HubStream.close`, :meth:`HubStream.pause`, :meth:`HubStream.resume` and
:meth:`Timer.cancel` may be called from any thread.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Protocol

from etcdmap.errors import EtcdMapError
from etcdmap.http.answers import StreamResponse
from etcdmap.http.connection import Connection, ConnectionPool


class HubControl(Protocol):
    """What a stream needs of its :class:`~etcdmap.http.hub.StreamHub` (keeps this module
    below it)."""

    def _command(self, command: tuple[str, object]) -> None: ...

    def _forget_thread(self, stream: HubStream) -> None: ...

__all__ = ["End", "HubStream", "Lines", "Reader", "Timer", "read_in_thread"]

_MAX_LINE = 256 * 1024 * 1024
"""The longest line of a stream (one watch event) kept in memory."""
_FALLBACK_READ = 300.0
"""Read timeout of a thread-read (non-multiplexed) stream: the liveness check aborts it sooner."""

Lines = Callable[[list[bytes]], None]
End = Callable[[EtcdMapError | None], None]


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
    """A socket the hub's I/O thread watches for a protocol of its own (the v3 WebSockets):
    ``on_ready(writable)`` runs on the I/O thread when the socket is readable, or writable
    while :meth:`want_write` asked for it; ``on_error(exc)`` once if the hub drops it (a
    failure of ``on_ready``, or of the I/O thread itself). No callback follows :meth:`close`.
    """

    __slots__ = ("closed", "hub", "on_error", "on_ready", "sock", "writing")

    def __init__(self, hub: HubControl, sock: socket.socket, on_ready: Callable[[bool], None],
                 on_error: Callable[[BaseException], None]) -> None:
        self.hub = hub
        self.sock = sock
        self.on_ready = on_ready
        self.on_error = on_error
        self.closed = False
        self.writing = False

    def want_write(self, writing: bool) -> None:
        """Be called when the socket can take more bytes (``True``) or not (any thread)."""
        if writing != self.writing and not self.closed:
            self.writing = writing
            self.hub._command(("flow", self))

    def close(self) -> None:
        """Stop watching the socket and close it (idempotent, any thread)."""
        if not self.closed:
            self.closed = True
            self.hub._command(("unread", self))


class HubStream:
    """One stream read by the hub: its callbacks, its line buffer, its connection.

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
            if self.conn is not None:
                self.hub._command(("pause", self))

    def resume(self) -> None:
        """Read again after :meth:`pause`."""
        if not self.flowing.is_set():
            self.flowing.set()
            if self.conn is not None and not self.closed:
                self.hub._command(("resume", self))

    def close(self) -> None:
        """Stop reading it and close its connection (idempotent, any thread)."""
        if self.closed:
            return
        self.closed = True
        self.flowing.set()
        if self.silence_timer is not None:
            self.silence_timer.cancel()
        if self.conn is not None:
            self.hub._command(("close", self))
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
