"""The only module that sends HTTP: endpoints, pinning, failover, redirects, timeouts, auth, TLS.

Each attempt goes over a pooled keep-alive HTTP/1.1 connection (:mod:`etcdmap._pool`):
``requests.Session.request`` costs ~0.5 ms per call in settings merges and environment lookups,
urllib3's ``urlopen`` ~0.15 ms and :mod:`http.client` ~0.08 ms more than a lean exchange, which
would cap the throughput far below what etcd serves. TLS follows requests' meaning of
``verify``/``cert`` (and uses its CA bundle).

Failure policy (DESIGN.md "No duplicate writes"):

============================================  =====================  =====================
what happened on one endpoint                 idempotent call        non-idempotent call
============================================  =====================  =====================
never reached it (refused, DNS, connect        next endpoint          next endpoint
timeout, TLS handshake, other cluster id)
sent, then read timeout / reset / 5xx          next endpoint          AmbiguousResultError
any 2xx, 3xx (after redirects) or 4xx          returned               returned
============================================  =====================  =====================

A 5xx body carrying an etcd error (e.g. ``300 etcdserver: request timed out``) is kept in the
:class:`~etcdmap.errors.ClusterError` entry of that endpoint. The etcd 3.5 directory-TTL
regression (500, code 300 "Not a file") is deterministic and is returned like a 4xx.

The whole-call ``timeout`` bounds every attempt, endpoint and redirect
(:class:`~etcdmap.errors.DeadlineExceeded`); each attempt -- connect, send and the whole
answer -- is bounded by ``min(request_timeout, remaining)`` as a whole, so a server dripping
one byte at a time cannot stretch it. Nothing below this module retries on its own.

cURL debugging: :func:`enable_curl_debug` makes every attempt print an equivalent ``curl``
command on stderr (the password is never printed).
"""

from __future__ import annotations

import base64
import random
import re
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from json import dumps as _json_dumps
from shlex import quote as _shquote
from typing import Any, Final, cast
from urllib.parse import urljoin, urlsplit, urlunsplit

from etcdmap._answers import HTTPResult, ServerError, StreamResponse
from etcdmap._closing import Closing
from etcdmap._pool import AttemptError as _Failure
from etcdmap._pool import (
    Connection,
    ConnectionPool,
    Headers,
    RawResponse,
    exchange,
    make_ssl_context,
)
from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    DeadlineExceeded,
    DirectoryTTLUnsupported,
    EtcdMapError,
    NoEndpointsError,
    TooManyRedirectsError,
)
from etcdmap.v2 import wire as _wire

__all__ = [
    "DEFAULT",
    "HTTPResult",
    "ServerError",
    "StreamResponse",
    "Transport",
    "disable_curl_debug",
    "enable_curl_debug",
    "normalize_endpoint",
]

class _Switch:
    """The one global switch of etcdmap (DESIGN.md): cURL debug output."""

    curl = False


_DEBUG = _Switch()
_POOL_MAXSIZE: Final = 32
_FORM: Final = "application/x-www-form-urlencoded"
_JSON_PASSWORD: Final = re.compile(r'("password"\s*:\s*)"(?:[^"\\]|\\.)*"')


def enable_curl_debug() -> None:
    """Print one equivalent ``curl`` command per HTTP attempt on stderr (process-wide switch)."""
    _DEBUG.curl = True


def disable_curl_debug() -> None:
    """Stop printing ``curl`` commands (see :func:`enable_curl_debug`)."""
    _DEBUG.curl = False


class _Default:
    def __repr__(self) -> str:
        return "<client default>"


DEFAULT: Final[Any] = _Default()
"""Sentinel for "use the transport's configured value" (``timeout=``, ``request_timeout=``)."""
_DEFAULT = DEFAULT


def normalize_endpoint(url: str) -> str:
    """Validate one endpoint URL and return it without a trailing ``/``.

    :param url: ``http(s)://host[:port][/path]``.
    :returns: the normalised URL, e.g. ``"http://127.0.0.1:2379"``.
    :raises ValueError: not a string, not http/https, no host, a bad port, credentials in the URL
        (use ``username``/``password``), a query or a fragment.
    """
    if not isinstance(url, str):
        raise ValueError(  # noqa: TRY004 - garbage endpoints are a ValueError (contract)
            f"endpoint must be a URL string, not {type(url).__name__}"
        )
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"endpoint must be an http:// or https:// URL: {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"endpoint has an invalid port: {url!r}") from exc
    if not parts.hostname:
        raise ValueError(f"endpoint has no host: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in an endpoint URL are refused: pass username=/password=")
    if parts.query or parts.fragment:
        raise ValueError(f"endpoint must not have a query or fragment: {url!r}")
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _origin_and_target(url: str) -> tuple[str, str]:
    slash = url.find("/", url.find("//") + 2)
    return (url, "/") if slash < 0 else (url[:slash], url[slash:])


class Transport(Closing):
    """Sends requests to an etcd cluster with pinning, failover, redirects, timeouts, auth and TLS.

    Thread-safe: one instance is shared by all threads of a client (it keeps up to 32 idle
    keep-alive connections per endpoint; more are opened when more threads call at once).

    :param endpoints: one URL or a sequence of URLs (validated by :func:`normalize_endpoint`).
    :param timeout: default whole-call deadline in seconds across retries, endpoints and
        redirects; ``None`` for none.
    :param request_timeout: time allowed to one attempt on one endpoint (connect, send and the
        whole answer) before the next endpoint is tried; ``None``: only ``timeout`` bounds it.
    :param username: Basic auth user, sent on every attempt (``password`` may be empty).
    :param password: Basic auth password; never printed nor shown in ``repr``.
    :param verify: TLS verification as requests takes it: ``True``, ``False`` or a CA bundle path.
    :param cert: client certificate: a PEM path or a ``(cert, key)`` pair.
    :param max_redirects: redirects followed per attempt before :class:`TooManyRedirectsError`.
    :raises NoEndpointsError: no endpoint given.
    :raises ValueError: an endpoint is not a valid http(s) URL, a timeout is not positive, or
        ``max_redirects`` is negative.
    :raises OSError: ``verify`` or ``cert`` names a file that cannot be read (https endpoints).
    :raises ssl.SSLError: such a file is not a valid PEM certificate or key.
    """

    def __init__(
        self,
        endpoints: str | Sequence[str],
        *,
        timeout: float | None = 5.0,
        request_timeout: float | None = None,
        username: str | None = None,
        password: str | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        max_redirects: int = 10,
    ) -> None:
        for name, value in (("timeout", timeout), ("request_timeout", request_timeout)):
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ValueError(f"{name} must be a positive number of seconds or None: {value!r}")
        if isinstance(max_redirects, bool) or not isinstance(max_redirects, int) or max_redirects < 0:
            raise ValueError(f"max_redirects must be an int >= 0: {max_redirects!r}")
        self._lock = threading.Lock()
        self._endpoints: list[str] = []
        self._pinned = 0
        self.set_endpoints(endpoints)
        self.timeout = timeout
        self.request_timeout = request_timeout
        self.max_redirects = max_redirects
        self.username = username
        self.verify = verify
        self.cert = cert
        self._ssl_context: ssl.SSLContext | None = None
        if any(ep.startswith("https:") for ep in self._endpoints):
            self._ssl_context = make_ssl_context(verify, cert)  # bad TLS files fail here
        self._cluster_id: str | None = None
        self._headers: dict[str, str] = {"Accept": "application/json"}
        self._curl_user = ""
        if username is not None:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            self._headers["Authorization"] = "Basic " + token
            self._curl_user = f" -u {_shquote(username + ':***')}"
        self._pools: dict[str, ConnectionPool] = {}
        self.on_failure: Callable[[str, BaseException], None] | None = None
        """Hook called with ``(endpoint, error)`` after each failed attempt (e.g. leader
        tracking). It runs in the calling thread and must not raise."""

    # ------------------------------------------------------------------ endpoints

    @property
    def endpoints(self) -> list[str]:
        """A copy of the current endpoint list (in the shuffled order used for failover)."""
        with self._lock:
            return list(self._endpoints)

    @property
    def pinned(self) -> str:
        """The endpoint tried first by the next call."""
        with self._lock:
            return self._endpoints[self._pinned]

    @property
    def cluster_id(self) -> str | None:
        """The first ``X-Etcd-Cluster-Id`` seen; members answering another id count as failed."""
        return self._cluster_id

    def set_endpoints(self, endpoints: str | Sequence[str]) -> None:
        """Replace the endpoints, shuffle them and pin a random one.

        :raises NoEndpointsError: the list is empty (the old list is kept).
        :raises ValueError: an endpoint is invalid (the old list is kept).
        """
        if isinstance(endpoints, str):
            endpoints = [endpoints]
        clean = list(dict.fromkeys(normalize_endpoint(ep) for ep in endpoints))  # no duplicates
        if not clean:
            raise NoEndpointsError("no etcd endpoint given")
        random.shuffle(clean)
        with self._lock:
            self._endpoints = clean
            self._pinned = 0

    def pin(self, endpoint: str) -> None:
        """Pin ``endpoint`` (must be one of :attr:`endpoints`; others are ignored)."""
        with self._lock:
            if endpoint in self._endpoints:
                self._pinned = self._endpoints.index(endpoint)

    def _unpin(self, endpoint: str) -> None:
        # After an ambiguous failure the next call starts at the next member (Go #8515).
        with self._lock:
            if endpoint in self._endpoints:
                self._pinned = (self._endpoints.index(endpoint) + 1) % len(self._endpoints)

    def _order(self, endpoint: str | None) -> list[str]:
        if endpoint is not None:
            return [normalize_endpoint(endpoint)]
        with self._lock:
            eps, pinned = self._endpoints, self._pinned
        return eps[pinned:] + eps[:pinned]

    # ------------------------------------------------------------------ one attempt

    def _pool(self, origin: str) -> ConnectionPool:
        pool = self._pools.get(origin)
        if pool is None:
            context = None
            if origin.startswith("https:"):
                with self._lock:
                    if self._ssl_context is None:
                        self._ssl_context = make_ssl_context(self.verify, self.cert)
                    context = self._ssl_context
            pool = self._pools.setdefault(origin, ConnectionPool(origin, context, _POOL_MAXSIZE))
        return pool

    def _curl(self, method: str, url: str, body: bytes | None, ctype: str | None) -> None:
        line = f"cURL Command: curl -X {method} {_shquote(url)}{self._curl_user}"
        if ctype is not None and ctype != _FORM:
            line += f" -H {_shquote('Content-Type: ' + ctype)}"
        if body is not None:
            text = body.decode("utf-8", "replace")
            if ctype == "application/json":  # auth API bodies: never print a password
                text = _JSON_PASSWORD.sub(r'\1"***"', text)
            line += f" -d {_shquote(text)}"
        print(line, file=sys.stderr, flush=True)

    def _send(
        self,
        url: str,
        *,
        method: str,
        body: bytes | None,
        headers: dict[str, str],
        timeout: float | None,
        preload: bool,
    ) -> tuple[RawResponse, bytes | None, Connection, ConnectionPool]:
        """One attempt on one endpoint, following redirects. Raises :class:`_Failure`."""
        for _hop in range(self.max_redirects + 1):
            if _DEBUG.curl:
                self._curl(method, url, body, headers.get("Content-Type"))
            origin, target = _origin_and_target(url)
            pool = self._pool(origin)
            conn = pool.connection(timeout)
            resp, data = exchange(
                conn, method=method, target=target, body=body, headers=headers, preload=preload
            )
            location = resp.headers.get("Location") if 300 <= resp.status < 400 else None
            if not location:
                return resp, data, conn, pool
            if data is None:
                try:
                    resp.read()
                except (OSError, ValueError) as exc:
                    conn.close()
                    raise _Failure(exc, sent=True) from exc
            self._release(pool, conn, resp)
            url = urljoin(url, location)
        raise TooManyRedirectsError(f"more than {self.max_redirects} redirects (last: {url})")

    @staticmethod
    def _release(pool: ConnectionPool, conn: Connection, resp: RawResponse) -> None:
        """Hand back a connection whose answer was read completely."""
        if resp.will_close:
            conn.close()
        else:
            pool.put(conn)

    def _check(self, endpoint: str, status: int, headers: Headers, body: bytes | None) -> None:
        """Raise :class:`_Failure` for a 5xx or a member of another cluster."""
        cid = headers.get("X-Etcd-Cluster-Id")
        if cid:
            if self._cluster_id is None:
                with self._lock:
                    if self._cluster_id is None:
                        self._cluster_id = cid
            if cid != self._cluster_id:
                raise _Failure(
                    EtcdMapError(f"{endpoint} belongs to cluster {cid}, not {self._cluster_id}"),
                    sent=False,  # it did not reach *our* cluster
                )
        if status >= 500:
            error = _wire.decode_error(status, body or b"", endpoint)
            if isinstance(error, DirectoryTTLUnsupported):
                return  # deterministic: every member answers the same
            raise _Failure(ServerError(endpoint, status, body or b"", error), sent=True)

    # ------------------------------------------------------------------ calls

    def _prepare(
        self,
        path: str,
        params: Sequence[tuple[str, str]] | None,
        form: Mapping[str, str] | None,
        json: object,
    ) -> tuple[str, bytes | None, dict[str, str]]:
        target = path + "?" + _wire.encode_query(params) if params else path
        headers = self._headers.copy()
        body: bytes | None = None
        if form is not None:
            body = _wire.encode_form(form)
            headers["Content-Type"] = _FORM
        elif json is not None:
            body = _json_dumps(json).encode()
            headers["Content-Type"] = "application/json"
        return target, body, headers

    def _attempt_timeout(
        self,
        deadline: float | None,
        per_attempt: float | None,
        errors: list[tuple[str, BaseException]],
        sent: bool = False,
    ) -> float | None:
        if deadline is None:
            return per_attempt
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded(_deadline_text(errors), maybe_applied=sent)
        return remaining if per_attempt is None else min(per_attempt, remaining)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        form: Mapping[str, str] | None = None,
        json: object = None,
        idempotent: bool = True,
        timeout: float | None = _DEFAULT,
        endpoint: str | None = None,
        request_timeout: float | None = _DEFAULT,
    ) -> HTTPResult:
        """Send one request with failover and return the first non-5xx answer.

        :param method: ``GET``, ``PUT``, ``POST``, ``DELETE``, ...
        :param path: percent-quoted path starting with ``/``, appended to the endpoint's path.
        :param params: query pairs, sent in this order.
        :param form: an ``application/x-www-form-urlencoded`` body (keys sorted).
        :param json: a JSON body (members/auth APIs).
        :param idempotent: ``False`` for writes that must never be re-sent after an ambiguous
            failure (see the module table).
        :param timeout: whole-call deadline in seconds (default: the transport's).
        :param endpoint: send to exactly this endpoint, without failover.
        :param request_timeout: override the per-attempt timeout for this call.
        :returns: the answer (any 2xx/3xx/4xx status).
        :raises ClusterError: every endpoint failed; ``.errors`` has one entry per endpoint.
        :raises DeadlineExceeded: ``timeout`` ran out.
        :raises AmbiguousResultError: a non-idempotent request was sent and no answer came.
        :raises TooManyRedirectsError: more than ``max_redirects`` redirects.
        """
        if timeout is _DEFAULT:
            timeout = self.timeout
        per_attempt = self.request_timeout if request_timeout is _DEFAULT else request_timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        target, body, headers = self._prepare(path, params, form, json)
        errors: list[tuple[str, BaseException]] = []
        sent = False  # did any attempt reach a member? (ClusterError.maybe_applied)
        order = self._order(endpoint)
        for ep in order:
            attempt = self._attempt_timeout(deadline, per_attempt, errors, sent)
            try:
                resp, data, conn, pool = self._send(
                    ep + target, method=method, body=body, headers=headers, timeout=attempt,
                    preload=True,
                )
                self._release(pool, conn, resp)  # the body was read whole
                self._check(ep, resp.status, resp.headers, data)
            except _Failure as failure:
                errors.append((ep, failure.error))
                sent = sent or failure.sent
                self._after_failure(ep, failure, idempotent, deadline, errors, sent=sent)
                continue
            if ep != order[0] and endpoint is None:
                self.pin(ep)
            return HTTPResult(resp.status, resp.headers, cast(bytes, data), ep)
        raise ClusterError(errors, maybe_applied=sent)

    def _after_failure(
        self,
        ep: str,
        failure: _Failure,
        idempotent: bool,
        deadline: float | None,
        errors: list[tuple[str, BaseException]],
        *,
        sent: bool = False,
    ) -> None:
        if self.on_failure is not None:
            self.on_failure(ep, failure.error)
        if failure.sent and not idempotent:
            self._unpin(ep)
            raise AmbiguousResultError.after(ep, failure.error) from failure.error
        if failure.timed_out and deadline is not None and deadline - time.monotonic() < 0.005:
            raise DeadlineExceeded(_deadline_text(errors), maybe_applied=sent) from failure.error

    def stream(
        self,
        path: str,
        params: Sequence[tuple[str, str]] | None = None,
        *,
        method: str = "GET",
        body: bytes | None = None,
        content_type: str | None = None,
        read_timeout: float | None,
        timeout: float | None = _DEFAULT,
        endpoint: str | None = None,
    ) -> StreamResponse:
        """Open a request whose answer body is read incrementally (v2 watches: a GET with
        ``wait=true`` or ``stream=true``; the v3 watch: a POST with a JSON body).

        Connection failures and 5xx fail over to the next endpoint (unless ``endpoint`` is
        given) like :meth:`request`; the returned response has its status and headers, and its
        body is left unread.

        :param path: quoted path, as for :meth:`request`.
        :param params: query pairs.
        :param method: the HTTP method (sent again as is on failover: use an idempotent one).
        :param body: the request body, sent whole before the answer is read.
        :param content_type: the body's ``Content-Type``.
        :param read_timeout: the longest silence allowed: the headers must arrive within
            ``min(read_timeout, request_timeout, timeout)``, then each later read may wait
            ``read_timeout`` (``None``: forever; avoid it, a SIGSTOPped member would never be
            noticed).
        :param timeout: deadline for establishing the stream (connect + headers).
        :param endpoint: use exactly this endpoint (no failover).
        :returns: a :class:`StreamResponse` (close it, or use it as a context manager).
        :raises ClusterError: every endpoint failed.
        :raises DeadlineExceeded: ``timeout`` ran out before the headers arrived.
        """
        if timeout is _DEFAULT:
            timeout = self.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        target, _, headers = self._prepare(path, params, None, None)
        if content_type is not None:
            headers["Content-Type"] = content_type
        errors: list[tuple[str, BaseException]] = []
        order = self._order(endpoint)
        for ep in order:
            connect = self._attempt_timeout(deadline, self.request_timeout, errors)
            attempt = read_timeout if connect is None else min(connect, read_timeout or connect)
            try:
                resp, _, conn, pool = self._send(
                    ep + target, method=method, body=body, headers=headers, timeout=attempt,
                    preload=False,
                )
                answer = resp.headers
                data = None
                try:
                    if resp.status >= 500:
                        data = resp.read()
                    self._check(ep, resp.status, answer, data)
                except (OSError, ValueError) as exc:
                    conn.close()
                    raise _Failure(exc, sent=True) from exc
                except _Failure:
                    conn.close()
                    raise
            except _Failure as failure:
                errors.append((ep, failure.error))
                self._after_failure(ep, failure, True, deadline, errors)
                continue
            conn.settimeout(read_timeout)  # from now on an idle timeout, no overall deadline
            if ep != order[0] and endpoint is None:
                self.pin(ep)
            return StreamResponse(
                resp, answer, ep, read_timeout=read_timeout, conn=conn, pool=pool, data=data
            )
        raise ClusterError(errors)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close every idle pooled connection. The transport stays usable (it reconnects)."""
        for pool in list(self._pools.values()):
            pool.close()

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username is not None else ""
        return f"Transport({self.endpoints!r}, timeout={self.timeout!r}{user})"


def _deadline_text(errors: Sequence[tuple[str, BaseException]]) -> str:
    detail = "".join(f"; {ep}: {err}" for ep, err in errors)
    return "the call's timeout ran out" + detail
