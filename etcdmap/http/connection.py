"""Keep-alive HTTP/1.1 connections framed by h11, their per-origin pools, and cmux priming.

A :class:`Connection` is a socket plus its :class:`h11.Connection` state machine: h11 writes
the request and parses the answer (status line, headers, ``Content-Length`` / chunked /
until-close bodies), refusing what HTTP/1.1 forbids (two different ``Content-Length``\\ s, a
``Transfer-Encoding`` other than ``chunked``, bad chunk sizes, header lines over
:data:`MAX_HEAD` bytes, control characters in targets and header values). The socket reads
honour an absolute deadline (:meth:`Connection.set_budget`), so a server dripping one byte at a
time cannot stretch an attempt. Plain sockets stay blocking and each read or send is bounded
by the kernel (``SO_RCVTIMEO``/``SO_SNDTIMEO``, set to what is left of the deadline); TLS
sockets use Python's socket timeout (:mod:`etcdmap.http.sockets` says why).

A connection goes back to its pool only after a complete answer with nothing after it: bytes
left in the read buffer (a body longer than its ``Content-Length``, stray bytes after a 204, a
pipelined extra answer) would be read as the next request's answer, so such a connection is
closed. An idle pooled connection that became readable (the peer closed it or sent
something) is closed when taken.

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

import socket
import ssl
import threading
import time
from collections import deque
from urllib.parse import urlsplit

import h11

from etcdmap.http.sockets import (
    Readiness,
    kernel_timeout_error,
    set_kernel_timeout,
    uses_kernel_timeouts,
)

__all__ = ["MAX_HEAD", "SNIFF_LINE", "Connection", "ConnectionPool", "prime"]

MAX_HEAD = 65536
"""The longest answer head (status line and headers) accepted, in bytes."""
SNIFF_LINE = 4094
"""The longest request line (without its CRLF) cmux classifies on a new connection."""
_RECV = 65536
_SLACK = 0.005


class Connection:
    """One keep-alive HTTP/1.1 connection: a socket and its h11 state.

    What a later reader of many streams (a selector thread) needs is public: :attr:`sock`
    (set it non-blocking, select on it) and :attr:`h11` (feed it ``sock.recv()`` data with
    ``receive_data`` and take events with ``next_event``); bytes already received but not yet
    parsed sit in h11's buffer, so nothing is lost when a stream changes hands.

    :param sock: the connected (and, for https, wrapped) socket.
    :param origin: ``scheme://host:port`` (the ``Host`` header is its netloc).
    :param fresh: a plain-HTTP connection that carried no request yet (see :func:`prime`).
    :param generation: the pool generation it was opened in.
    """

    __slots__ = ("_aborted", "_deadline", "_kernel", "_lock", "_readiness", "_timeout", "fresh",
                 "generation", "h11", "host", "origin", "sock")

    def __init__(self, sock: socket.socket, origin: str, host: str, *, fresh: bool,
                 generation: int) -> None:
        self.sock = sock
        self.origin = origin
        self.host = host
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
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

    def receive(self) -> None:
        """Read once from the socket into h11 (within the budget).

        :raises OSError: the read failed or timed out.
        """
        self._remaining()
        self.h11.receive_data(self._recv())

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(_RECV)
        except BlockingIOError as exc:  # the kernel's receive timeout
            raise kernel_timeout_error(exc) from exc

    def next_event(self) -> object:
        """The next h11 event of the answer, reading the socket as needed.

        :raises OSError: the read failed or timed out.
        :raises h11.RemoteProtocolError: the answer is not valid HTTP/1.1.
        """
        conn = self.h11
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            self._remaining()
            conn.receive_data(self._recv())

    def reusable(self) -> bool:
        """Whether the exchange ended cleanly with nothing unread, so the next may follow."""
        conn = self.h11
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return False
        if conn.trailing_data[0] or self._aborted:
            return False
        conn.start_next_cycle()
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
    :raises h11.ProtocolError: its answer is not HTTP/1.1 (likewise).
    :raises ConnectionError: the endpoint closed the connection after it.
    """
    h = conn.h11
    conn.send(h.send(h11.Request(method="GET", target="/version", headers=[("Host", conn.host)]))
              + h.send(h11.EndOfMessage()))
    while not isinstance(conn.next_event(), (h11.EndOfMessage, h11.ConnectionClosed)):
        pass
    if not conn.reusable():
        raise ConnectionError(
            "the endpoint closed the connection after the GET /version sent before a request "
            f"line longer than {SNIFF_LINE} bytes"
        )


class ConnectionPool:
    """Idle keep-alive connections to one origin (``scheme://host[:port]``).

    Thread-safe (``deque.pop``/``append`` are atomic). :meth:`close` closes the idle
    connections and makes every connection in flight at that moment close when it is returned.

    :param origin: the origin URL.
    :param maxsize: idle connections kept; more may be open at once (extra ones are closed
        when returned).
    """

    def __init__(self, origin: str, maxsize: int = 32) -> None:
        parts = urlsplit(origin)
        self.origin = origin
        self.https = parts.scheme == "https"
        self.hostname = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.host_header = parts.netloc
        self.maxsize = maxsize
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
                          generation=self.generation)

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
