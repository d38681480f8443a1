"""Keep-alive HTTP/1.1 connections, their per-origin pools, and cmux priming.

A :class:`Connection` is a socket plus the parser of the answer in flight: the framing is
:mod:`etcdmap.http.framing`'s (request heads written and checked there; answers parsed by
httptools/llhttp or h11, one parser per answer), which refuses what HTTP/1.1 forbids (two
different ``Content-Length``\\ s, a ``Transfer-Encoding`` other than ``chunked``, bad chunk
sizes, heads over :data:`MAX_HEAD` bytes, control characters in targets and header values).
The socket reads honour an absolute deadline (:meth:`Connection.set_budget`), so a server
dripping one byte at a time cannot stretch an attempt. Plain sockets stay blocking and each
read or send is bounded by the kernel (``SO_RCVTIMEO``/``SO_SNDTIMEO``, set to what is left of
the deadline); TLS sockets use Python's socket timeout (:mod:`etcdmap.http.sockets` says why).

A connection goes back to its pool only after a complete answer with nothing after it: bytes
left unread (a body longer than its ``Content-Length``, stray bytes after a 204, a pipelined
extra answer) would be read as the next request's answer, so such a connection is closed. An
idle pooled connection that became readable (the peer closed it or sent something) is closed
when taken.

Long request lines on new connections: etcd 3.4/3.5 serve plain-HTTP clients behind cmux
(``etcd-io/etcd release-3.5:server/embed/serve.go``), which classifies a *new* connection by
reading its first request line into a 4,096-byte buffer; a request line longer than 4,094
bytes (+ CRLF) matches nothing and the connection is reset before etcd read anything
(measured on 3.4.23 and 3.5.1; TLS connections and reused connections are not affected). So
:func:`prime` first sends ``GET /version`` on a new plain connection when the request line is
longer than that; a failure of that priming request means the request was *never sent*.

Thread-safety: a :class:`ConnectionPool` may be used by any number of threads; a
:class:`Connection` by one thread at a time, except :meth:`Connection.abort` (any thread).
"""

from __future__ import annotations

import math
import socket
import ssl
import threading
import time
from collections import deque

from etcdmap.http.endpoints import Origin
from etcdmap.http.framing import (
    END,
    MAX_HEAD,
    NEED_DATA,
    Event,
    FramingError,
    ParserFactory,
    ResponseParser,
)
from etcdmap.http.framing_choice import parser_for
from etcdmap.http.sockets import (
    Readiness,
    kernel_timeout_error,
    set_kernel_timeout,
    uses_kernel_timeouts,
)

__all__ = ["MAX_HEAD", "SNIFF_LINE", "Connection", "ConnectionPool", "prime"]

SNIFF_LINE = 4094
"""The longest request line (without its CRLF) cmux classifies on a new connection."""
_RECV = 65536
_SLACK = 0.005


class Connection:
    """One keep-alive HTTP/1.1 connection: a socket and the parser of the answer in flight.

    What a reader of many streams (the hub's selector thread) needs is public: :attr:`sock`
    (set it non-blocking, select on it), :meth:`receive_data` (hand it ``sock.recv()`` data)
    and :meth:`poll_event` (take the answer's events, :mod:`etcdmap.http.framing`); bytes
    already received but not yet taken sit in the parser, so nothing is lost when a stream
    changes hands.

    :param sock: the connected (and, for https, wrapped) socket.
    :param origin: ``scheme://host:port`` (the ``Host`` header is its netloc).
    :param fresh: a plain-HTTP connection that carried no request yet (see :func:`prime`).
    :param generation: the pool generation it was opened in.
    :param framing: makes the parser of each answer (given the request's method).
    """

    __slots__ = ("_aborted", "_deadline", "_framing", "_kernel", "_last", "_lock", "_readiness",
                 "_timeout", "fresh", "generation", "host", "origin", "parser", "sock")

    def __init__(self, sock: socket.socket, origin: str, host: str, *, fresh: bool,
                 generation: int, framing: ParserFactory | None = None) -> None:
        self.sock = sock
        self.origin = origin
        self.host = host
        self._framing = framing or parser_for("h11")
        self.parser: ResponseParser | None = None
        """The parser of the answer in flight (``None`` between exchanges)."""
        self._last: ResponseParser | None = None  # the previous answer's (reusable) parser
        self.fresh = fresh
        self.generation = generation
        self._deadline: float | None = None
        self._kernel = uses_kernel_timeouts(sock)
        if self._kernel:
            sock.settimeout(None)  # blocking: deadlines are the kernel's (etcdmap.http.sockets)
        self._timeout: float | None = sock.gettimeout()
        self._lock = threading.Lock()
        self._aborted = False
        self._readiness = Readiness(sock)

    # ---------------------------------------------------------------- time

    def set_budget(self, timeout: float | None) -> None:
        """Bound everything that follows (sends and reads) by ``timeout`` seconds in all."""
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._settimeout(timeout)

    def set_idle(self, timeout: float | None) -> None:
        """From now on each read may wait ``timeout`` seconds (no overall deadline): streams."""
        self._deadline = None
        self._settimeout(timeout)

    def _settimeout(self, timeout: float | None) -> None:
        # Each change is a system call (two with kernel timeouts): round up to the _SLACK grid
        # so that the near-equal budgets of successive requests (a call's deadline minus the
        # microseconds already spent) keep the socket's timeout as it is; a blocked read may
        # then overrun the deadline by at most _SLACK, as _remaining allows anyway.
        if timeout is not None:
            timeout = math.ceil(timeout / _SLACK) * _SLACK
        if timeout != self._timeout:
            if self._kernel:
                set_kernel_timeout(self.sock, timeout)
            else:
                self.sock.settimeout(timeout)
            self._timeout = timeout

    def _remaining(self) -> None:
        if self._deadline is not None:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out (attempt deadline)")
            # Each change of a socket's timeout is a system call: shrink it only when the
            # deadline is more than _SLACK closer than the current timeout (so a blocked read
            # may overrun the deadline by at most _SLACK).
            if self._timeout is None or remaining < self._timeout - _SLACK:
                self._settimeout(remaining)

    # ---------------------------------------------------------------- I/O

    def send(self, data: bytes) -> None:
        """Send ``data`` within the budget.

        :raises OSError: the send failed or timed out.
        """
        self._remaining()
        try:
            self.sock.sendall(data)
        except BlockingIOError as exc:  # the kernel's send timeout
            raise kernel_timeout_error(exc) from exc

    def start(self, method: str) -> None:
        """Get ready to read the answer to a request with ``method``."""
        last = self._last
        self._last = None
        self.parser = self._framing(method) if last is None else last.next_answer(method)

    def receive(self) -> None:
        """Read once from the socket into the parser (within the budget).

        :raises OSError: the read failed or timed out.
        """
        self._remaining()
        self._parser().feed(self._recv())

    def receive_data(self, data: bytes) -> None:
        """Hand bytes read elsewhere (a selector thread, non-blocking socket) to the answer's
        parser; ``b""``: the peer closed the connection.

        :raises FramingError: no request is in flight.
        """
        self._parser().feed(data)

    def poll_event(self) -> Event:
        """The next event of the answer without reading the socket
        (:data:`~etcdmap.http.framing.NEED_DATA`: :meth:`receive_data` first).

        :raises FramingError: the answer is not valid HTTP/1.1, or no request is in flight.
        """
        return self._parser().next_event()

    def _parser(self) -> ResponseParser:
        parser = self.parser
        if parser is None:
            raise FramingError("no request in flight on this connection")
        return parser

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(_RECV)
        except BlockingIOError as exc:  # the kernel's receive timeout
            raise kernel_timeout_error(exc) from exc

    def next_event(self) -> Event:
        """The next event of the answer (:mod:`etcdmap.http.framing`), reading the socket as
        needed; never :data:`~etcdmap.http.framing.NEED_DATA`.

        :raises OSError: the read failed or timed out.
        :raises FramingError: the answer is not valid HTTP/1.1.
        """
        parser = self._parser()
        while True:
            event = parser.next_event()
            if event is not NEED_DATA:
                return event
            self._remaining()
            parser.feed(self._recv())

    def reusable(self) -> bool:
        """Whether the exchange ended cleanly with nothing unread, so the next may follow."""
        parser = self.parser
        if parser is None or self._aborted or not parser.reusable:
            return False
        self.parser = None
        self._last = parser
        self.fresh = False  # it carried a request: cmux classified it
        return True

    def idle_ok(self) -> bool:
        """False when an idle connection became readable (closed by the peer, stray bytes)."""
        return not self._readiness()

    def set_blocking(self, blocking: bool) -> None:
        """Switch the socket between non-blocking (a selector thread reads it) and blocking
        with no timeout (:meth:`set_budget` / :meth:`set_idle` bound later reads again)."""
        self.sock.setblocking(blocking)
        if blocking and self._kernel:
            set_kernel_timeout(self.sock, None)
        self._timeout = self.sock.gettimeout()

    def abort(self) -> None:
        """Shut the socket down so that a read blocked in another thread returns at once."""
        with self._lock:
            self._aborted = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                return  # already closed

    @property
    def aborted(self) -> bool:
        """Whether :meth:`abort` was called."""
        return self._aborted

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self.sock.close()


def prime(conn: Connection) -> None:
    """Send ``GET /version`` on a new plain connection and read its answer whole, so that cmux
    classifies the connection as HTTP/1 before a request line longer than it sniffs.

    :raises OSError: the priming exchange failed (the real request was not sent).
    :raises FramingError: its answer is not HTTP/1.1 (likewise).
    :raises ConnectionError: the endpoint closed the connection after it.
    """
    conn.start("GET")
    conn.send(b"GET /version HTTP/1.1\r\nHost: %s\r\n\r\n" % conn.host.encode("latin-1"))
    while conn.next_event() is not END:
        pass
    if not conn.reusable():
        raise ConnectionError(
            "the endpoint closed the connection after the GET /version sent before a request "
            f"line longer than {SNIFF_LINE} bytes"
        )


class ConnectionPool(Origin):
    """Idle keep-alive connections to one origin (``scheme://host[:port]``).

    Thread-safe (``deque.pop``/``append`` are atomic). :meth:`close` closes the idle
    connections and makes every connection in flight at that moment close when it is returned.

    :param origin: the origin URL.
    :param maxsize: idle connections kept; more may be open at once (extra ones are closed
        when returned).
    :param framing: makes the parser of each answer (default: h11's).
    """

    def __init__(self, origin: str, maxsize: int = 32, framing: ParserFactory | None = None,
                 ) -> None:
        super().__init__(origin)
        self.maxsize = maxsize
        self.framing = framing or parser_for("h11")
        self.generation = 0
        self._idle: deque[Connection] = deque()

    def take(self) -> Connection | None:
        """An idle connection still fit for a request, or ``None``."""
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return None
            if conn.idle_ok() and conn.generation == self.generation:
                return conn
            conn.close()

    def connect(self, timeout: float | None, context: ssl.SSLContext | None) -> Connection:
        """Open a new connection; connect and TLS handshake bounded by ``timeout`` in all.

        :raises OSError: refused, DNS, connect timeout, TLS handshake (nothing was sent).
        """
        started = time.monotonic()
        sock = socket.create_connection((self.hostname, self.port), timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.https:
                assert context is not None
                if timeout is not None:
                    sock.settimeout(max(timeout - (time.monotonic() - started), 0.001))
                sock = context.wrap_socket(sock, server_hostname=self.hostname)
        except BaseException:
            sock.close()
            raise
        return Connection(sock, self.origin, self.host_header, fresh=not self.https,
                          generation=self.generation, framing=self.framing)

    def put(self, conn: Connection) -> None:
        """Return a connection whose answer was read completely (see :meth:`Connection.reusable`)."""
        if conn.generation == self.generation and len(self._idle) < self.maxsize:
            self._idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Close every idle connection; connections in flight close when returned."""
        self.generation += 1
        while True:
            try:
                self._idle.pop().close()
            except IndexError:
                return
