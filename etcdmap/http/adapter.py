"""``FastAdapter``: etcdmap's requests transport adapter, one attempt on plain keep-alive sockets.

Mounted for ``http://`` and ``https://`` on the default session of a client
(:func:`etcdmap.http.session.default_session`). It sends a :class:`requests.PreparedRequest`
over a pooled :class:`~etcdmap.http.connection.Connection` and returns a
:class:`requests.Response`. It never retries and never follows redirects: that is the policy
layer's job (:class:`etcdmap.http.transport.Transport`). The framing is
:mod:`etcdmap.http.framing`'s: request heads written and checked by etcdmap, answers parsed by
httptools (llhttp, with the ``fast`` extra) or h11, with the same rules.

:meth:`FastAdapter.exchange` is the same attempt without requests' objects: the transport's
direct path when the session adds nothing to a request (no hooks, cookies, session auth,
proxy; :meth:`etcdmap.http.session.Requester.direct`), answered as a
:class:`~etcdmap.http.response.DirectAnswer`.

Why not requests' ``HTTPAdapter``: urllib3's per-request machinery and :mod:`http.client`'s
header parsing cap the request rate far below what etcd serves on loopback; this adapter keeps
requests' interface (sessions, hooks, mocking libraries, mounted adapters) and cuts the wire.

Differences from ``HTTPAdapter`` (documented contract):

- ``timeout`` is a **whole-attempt budget**: a number bounds connect, TLS handshake, sending,
  the headers and (unless ``stream=True``) the whole body together. With ``stream=True`` the
  budget ends at the headers and each later read of the body may wait that long again. A
  ``(budget, idle)`` tuple (requests' ``(connect, read)`` place) sets the two apart: the
  first bounds the attempt up to the headers (and a body read whole), the second each read
  of a streamed body.
  ``HTTPAdapter`` bounds each socket operation instead.
- Proxies are not supported: an endpoint reached through a proxy uses ``HTTPAdapter``
  (:func:`etcdmap.http.session.endpoint_settings` picks it); ``proxies`` naming one for the
  request's scheme raises :class:`AttemptError` (never sent).
- Bodies read whole are limited to ``max_body_size`` bytes; a larger answer fails the attempt.
- Content codings are not decoded (etcd sends none; the session asks for none).
- Every failure is one :class:`~etcdmap.http.attempt.AttemptError` with ``sent``/``timed_out``.

Thread-safe: one adapter serves any number of threads; :meth:`FastAdapter.abort` may be
called from any thread.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from etcdmap.http.attempt import AttemptError
from etcdmap.http.connection import SNIFF_LINE, Connection, ConnectionPool, prime
from etcdmap.http.framing import (
    FramingError,
    Head,
    HeadWriter,
    body_length,
)
from etcdmap.http.framing_choice import default_framing, parser_for
from etcdmap.http.requests_internals import ResponseHeaders, header_store, headers_from_store
from etcdmap.http.response import DirectAnswer, FastResponse, StreamBody, build_response
from etcdmap.http.tls import ContextCache, warn_unverified

__all__ = ["DEFAULT_MAX_BODY", "AttemptError", "FastAdapter", "FastResponse", "StreamBody"]

DEFAULT_MAX_BODY = 256 * 1024 * 1024
"""Default limit of a body read whole (256 MiB): a larger answer fails the attempt."""

Timeout = float | tuple[float | None, float | None] | None


def _budget(timeout: Any) -> tuple[float | None, float | None]:
    """``(budget of the attempt until the headers, idle wait of each later stream read)``."""
    if isinstance(timeout, tuple):
        return timeout[0], timeout[1]
    return timeout, timeout


class FastAdapter(BaseAdapter):
    """A requests transport adapter on pooled keep-alive sockets (see the module docstring).

    :param pool_maxsize: idle connections kept per origin.
    :param max_body_size: the largest body read whole, in bytes.
    :param framing: ``"httptools"`` or ``"h11"`` (:data:`etcdmap.http.framing_choice.FRAMINGS`);
        ``None``: :func:`~etcdmap.http.framing_choice.default_framing` (httptools when installed).
    :raises ValueError: an unknown framing.
    :raises ImportError: httptools asked for and not installed.
    """

    def __init__(self, *, pool_maxsize: int = 32, max_body_size: int = DEFAULT_MAX_BODY,
                 framing: str | None = None) -> None:
        super().__init__()
        self.pool_maxsize = pool_maxsize
        self.max_body_size = max_body_size
        self.framing = default_framing() if framing is None else framing
        """The framing's name (``"httptools"`` or ``"h11"``)."""
        self._parser = parser_for(self.framing)
        self._pools: dict[str, ConnectionPool] = {}
        self._contexts = ContextCache()
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._writer = HeadWriter()

    def __getstate__(self) -> dict[str, Any]:  # requests sessions may be pickled
        return {"pool_maxsize": self.pool_maxsize, "max_body_size": self.max_body_size,
                "framing": self.framing}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    # ---------------------------------------------------------------- send

    def send(  # type: ignore[override] # noqa: PLR0917 - requests' signature
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one request on one connection and return the answer (no retry, no redirect).

        :param request: the prepared request (its URL must be absolute http(s)).
        :param stream: leave the body unread (read it through ``response.raw`` or
            ``iter_content``; :meth:`abort` stops it from another thread).
        :param timeout: the attempt's budget (see the module docstring).
        :param verify: TLS verification as requests takes it.
        :param cert: client certificate path or ``(cert, key)``.
        :param proxies: must not name a proxy for the request's scheme.
        :returns: the response; ``response.raw`` is a :class:`StreamBody` when streamed.
        :raises AttemptError: the attempt failed (``sent``/``timed_out`` say how).
        """
        method = request.method or "GET"
        origin, target = _split(request.url or "")
        if proxies and proxies.get(origin.partition(":")[0]):
            raise AttemptError("FastAdapter does not support proxies: mount requests' "
                               "HTTPAdapter for proxied endpoints", sent=False, request=request)
        pool = self._pool(origin)
        budget, idle = _budget(timeout)
        conn = self._connection(pool, budget, verify, cert, request)
        try:
            body = request.body
            if isinstance(body, str):
                body = body.encode("utf-8")
            elif body is not None and not isinstance(body, bytes):
                raise FramingError("FastAdapter sends bytes or str bodies only")
            headers, length = _headers(request, method, body)
        except ValueError as exc:
            conn.close()
            raise AttemptError(exc, sent=False, request=request) from exc
        data = self._write(conn, method, target, pool, headers, body, length, request)
        head, raw, content = self._answer(pool, conn, method, data, request, stream=stream)
        if stream:
            conn.set_idle(idle)
        return build_response(request, head, raw, content, self)

    def exchange(  # noqa: PLR0917 - one attempt's whole description
        self, method: str, url: str, headers: tuple[tuple[str, str], ...], body: bytes | None,
        timeout: float | None, verify: bool | str, cert: str | tuple[str, str] | None,
    ) -> DirectAnswer:
        """One exchange read whole, without requests' objects: what :meth:`send` does for a
        request whose session adds nothing to it (the transport's direct path, see
        :meth:`etcdmap.http.session.Requester.direct`).

        :param headers: every header but ``Host`` and ``Content-Length``.
        :param timeout: the attempt's budget.
        :returns: the answer, its body read and its connection back in the pool.
        :raises AttemptError: as :meth:`send`.
        """
        origin, target = _split(url)
        pool = self._pool(origin)
        conn = self._connection(pool, timeout, verify, cert, None)
        data = self._write(conn, method, target, pool, headers, body, body_length(method, body),
                           None)
        head, _, content = self._answer(pool, conn, method, data, None, stream=False)
        return DirectAnswer(head.status, headers_from_store(ResponseHeaders, head.headers),
                            content or b"")

    def _answer(
        self, pool: ConnectionPool, conn: Connection, method: str, data: bytes,
        request: requests.PreparedRequest | None, *, stream: bool,
    ) -> tuple[Head, StreamBody, bytes | None]:
        """Send ``data`` and read the answer's head, and its body unless ``stream``.

        :raises AttemptError: ``sent=True``: the exchange failed (the connection is closed).
        """
        try:
            conn.send(data)
            head = conn.next_event()
            if type(head) is not Head:
                raise FramingError(f"the answer began with {head!r}")
            raw = StreamBody(pool, conn, method, head.status, head.headers, request,
                             self.max_body_size)
            content = None if stream else raw.read_all(self.max_body_size)
        except (OSError, ValueError) as exc:
            conn.close()
            raise AttemptError(exc, sent=True, timed_out=isinstance(exc, TimeoutError),
                               request=request) from exc
        return head, raw, content

    def _write(  # noqa: PLR0917
        self, conn: Connection, method: str, target: str, pool: ConnectionPool,
        headers: tuple[tuple[str, str], ...], body: bytes | None, length: int | None,
        request: requests.PreparedRequest | None,
    ) -> bytes:
        """The request's bytes, after the cmux priming a new plain connection may need; the
        connection is then ready for the answer.

        :raises AttemptError: ``sent=False``: invalid method, target or headers, or the
            priming failed; the connection is closed then.
        """
        try:
            head = self._writer.head(method, target, pool.host_header, headers, length)
            if conn.fresh and head.index(b"\r\n") > SNIFF_LINE:
                prime(conn)
            conn.start(method)
        except (OSError, ValueError) as exc:
            conn.close()
            raise AttemptError(exc, sent=False, timed_out=isinstance(exc, TimeoutError),
                               request=request) from exc
        return head + body if body else head

    def _pool(self, origin: str) -> ConnectionPool:
        pool = self._pools.get(origin)
        if pool is None:
            with self._lock:
                pool = self._pools.setdefault(
                    origin, ConnectionPool(origin, self.pool_maxsize, self._parser))
        return pool

    def _connection(self, pool: ConnectionPool, budget: float | None, verify: bool | str,
                    cert: str | tuple[str, str] | None,
                    request: requests.PreparedRequest | None) -> Connection:
        conn = pool.take()
        if conn is not None:
            conn.set_budget(budget)
            return conn
        started = time.monotonic()
        try:
            context = None
            if pool.https:
                context = self._contexts.get(verify, cert)
                if verify is False and pool.origin not in self._warned:
                    self._warned.add(pool.origin)
                    warn_unverified(pool.hostname)
            conn = pool.connect(budget, context)
        except (OSError, ValueError) as exc:  # refused, DNS, timeout, TLS (ssl.SSLError)
            raise AttemptError(exc, sent=False, timed_out=isinstance(exc, TimeoutError),
                               request=request) from exc
        if budget is not None:  # what the connect left of the attempt's time
            budget = max(budget - (time.monotonic() - started), 0.001)
        conn.set_budget(budget)
        return conn

    # ---------------------------------------------------------------- streams

    def abort(self, response: requests.Response) -> None:
        """Stop a streamed response from any thread: a read blocked in another thread returns
        (raising :class:`AttemptError`), and the connection is closed, never reused.

        :param response: a response of this adapter (others are closed as requests can).
        """
        raw = response.raw
        if isinstance(raw, StreamBody):
            raw.abort()
        else:
            response.close()

    def ssl_context(self, verify: bool | str, cert: str | tuple[str, str] | None) -> ssl.SSLContext:
        """The (cached) TLS context for ``verify``/``cert``: builds it now, so that unreadable
        or invalid files fail early.

        :raises OSError: a file cannot be read.
        :raises ssl.SSLError: a file is not valid PEM.
        """
        return self._contexts.get(verify, cert)

    def close(self) -> None:
        """Close every idle connection; those in flight close when their answer ends."""
        for pool in list(self._pools.values()):
            pool.close()


def _split(url: str) -> tuple[str, str]:
    """``(origin, target)`` of an absolute URL."""
    slash = url.find("/", url.find("//") + 2)
    return (url, "/") if slash < 0 else (url[:slash], url[slash:])


def _headers(request: requests.PreparedRequest, method: str, body: bytes | None,
             ) -> tuple[tuple[tuple[str, str], ...], int | None]:
    """The request's headers without ``Content-Length`` (a tuple: the writer caches the header
    blocks it saw) and the ``Content-Length`` to send.

    :raises FramingError: a ``Content-Length`` header that is not the body's length.
    """
    given = request.headers
    store = header_store(given) if type(given) is CaseInsensitiveDict else None
    items: tuple[tuple[str, str], ...] = tuple(
        store.values() if store is not None else given.items())
    length = body_length(method, body)
    declared = store.get("content-length") if store is not None else None
    if declared is None and store is None:
        declared = next((i for i in items if i[0].lower() == "content-length"), None)
    if declared is None:
        return items, length
    if str(length or 0) != str(declared[1]).strip():
        raise FramingError(f"Content-Length {declared[1]!r} is not the body's length ({length or 0})")
    if items[-1] is declared:  # where requests and etcdmap put it
        return items[:-1], length
    return tuple(i for i in items if i is not declared), length
