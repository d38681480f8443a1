"""Keep-alive connection pools over :mod:`http.client` for :mod:`etcdmap.transport`.

Why not ``requests.Session.request`` or ``urllib3``'s ``urlopen``: measured on one etcd 3.5 on
loopback, ``Session.request`` does ~1,250 GET/s, urllib3's pool ~2,500/s and a bare
``http.client`` keep-alive connection ~4,300/s. The v2 API needs nothing those layers add
(no cookies, proxies, compression or retries: retries are the transport's own policy), so the
hot path is one pooled ``http.client`` connection per request.

Every connection failure is classified here as *never sent* (the TCP/TLS connection could not
be set up: nothing reached the member) or *sent* (anything later), which the transport uses to
decide whether a non-idempotent request may be re-sent.

Thread-safe: a :class:`ConnectionPool` may be used by any number of threads.
"""

from __future__ import annotations

import http.client
import os
import ssl
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3.util.wait import wait_for_read

__all__ = ["AttemptError", "ConnectionPool", "Headers", "make_ssl_context"]


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

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
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
    else:
        context = ssl.create_default_context(
            cafile=verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE_PATH
        )
    if cert is not None:
        if isinstance(cert, tuple):
            context.load_cert_chain(cert[0], cert[1])
        else:
            context.load_cert_chain(cert)
    return context


class ConnectionPool:
    """Idle keep-alive connections to one origin (``scheme://host:port``).

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
        self.ssl_context = ssl_context
        self.maxsize = maxsize
        self._idle: deque[http.client.HTTPConnection] = deque()
        self._lock = threading.Lock()

    def _new(self, timeout: float | None) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=self.ssl_context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def connection(self, timeout: float | None) -> http.client.HTTPConnection:
        """A connected connection with ``timeout`` set (idle one if alive, else a new one).

        :raises AttemptError: ``sent=False``: the connection could not be established.
        """
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                break
            sock = conn.sock
            # An idle socket that is readable has been closed by the server (or is broken).
            if sock is None or wait_for_read(sock, timeout=0.0):
                conn.close()
                continue
            conn.timeout = timeout
            sock.settimeout(timeout)
            return conn
        conn = self._new(timeout)
        try:
            conn.connect()
        except (OSError, ssl.SSLError) as exc:  # refused, DNS, connect timeout, TLS handshake
            conn.close()
            raise AttemptError(exc, sent=False, timed_out=isinstance(exc, TimeoutError)) from exc
        return conn

    def put(self, conn: http.client.HTTPConnection) -> None:
        """Return a connection whose response was read completely."""
        if conn.sock is not None and len(self._idle) < self.maxsize:
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
    conn: http.client.HTTPConnection,
    *,
    method: str,
    target: str,
    body: bytes | None,
    headers: Mapping[str, str],
    preload: bool,
) -> tuple[http.client.HTTPResponse, bytes | None]:
    """Send one request on a connected connection and read the answer.

    :returns: the response and its body (``None`` when ``preload`` is false: read it later).
    :raises AttemptError: ``sent=True``: the request was (maybe) sent and no full answer came.
        The connection is closed then.
    """
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read() if preload else None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        conn.close()
        raise AttemptError(exc, sent=True, timed_out=isinstance(exc, TimeoutError)) from exc
    return resp, data
