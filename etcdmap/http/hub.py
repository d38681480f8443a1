"""The watch hub of a client: ONE I/O thread reads every open stream (watch streams and the
long polls that backfill or probe them) with non-blocking sockets and :mod:`selectors`.

Generic over the API: a stream is one HTTP answer whose body is read as lines (v2 watch
events, v3 watch messages); :meth:`StreamHub.attach` hands an answer of
:meth:`etcdmap.http.transport.Transport.stream` to the hub together with the callbacks that
route its lines. For an answer of etcdmap's :class:`~etcdmap.http.adapter.FastAdapter` the hub
takes the connection over (:meth:`~etcdmap.http.response.StreamBody.detach`: the socket and
the answer's parser, bytes already received included), feeds the parser what ``recv`` returns and
splits the body into lines; a body that ends cleanly gives its connection back to the pool.
Answers of any other adapter (requests' ``HTTPAdapter``, requests-mock) cannot be
multiplexed: each is read by a thread of its own, with the same callbacks.

What blocks (opening streams, liveness checks) runs on :attr:`StreamHub.workers`; signals are
delivered on :attr:`StreamHub.dispatchers` (one :class:`~etcdmap._dispatch.Lane` per watch).
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
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable

from etcdmap._closing import Closing
from etcdmap._dispatch import WorkerPool
from etcdmap.errors import ClusterError
from etcdmap.http.answers import StreamResponse
from etcdmap.http.framing import END as END_OF_ANSWER
from etcdmap.http.framing import NEED_DATA
from etcdmap.http.hub_streams import End, HubStream, Lines, Timer, read_in_thread
from etcdmap.http.response import StreamBody

__all__ = ["HubStream", "StreamHub", "Timer"]

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
        self._streams: set[HubStream] = set()
        self._threaded: set[HubStream] = set()
        self._running = False
        self._closed = False
        self._woken = False
        self._ident: int | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None

    @property
    def streams(self) -> int:
        """How many streams the I/O thread reads now."""
        return len(self._streams)

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
            stream.conn = raw.detach()
            if silence is not None:
                stream.silence_timer = self.call_later(silence, lambda: self._silent(stream))
            self._command(("add", stream))
            return stream
        stream.response = response
        with self._lock:
            self._threaded.add(stream)
        threading.Thread(target=read_in_thread, args=(stream, response, silence),
                         name=f"{self.name}-stream", daemon=True).start()
        return stream

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
            streams = list(self._streams)
            threaded = list(self._threaded)
        for stream in streams:
            stream.closed = True
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
                if command[0] == "add":
                    stream = command[1]
                    assert isinstance(stream, HubStream) and stream.conn is not None
                    stream.conn.close()
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
        selector = self._selector
        assert selector is not None and self._wake_r is not None
        self._ident = threading.get_ident()
        while True:
            if not self._run_commands():
                return
            timeout = self._run_timers()
            if self._commands or (timeout is None and not self._streams):
                # The timers queued commands (this thread sends itself no wake-up), or there
                # is nothing to wait for: take the commands, or end.
                continue
            for key, _ in selector.select(timeout):
                if key.data is None:
                    with contextlib.suppress(OSError):  # drained
                        while self._wake_r.recv(4096):
                            pass
                    with self._lock:  # after draining: a later wake-up leaves its byte
                        self._woken = False
                else:
                    self._readable(key.data)

    def _run_commands(self) -> bool:
        """Apply the queued commands; :returns: ``False`` when the thread must end."""
        while True:
            with self._lock:
                closing = self._closed and not self._commands
                if not self._commands and not closing:
                    if not self._streams and not self._timers:
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
            if kind == "add":
                assert isinstance(item, HubStream)
                self._add(item)
            elif kind == "close":
                assert isinstance(item, HubStream)
                self._drop(item)
            elif kind in ("pause", "resume"):
                assert isinstance(item, HubStream)
                self._flow(item)
            elif kind == "timer":
                assert isinstance(item, Timer)
                heapq.heappush(self._timers, (item.when, next(self._seq), item))

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
            _call(timer.fn)
        return None

    def _shutdown(self) -> None:
        for stream in list(self._streams):
            self._drop(stream)
        if self._selector is not None:
            self._selector.close()
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._selector = self._wake_r = self._wake_w = None

    def _add(self, stream: HubStream) -> None:
        conn = stream.conn
        assert conn is not None and self._selector is not None
        if stream.closed:
            conn.close()
            return
        conn.set_blocking(False)
        with self._lock:
            self._streams.add(stream)
        self._selector.register(conn.sock, selectors.EVENT_READ, stream)
        self._pump(stream)  # bytes that arrived with the head are already in the parser

    def _flow(self, stream: HubStream) -> None:
        """Apply :meth:`HubStream.pause` / :meth:`HubStream.resume` to the selector."""
        conn = stream.conn
        if conn is None or stream not in self._streams or self._selector is None:
            return
        registered = conn.sock in self._selector.get_map()
        if stream.flowing.is_set() and not registered:
            self._selector.register(conn.sock, selectors.EVENT_READ, stream)
        elif not stream.flowing.is_set() and registered:
            self._selector.unregister(conn.sock)

    def _drop(self, stream: HubStream, *, reuse: bool = False) -> None:
        with self._lock:
            known = stream in self._streams
            self._streams.discard(stream)
        conn = stream.conn
        if conn is None:
            return
        if known and self._selector is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):  # already gone
                self._selector.unregister(conn.sock)
        stream.conn = None
        if reuse and stream.pool is not None and conn.reusable():
            conn.set_blocking(True)
            stream.pool.put(conn)
        else:
            conn.close()

    def _readable(self, stream: HubStream) -> None:
        conn = stream.conn
        if conn is None:
            return
        try:
            while True:
                try:
                    data = conn.sock.recv(_RECV)
                except (BlockingIOError, ssl.SSLWantReadError):
                    return
                conn.parser.feed(data)  # type: ignore[union-attr] # set while a stream is read
                if not self._pump(stream) or not data:
                    return
                sock = conn.sock
                if not isinstance(sock, ssl.SSLSocket) or not sock.pending():
                    return
        except OSError as exc:
            self._end(stream, exc)

    def _pump(self, stream: HubStream) -> bool:
        """Take the parser's events; :returns: whether the stream is still open."""
        conn = stream.conn
        assert conn is not None and conn.parser is not None
        parser = conn.parser
        lines: list[bytes] = []
        try:
            while True:
                event = parser.next_event()
                if event is NEED_DATA:
                    break
                if type(event) is bytes:
                    lines += stream.split(event)
                    continue
                if event is END_OF_ANSWER:
                    self._deliver(stream, lines)
                    self._end(stream, None)
                    return False
                raise _broken(event)
        except (ValueError, ConnectionError) as exc:
            self._deliver(stream, lines)
            self._end(stream, exc)
            return False
        self._deliver(stream, lines)
        return not stream.closed

    def _deliver(self, stream: HubStream, lines: list[bytes]) -> None:
        if lines and not stream.closed:
            stream.got_line = True
            _call(lambda: stream.on_lines(lines))

    def _end(self, stream: HubStream, exc: BaseException | None) -> None:
        self._drop(stream, reuse=exc is None)
        if stream.closed:
            return
        stream.closed = True
        if stream.silence_timer is not None:
            stream.silence_timer.cancel()
        error = None if exc is None else ClusterError([(stream.endpoint, exc)], "the stream broke")
        _call(lambda: stream.on_end(error))

    def _silent(self, stream: HubStream) -> None:
        if not stream.closed and not stream.got_line and stream.on_silence is not None:
            _call(stream.on_silence)

def _broken(event: object) -> ConnectionError:
    return ConnectionError(f"the stream ended in the middle of the body ({event!r})")


def _call(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:  # a callback's failure must not end the I/O thread
        log.exception("a watch hub callback failed")
