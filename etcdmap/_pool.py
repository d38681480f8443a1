"""Lean HTTP/1.1 keep-alive connections and their pools, for :mod:`etcdmap.transport`.

Why not ``requests.Session.request``, urllib3's ``urlopen`` or :mod:`http.client`: measured on
one etcd 3.5 on loopback, ``Session.request`` does ~1,250 GET/s, urllib3's pool ~2,500/s,
``http.client`` ~3,200-4,500/s (40 % of its time parsing headers with :mod:`email`) and a
minimal HTTP/1.1 exchange on a socket ~5,500/s. etcd's v2 API needs nothing those layers add
(no cookies, proxies, compression, 100-continue or retries: retries are the transport's own
policy), so each request is one prebuilt request head on a pooled socket, and the answer is
parsed here: status line, headers, then a ``Content-Length``, chunked or until-close body.

Every connection failure is classified here as *never sent* (the TCP/TLS connection could not
be set up: nothing reached the member) or *sent* (anything later), which the transport uses to
decide whether a non-idempotent request may be re-sent.

Long request lines on new connections: etcd 3.4/3.5 serve plain-HTTP clients behind cmux, which
classifies a *new* connection by reading its first request line into a 4,096-byte buffer; a
request line longer than 4,094 bytes (+ CRLF) matches nothing and the connection is reset before
etcd read anything (measured on 3.4.23 and 3.5.1; splitting the write does not help; TLS
connections and reused connections are not affected). A key of ~4 KB would then work or fail
depending on the pool's state. So :func:`exchange` first sends ``GET /version`` on a new plain
connection when the request line is longer than that, and only then the request; a failure of
that priming request is *never sent*. Short requests and reused connections pay nothing.

Thread-safe: a :class:`ConnectionPool` may be used by any number of threads.
"""

from __future__ import annotations

import io
import os
import socket
import ssl
import time
from collections import deque
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from urllib3.util.wait import wait_for_read

__all__ = [
    "AttemptError",
    "BadAnswer",
    "Connection",
    "ConnectionPool",
    "Headers",
    "RawResponse",
    "exchange",
    "make_ssl_context",
]

_MAX_LINE = 65536
_MAX_HEADERS = 100
_SNIFF_LINE = 4094
"""The longest request line (without its CRLF) cmux classifies on a new connection."""
_PRIME = "GET /version HTTP/1.1\r\nHost: {}\r\n\r\n"


class BadAnswer(ConnectionError):
    """The peer closed the connection early or did not answer in HTTP/1.x."""


class AttemptError(Exception):
    """One failed attempt on one endpoint.

    :ivar error: the underlying exception (or an etcdmap error describing the failure).
    :ivar sent: the request may have reached the member (so it may have been applied).
    :ivar timed_out: the failure is a timeout.
    """

    def __init__(self, error: BaseException, *, sent: bool, timed_out: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.sent = sent
        self.timed_out = timed_out


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive header mapping (the first value of a repeated header wins)."""

    __slots__ = ("_items",)

    def __init__(self, pairs: list[tuple[str, str]] | None = None) -> None:
        items: dict[str, tuple[str, str]] = {}
        for name, value in pairs or ():
            items.setdefault(name.lower(), (name, value))
        self._items = items

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        item = self._items.get(name.lower())
        return default if item is None else item[1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


def make_ssl_context(verify: bool | str, cert: str | tuple[str, str] | None) -> ssl.SSLContext:
    """Build the client TLS context the way requests interprets ``verify`` and ``cert``.

    :param verify: ``True`` (requests' CA bundle), ``False`` (no verification: insecure) or a
        CA bundle file or directory.
    :param cert: a PEM file with certificate and key, or ``(cert, key)``.
    :raises OSError: a file cannot be read.
    :raises ssl.SSLError: a file is not valid PEM.
    """
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str) and os.path.isdir(verify):
        context = ssl.create_default_context(capath=verify)
    elif isinstance(verify, str):
        context = ssl.create_default_context(cafile=verify)
    else:
        # requests' CA bundle (certifi), imported only when an https endpoint needs it: importing
        # requests costs ~60 ms, and plain-http clients never need it.
        from requests.utils import DEFAULT_CA_BUNDLE_PATH  # noqa: PLC0415

        context = ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH)
    if cert is not None:
        if isinstance(cert, tuple):
            context.load_cert_chain(cert[0], cert[1])
        else:
            context.load_cert_chain(cert)
    return context


class _Reader(io.RawIOBase):
    """Socket reads that also honour an absolute deadline (a server dripping one byte at a
    time never trips a per-read timeout; the deadline still ends the attempt)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock
        self.deadline: float | None = None
        self.timeout: float | None = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out (attempt deadline)")
            if self.timeout is None or remaining < self.timeout:
                self.sock.settimeout(remaining)
                self.timeout = remaining
        return self.sock.recv_into(buffer)


class Connection:
    """One keep-alive HTTP/1.1 connection (a socket and its buffered reader).

    Used by one thread at a time, except :meth:`abort`, which any thread may call.

    :param sock: the connected (and, for https, wrapped) socket.
    :param host_header: the ``Host`` header value.
    :param fresh: a plain-HTTP connection that carried no request yet: a request line longer
        than cmux sniffs is preceded by a priming request (see the module docstring).
    """

    __slots__ = ("_reader", "fresh", "host_header", "rfile", "sock")

    def __init__(self, sock: socket.socket, host_header: str, *, fresh: bool = False) -> None:
        self.sock = sock
        self._reader = _Reader(sock)
        self.rfile = io.BufferedReader(self._reader, 65536)
        self.host_header = host_header
        self.fresh = fresh

    def settimeout(self, timeout: float | None) -> None:
        """Idle timeout of each later send and read (no overall deadline): for streams."""
        self.sock.settimeout(timeout)
        self._reader.timeout = timeout
        self._reader.deadline = None

    def set_budget(self, timeout: float | None) -> None:
        """Bound the whole exchange that follows (sends and reads) by ``timeout`` seconds."""
        self.settimeout(timeout)
        if timeout is not None:
            self._reader.deadline = time.monotonic() + timeout

    def alive(self) -> bool:
        """False when an idle connection was closed by the peer (its socket is readable)."""
        try:
            return not wait_for_read(self.sock, timeout=0.0)
        except (OSError, ValueError):
            return False

    def abort(self) -> None:
        """Shut the socket down so a read blocked in another thread returns at once."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return  # already closed

    def close(self) -> None:
        """Close the connection (idempotent)."""
        try:
            self.rfile.close()
        finally:
            self.sock.close()


class RawResponse:
    """An HTTP answer whose head was read; the body follows on :attr:`conn`.

    :ivar status: the status code.
    :ivar headers: case-insensitive headers.
    :ivar will_close: the connection cannot be reused after the body.
    """

    __slots__ = ("_buffer", "_chunked", "_left", "conn", "headers", "status", "will_close")

    def __init__(self, conn: Connection, method: str) -> None:
        self.conn = conn
        rfile = conn.rfile
        while True:
            line = rfile.readline(_MAX_LINE + 1)
            if not line:
                raise BadAnswer("the connection closed before any answer")
            parts = line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise BadAnswer(f"not an HTTP/1.x status line: {line[:80]!r}")
            status = int(parts[1])
            items: dict[str, tuple[str, str]] = {}
            for _ in range(_MAX_HEADERS + 1):
                line = rfile.readline(_MAX_LINE + 1)
                if line in (b"\r\n", b"\n"):
                    break
                if not line:
                    raise BadAnswer("the connection closed in the middle of the headers")
                name, sep, value = line.decode("latin-1").partition(":")
                if not sep:
                    raise BadAnswer(f"malformed header line: {line[:80]!r}")
                items.setdefault(name.lower(), (name, value.strip()))
            else:
                raise BadAnswer("too many header lines")
            if status >= 200 or status == 101:
                break  # 1xx (e.g. 100 Continue) are informational: read the real answer
        headers = Headers()
        headers._items = items
        self.status = status
        self.headers = headers
        conn_hdr = items.get("connection", ("", ""))[1].lower()
        self.will_close = conn_hdr == "close" or (
            parts[0] == b"HTTP/1.0" and conn_hdr != "keep-alive"
        )
        self._buffer = b""
        self._chunked = False
        self._left: int | None = 0  # bytes left in the body (or chunk); None: until close
        if method == "HEAD" or status in (204, 304) or status < 200:
            return
        if "chunked" in items.get("transfer-encoding", ("", ""))[1].lower():
            self._chunked = True
        elif "content-length" in items:
            try:
                self._left = int(items["content-length"][1])
            except ValueError as exc:
                raise BadAnswer("malformed Content-Length") from exc
        else:
            self._left = None
            self.will_close = True

    def _next_chunk(self) -> bytes:
        """The next chunk of a chunked body; ``b""`` at its end."""
        rfile = self.conn.rfile
        line = rfile.readline(_MAX_LINE + 1)
        try:
            size = int(line.split(b";", 1)[0], 16)
        except ValueError as exc:
            raise BadAnswer(f"malformed chunk size {line[:40]!r}") from exc
        if size == 0:
            while rfile.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            self._chunked = False
            self._left = 0
            return b""
        data = rfile.read(size + 2)
        if len(data) != size + 2:
            raise BadAnswer("the connection closed in the middle of a chunk")
        return data[:size]

    def read(self) -> bytes:
        """The rest of the body."""
        data = self._buffer
        self._buffer = b""
        if self._chunked:
            pieces = [data]
            while chunk := self._next_chunk():
                pieces.append(chunk)
            return b"".join(pieces)
        if self._left is None:
            return data + self.conn.rfile.read()
        if self._left:
            more = self.conn.rfile.read(self._left)
            if len(more) != self._left:
                raise BadAnswer("the connection closed in the middle of the body")
            self._left = 0
            data += more
        return data

    def readline(self) -> bytes:
        """The next line of the body, with its ``\\n``; ``b""`` at the end of the body."""
        while True:
            cut = self._buffer.find(b"\n")
            if cut >= 0:
                line, self._buffer = self._buffer[: cut + 1], self._buffer[cut + 1 :]
                return line
            if self._chunked:
                chunk = self._next_chunk()
            elif self._left is None:
                chunk = self.conn.rfile.read1(_MAX_LINE)
            else:
                chunk = self.conn.rfile.read1(min(self._left, _MAX_LINE)) if self._left else b""
                self._left -= len(chunk)
            if not chunk:
                rest, self._buffer = self._buffer, b""
                return rest
            self._buffer += chunk


class ConnectionPool:
    """Idle keep-alive connections to one origin (``scheme://host:port``).

    Thread-safe (``deque.pop``/``append`` are atomic).

    :param origin: the origin URL.
    :param ssl_context: used for ``https`` (required then).
    :param maxsize: idle connections kept; more may be open at once, extra ones are closed
        when returned.
    """

    def __init__(self, origin: str, ssl_context: ssl.SSLContext | None, maxsize: int = 32) -> None:
        parts = urlsplit(origin)
        self.origin = origin
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.host_header = parts.netloc
        self.ssl_context = ssl_context
        self.maxsize = maxsize
        self._idle: deque[Connection] = deque()

    def connection(self, timeout: float | None) -> Connection:
        """A connection whose next exchange is bounded by ``timeout`` seconds in all (an idle
        one if alive, else a new one, whose connect is bounded by ``timeout`` too).

        :raises AttemptError: ``sent=False``: the connection could not be established.
        """
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                break
            if conn.alive():
                conn.set_budget(timeout)
                return conn
            conn.close()
        sock: socket.socket | None = None
        started = time.monotonic()
        try:
            sock = socket.create_connection((self.host, self.port), timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.https:
                assert self.ssl_context is not None
                sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        except OSError as exc:  # refused, DNS, connect timeout, TLS handshake (SSLError)
            if sock is not None:
                sock.close()
            raise AttemptError(exc, sent=False, timed_out=isinstance(exc, TimeoutError)) from exc
        conn = Connection(sock, self.host_header, fresh=not self.https)  # cmux sniffs plain HTTP
        if timeout is not None:  # what the connect left of the attempt's time
            timeout = max(timeout - (time.monotonic() - started), 0.001)
        conn.set_budget(timeout)
        return conn

    def put(self, conn: Connection) -> None:
        """Return a connection whose answer was read completely."""
        if len(self._idle) < self.maxsize:
            conn.fresh = False  # it carried a request: the server classified it
            self._idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                self._idle.pop().close()
            except IndexError:
                return


def exchange(
    conn: Connection,
    *,
    method: str,
    target: str,
    body: bytes | None,
    headers: Mapping[str, str],
    preload: bool,
) -> tuple[RawResponse, bytes | None]:
    """Send one request on a connection and read the answer's head (and body if ``preload``).

    On a :attr:`~Connection.fresh` connection a request line longer than cmux sniffs is preceded
    by ``GET /version`` (see the module docstring).

    :returns: the answer and its body (``None`` when ``preload`` is false: read it later).
    :raises AttemptError: ``sent=True``: the request was (maybe) sent and no full answer came;
        ``sent=False``: the priming request failed, so the request itself was never sent.
        The connection is closed then.
    """
    if conn.fresh and len(method) + len(target) + 10 > _SNIFF_LINE:
        _prime(conn)
    head = [f"{method} {target} HTTP/1.1\r\nHost: {conn.host_header}\r\n"]
    head.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    if body is not None:
        head.append(f"Content-Length: {len(body)}\r\n")
    elif method in ("PUT", "POST", "PATCH"):
        head.append("Content-Length: 0\r\n")
    head.append("\r\n")
    data = "".join(head).encode("latin-1")
    try:
        conn.sock.sendall(data + body if body else data)
        resp = RawResponse(conn, method)
        payload = resp.read() if preload else None
    except (OSError, ValueError) as exc:  # includes BadAnswer, timeouts, resets
        conn.close()
        raise AttemptError(exc, sent=True, timed_out=isinstance(exc, TimeoutError)) from exc
    return resp, payload


def _prime(conn: Connection) -> None:
    """Send ``GET /version`` on a new connection and read its answer whole, so that cmux
    classifies the connection as HTTP/1 before a request line longer than it sniffs.

    :raises AttemptError: ``sent=False`` (the real request was not sent); the connection is
        closed then.
    """
    try:
        conn.sock.sendall(_PRIME.format(conn.host_header).encode("latin-1"))
        resp = RawResponse(conn, "GET")
        resp.read()
        if resp.will_close:
            raise BadAnswer(
                "the endpoint closed the connection after the GET /version sent before a "
                f"request line longer than {_SNIFF_LINE} bytes"
            )
    except (OSError, ValueError) as exc:  # includes BadAnswer, timeouts, resets
        conn.close()
        raise AttemptError(exc, sent=False, timed_out=isinstance(exc, TimeoutError)) from exc
    conn.fresh = False
