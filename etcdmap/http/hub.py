"""The watch hub of a client: ONE I/O thread reads every open stream (watch streams and the
long polls that backfill or probe them) with non-blocking sockets and :mod:`selectors`.

Generic over the API: a stream is one HTTP answer whose body is read as lines (v2 watch
events, v3 watch messages); :meth:`StreamHub.attach` hands an answer of
:meth:`etcdmap.http.transport.Transport.stream` to the hub together with the callbacks that
route its lines. For an answer of etcdmap's :class:`~etcdmap.http.adapter.FastAdapter` the hub
takes the connection over (:meth:`~etcdmap.http.response.StreamBody.detach`: the socket and
the parser of its answer, bytes already received included), feeds it what ``recv`` returns and
splits the body into lines; a body that ends cleanly gives its connection back to the pool.
Answers of any other adapter (requests' ``HTTPAdapter``, requests-mock) cannot be
multiplexed: each is read by a thread of its own, with the same callbacks.

What blocks (opening streams, liveness checks) runs on :attr:`StreamHub.workers`; signals are
delivered on :attr:`StreamHub.dispatchers` (one :class:`~etcdmap.workers.Lane` per watch).
Member liveness (one shared check per member in use) is :class:`~etcdmap.http.liveness.Liveness`.

Callbacks given to the hub run on its I/O thread (or a fallback reader thread): they must be
quick and must not block. Thread-safety: every public method may be called from any thread.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

from etcdmap._closing import Closing
from etcdmap.errors import ClusterError
from etcdmap.http.answers import StreamResponse
from etcdmap.http.hub_streams import End, HubStream, Lines, Reader, Timer, call, read_in_thread
from etcdmap.http.response import StreamBody
from etcdmap.workers import WorkerPool

__all__ = ["HubStream", "Reader", "StreamHub", "Timer"]

log = logging.getLogger("etcdmap.watch")

_RECV = 65536


class StreamHub(Closing):
    """One I/O thread for every stream of a client, plus its worker and dispatcher pools.

    :param workers: threads for blocking work (opening streams, polls' heads, checks).
    :param dispatchers: threads delivering signals (one lane per watch).
    :param name: thread name prefix.
    """

    def __init__(self, *, workers: int = 4, dispatchers: int = 3, name: str = "etcdmap") -> None:
        self.name = name
        self.workers = WorkerPool(workers, f"{name}-worker")
        self.dispatchers = WorkerPool(dispatchers, f"{name}-dispatch")
        self._lock = threading.Lock()
        self._commands: deque[tuple[str, object]] = deque()
        self._timers: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._threaded: set[HubStream] = set()
        self._readers: set[Reader] = set()
        self.restarts = 0
        """How many times the I/O thread failed and was started again."""
        self._running = False
        self._closed = False
        self._woken = False
        self._ident: int | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None

    @property
    def streams(self) -> int:
        """How many sockets (streams, WebSockets) the I/O thread reads now."""
        return len(self._readers)

    # ------------------------------------------------------------------ public

    def attach(self, response: StreamResponse, *, on_lines: Lines, on_end: End,
               silence: float | None = None,
               on_silence: Callable[[], None] | None = None) -> HubStream:
        """Read the body of ``response`` (status and headers already read) as lines.

        :param on_lines: called with each batch of complete non-empty lines.
        :param on_end: called once when the body ends: ``None`` for a clean end, else the
            error (the connection broke or the body was not valid HTTP/1.1).
        :param silence: seconds after which ``on_silence`` is called if no line came yet
            (a long poll's "nothing in history" window).
        :returns: the stream; :meth:`HubStream.close` stops it (no callback follows).
        """
        stream = HubStream(self, response.endpoint, on_lines, on_end, on_silence)
        raw = response.response.raw
        if isinstance(raw, StreamBody):
            stream.pool = raw.pool
            conn = stream.conn = raw.detach()
            if silence is not None:
                stream.silence_timer = self.call_later(silence, stream.silent)
            stream.reader = Reader(self, conn.sock, stream.on_ready, stream.on_error)
            self._command(("read", stream.reader))
            self.call_later(0.0, lambda: stream.on_ready(False))  # what came with the head
            return stream
        stream.response = response
        with self._lock:
            self._threaded.add(stream)
        threading.Thread(target=read_in_thread, args=(stream, response, silence),
                         name=f"{self.name}-stream", daemon=True).start()
        return stream

    def add_reader(self, sock: socket.socket, on_ready: Callable[[bool], None],
                   on_error: Callable[[BaseException], None]) -> Reader:
        """Have the I/O thread watch ``sock`` (made non-blocking) for a protocol of its own.

        :param on_ready: called on the I/O thread with ``writable`` when the socket is
            readable (``False``) or, after :meth:`Reader.want_write`, writable (``True``).
        :param on_error: called once if the hub drops the socket (see :class:`Reader`).
        :returns: the reader; :meth:`Reader.close` stops it and closes the socket.
        """
        reader = Reader(self, sock, on_ready, on_error)
        self._command(("read", reader))
        return reader

    def call_later(self, delay: float, fn: Callable[[], object]) -> Timer:
        """Run ``fn`` on the I/O thread after ``delay`` seconds. :returns: the timer."""
        timer = Timer(time.monotonic() + max(0.0, delay), fn)
        self._command(("timer", timer))
        return timer

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Stop the I/O thread and both pools; close every stream (no callback follows)."""
        with self._lock:
            self._closed = True
            readers = list(self._readers)
            threaded = list(self._threaded)
        for reader in readers:
            reader.closed = True  # no callback follows
        for stream in threaded:
            stream.close()  # their reads return at once and the threads end
        self._command(("stop", None))
        self.workers.close()
        self.dispatchers.close()

    def _forget_thread(self, stream: HubStream) -> None:
        """A thread-read stream ended (called by its thread)."""
        with self._lock:
            self._threaded.discard(stream)

    # ------------------------------------------------------------------ the I/O thread

    def _command(self, command: tuple[str, object]) -> None:
        with self._lock:
            if self._closed and command[0] != "stop":
                if command[0] == "read":
                    reader = command[1]
                    assert isinstance(reader, Reader)
                    reader.sock.close()
                return
            self._commands.append(command)
            start = not self._running
            if start:
                if self._selector is None:
                    self._selector = selectors.DefaultSelector()
                    self._wake_r, self._wake_w = socket.socketpair()
                    self._wake_r.setblocking(False)
                    self._wake_w.setblocking(False)
                    self._selector.register(self._wake_r, selectors.EVENT_READ, None)
                self._running = True
            # The I/O thread itself, or a wake-up already on its way: nothing to send.
            wake = None
            if not start and not self._woken and threading.get_ident() != self._ident:
                wake = self._wake_w
                self._woken = True
        if start:
            threading.Thread(target=self._loop, name=f"{self.name}-io", daemon=True).start()
        elif wake is not None:
            with contextlib.suppress(OSError):  # a full buffer: the thread is awake anyway
                wake.send(b"\0")

    def _loop(self) -> None:
        try:
            self._serve()
        except Exception as exc:  # a bug, or a socket that broke a command: never freeze
            log.exception("the watch hub's I/O thread failed; starting it again")
            self._crashed(exc)

    def _crashed(self, exc: Exception) -> None:
        """The I/O thread failed: every stream and reader is told (their subscriptions
        reconnect and report a ``watch_error``), the timers are kept, a new thread starts."""
        with self._lock:
            readers, self._readers = list(self._readers), set()
            selector, self._selector = self._selector, None
            wake = (self._wake_r, self._wake_w)
            self._wake_r = self._wake_w = None
            self._running = False
            self._woken = False
            self._ident = None
            self.restarts += 1
        if selector is not None:
            selector.close()
        for sock in wake:
            if sock is not None:
                sock.close()
        error = ClusterError([], f"the watch hub's I/O thread failed: {exc!r}")
        for reader in readers:
            self._unread(reader, error)
        if not self._closed:
            self._command(("wake", None))  # a new thread takes the timers and commands

    def _serve(self) -> None:
        selector = self._selector
        assert selector is not None and self._wake_r is not None
        self._ident = threading.get_ident()
        while True:
            if not self._run_commands():
                return
            timeout = self._run_timers()
            if self._commands or (timeout is None and not self._readers):
                # The timers queued commands (this thread sends itself no wake-up), or there
                # is nothing to wait for: take the commands, or end.
                continue
            for key, events in selector.select(timeout):
                if key.data is None:
                    with contextlib.suppress(OSError):  # drained
                        while self._wake_r.recv(4096):
                            pass
                    with self._lock:  # after draining: a later wake-up leaves its byte
                        self._woken = False
                else:
                    self._ready(key.data, bool(events & selectors.EVENT_WRITE))

    def _run_commands(self) -> bool:
        """Apply the queued commands; :returns: ``False`` when the thread must end."""
        while True:
            with self._lock:
                closing = self._closed and not self._commands
                if not self._commands and not closing:
                    if not self._timers and not self._readers:
                        self._running = False
                        self._ident = None  # thread idents are reused once a thread ends
                        return False
                    return True
                if not closing:
                    kind, item = self._commands.popleft()
            if closing:
                self._shutdown()  # outside the lock: dropping a stream takes it
                with self._lock:
                    self._running = False
                    self._ident = None
                return False
            if kind == "timer":
                assert isinstance(item, Timer)
                heapq.heappush(self._timers, (item.when, next(self._seq), item))
            elif kind == "read":
                assert isinstance(item, Reader)
                self._read(item)
            elif kind == "flow":
                assert isinstance(item, Reader)
                self._reflow(item)
            elif kind == "unread":
                assert isinstance(item, Reader)
                self._unread(item, None)

    def _run_timers(self) -> float | None:
        while self._timers:
            when, _, timer = self._timers[0]
            if timer.cancelled:
                heapq.heappop(self._timers)
                continue
            wait = when - time.monotonic()
            if wait > 0:
                return wait
            heapq.heappop(self._timers)
            call(timer.fn)
        return None

    def _shutdown(self) -> None:
        for reader in list(self._readers):
            reader.closed = True
            self._unread(reader, None)
        if self._selector is not None:
            self._selector.close()
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._selector = self._wake_r = self._wake_w = None

    # ------------------------------------------------------------------ readers

    def _read(self, reader: Reader) -> None:
        assert self._selector is not None
        if reader.closed:
            reader.sock.close()
            return
        with self._lock:
            self._readers.add(reader)
        reader.sock.setblocking(False)
        self._reflow(reader)

    def _reflow(self, reader: Reader) -> None:
        """Watch the reader's socket for what it wants now (reading, writing, or neither)."""
        selector = self._selector
        if reader not in self._readers or selector is None:
            return
        events = _events(reader)
        if reader.sock in selector.get_map():
            if events:
                selector.modify(reader.sock, events, reader)
            else:
                selector.unregister(reader.sock)
        elif events:
            selector.register(reader.sock, events, reader)

    def _release(self, reader: Reader) -> None:
        """Stop watching a reader's socket without closing it (I/O thread: an HTTP stream
        that ended cleanly gives its connection back to the pool)."""
        reader.closed = True
        with self._lock:
            known = reader in self._readers
            self._readers.discard(reader)
        if known and self._selector is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):  # already gone
                self._selector.unregister(reader.sock)

    def _unread(self, reader: Reader, error: BaseException | None) -> None:
        """Drop a reader and close its socket (I/O thread); ``error``: tell it why, unless it
        closed itself."""
        told = reader.closed
        self._release(reader)
        reader.sock.close()
        if error is not None and not told:
            call(lambda: reader.on_error(error))

    def _ready(self, reader: Reader, writable: bool) -> None:
        if reader.closed:
            return
        try:
            reader.on_ready(writable)
        except Exception as exc:  # its protocol failed: drop it, tell it
            log.debug("a watch hub reader failed: %r", exc)
            self._unread(reader, exc)


def _events(reader: Reader) -> int:
    return (selectors.EVENT_READ if reader.reading else 0) | \
        (selectors.EVENT_WRITE if reader.writing else 0)
