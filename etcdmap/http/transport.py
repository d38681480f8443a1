"""The policy layer of the client: endpoints, pinning, failover, deadlines, idempotency, redirects.

Policy above, one attempt below: each attempt is one ``Session.send`` through the session's
adapter for the URL (etcdmap's :class:`~etcdmap.http.adapter.FastAdapter` by default), with
redirects followed by :func:`etcdmap.http.redirects.follow_redirects`; every failure of an
attempt arrives as one :class:`~etcdmap.http.attempt.AttemptError` whose ``sent`` bit decides
what may happen next. :meth:`Transport.request` and :meth:`Transport.stream` share one loop.

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

Deadlines: the whole-call ``timeout`` bounds every attempt, endpoint and redirect
(:class:`~etcdmap.errors.DeadlineExceeded`); each attempt is given ``min(request_timeout,
remaining)``. The fast adapter spends it as one budget for connect, send and the whole answer
(a server dripping one byte at a time cannot stretch it); requests' ``HTTPAdapter`` bounds
each socket operation by it instead.

cURL debugging: :func:`enable_curl_debug` prints one ``curl`` command per attempt on stderr.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from json import dumps as _json_dumps
from typing import Final

import requests

from etcdmap._closing import Closing
from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    DeadlineExceeded,
    EtcdError,
    EtcdMapError,
    NoEndpointsError,
)
from etcdmap.http import curl
from etcdmap.http.adapter import FastAdapter
from etcdmap.http.answers import HTTPResult, ServerError, StreamResponse
from etcdmap.http.attempt import AttemptError
from etcdmap.http.connection import ConnectionPool
from etcdmap.http.curl import disable_curl_debug, enable_curl_debug
from etcdmap.http.defaults import DEFAULT, CallTimeout, UseDefault
from etcdmap.http.endpoints import check_target, normalize_endpoint, origin_of, split_endpoints
from etcdmap.http.forms import encode_form, encode_query
from etcdmap.http.redirects import follow_redirects, read_body
from etcdmap.http.session import Requester, basic_auth
from etcdmap.http.session import _stock_send as stock_send

__all__ = [
    "DEFAULT",
    "CallTimeout",
    "HTTPResult",
    "ServerError",
    "StreamResponse",
    "Transport",
    "UseDefault",
    "disable_curl_debug",
    "enable_curl_debug",
    "normalize_endpoint",
]


ServerErrorDecoder = Callable[[int, bytes, str], "tuple[EtcdError | None, bool]"]
"""How an API reads a 5xx body (see :class:`Transport`)."""


_DEFAULT: Final = DEFAULT
_Timeout = float | tuple[float | None, float | None] | None


class Transport(Closing):
    """Sends requests to an etcd cluster with pinning, failover, redirects, timeouts and auth.

    Thread-safe: one instance is shared by all threads of a client.

    :param endpoints: one URL, several separated by commas, or a sequence of URLs (the rule:
        :mod:`etcdmap.http.endpoints`).
    :param timeout: default whole-call deadline in seconds across retries, endpoints and
        redirects; ``None`` for none.
    :param request_timeout: time allowed to one attempt on one endpoint before the next
        endpoint is tried; ``None``: only ``timeout`` bounds it.
    :param username: Basic auth user (UTF-8), sent on every attempt; it replaces the session's
        ``auth``.
    :param password: Basic auth password; never printed nor shown in ``repr``.
    :param verify: TLS verification as requests takes it (``None``: the session's, ``True``
        for the default session; ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` apply to ``True``).
    :param cert: client certificate: a PEM path or a ``(cert, key)`` pair (``None``: the
        session's).
    :param max_redirects: redirects followed per attempt before :class:`TooManyRedirectsError`.
    :param session: the ``requests.Session`` every request goes through (``None``: a default
        one with :class:`~etcdmap.http.adapter.FastAdapter` mounted, closed by :meth:`close`).
    :param server_error: the API's reading of a 5xx body: ``(status, body, endpoint) ->
        (error or None, final)``; ``final`` answers deterministic failures (every member would
        answer the same) like a 4xx instead of failing over. ``None``: keep the raw body.
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
        verify: bool | str | None = None,
        cert: str | tuple[str, str] | None = None,
        max_redirects: int = 10,
        session: requests.Session | None = None,
        server_error: ServerErrorDecoder | None = None,
    ) -> None:
        for name, value in (("timeout", timeout), ("request_timeout", request_timeout)):
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ValueError(f"{name} must be a positive number of seconds or None: {value!r}")
        if isinstance(max_redirects, bool) or not isinstance(max_redirects, int) or max_redirects < 0:
            raise ValueError(f"max_redirects must be an int >= 0: {max_redirects!r}")
        if session is not None and not isinstance(session, requests.Session):
            raise TypeError(f"session must be a requests.Session, not {type(session).__name__}")
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
        headers = {"Accept": "application/json"}
        if username is not None:
            headers["Authorization"] = basic_auth(username, password)
        self._requester = Requester(session, headers, verify=verify, cert=cert,
                                    explicit_auth=username is not None)
        self._check_tls_files()
        self._cluster_id: str | None = None
        self._server_error = server_error
        self.on_failure: Callable[[str, BaseException], None] | None = None
        """Hook called with ``(endpoint, error)`` after each failed attempt (e.g. leader
        tracking). It runs in the calling thread and must not raise."""

    def _check_tls_files(self) -> None:
        """Build the TLS contexts of https endpoints now: bad files fail at construction."""
        for ep in self._endpoints:
            if ep.startswith("https:"):
                settings = self._requester.settings(origin_of(ep))
                adapter = self.session.get_adapter(ep)
                if isinstance(adapter, FastAdapter):
                    adapter.ssl_context(settings.verify, settings.cert)

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session`` every request goes through."""
        return self._requester.session

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
        clean = list(dict.fromkeys(  # no duplicates
            normalize_endpoint(ep) for ep in split_endpoints(endpoints)))
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

    def unpin(self, endpoint: str) -> None:
        """Move the pin to the next member if ``endpoint`` is pinned (it failed a liveness
        check: the next call should not start there)."""
        with self._lock:
            if self._endpoints[self._pinned] == endpoint:
                self._pinned = (self._pinned + 1) % len(self._endpoints)

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

    def _check(self, endpoint: str, resp: requests.Response, body: bytes | None) -> None:
        """Raise :class:`AttemptError` for a 5xx or a member of another cluster."""
        cid = resp.headers.get("X-Etcd-Cluster-Id")
        if cid:
            if self._cluster_id is None:
                with self._lock:
                    if self._cluster_id is None:
                        self._cluster_id = cid
            if cid != self._cluster_id:
                raise AttemptError(  # it did not reach *our* cluster
                    EtcdMapError(f"{endpoint} belongs to cluster {cid}, not {self._cluster_id}"),
                    sent=False,
                )
        status = resp.status_code
        if status >= 500:
            error, final = (None, False) if self._server_error is None else \
                self._server_error(status, body or b"", endpoint)
            if final:
                return  # deterministic: every member answers the same
            raise AttemptError(ServerError(endpoint, status, body or b"", error), sent=True)

    # ------------------------------------------------------------------ the endpoint loop

    def _attempt_timeout(self, deadline: float | None, per_attempt: float | None,
                         errors: list[tuple[str, BaseException]], sent: bool) -> float | None:
        if deadline is None:
            return per_attempt
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded(_deadline_text(errors), maybe_applied=sent)
        return remaining if per_attempt is None else min(per_attempt, remaining)

    def _run(
        self, method: str, target: str, body: bytes | None, content_type: str | None, *,
        idempotent: bool, timeout: float | None, endpoint: str | None,
        per_attempt: float | None, read_timeout: float | None, stream: bool,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[requests.Response, str, bytes | None]:
        """Try the endpoints in order until one answers below 500.

        :returns: the answer, its endpoint and its body (``None`` for a healthy stream).
        """
        check_target(target)
        deadline = None if timeout is None else time.monotonic() + timeout
        errors: list[tuple[str, BaseException]] = []
        sent = False  # did any attempt reach a member? (ClusterError.maybe_applied)
        order = self._order(endpoint)
        for ep in order:
            budget = self._attempt_timeout(deadline, per_attempt, errors, sent)
            attempt: _Timeout = budget
            if stream:  # the head within min(budget, read_timeout); StreamResponse sets idle
                head = read_timeout if budget is None else min(budget, read_timeout or budget)
                attempt = (head, head)
            try:
                resp = follow_redirects(
                    self._requester, method, ep + target, body, content_type, timeout=attempt,
                    stream=stream, max_redirects=self.max_redirects, username=self.username,
                    headers=headers,
                )
                data = None if stream and resp.status_code < 500 else read_body(resp)
                try:
                    self._check(ep, resp, data)
                except AttemptError:
                    resp.close()
                    raise
            except AttemptError as failure:
                errors.append((ep, failure.error))
                sent = sent or failure.sent
                self._after_failure(ep, failure, idempotent, deadline, errors, sent=sent)
                continue
            if ep != order[0] and endpoint is None:
                self.pin(ep)
            return resp, ep, data
        raise ClusterError(errors, maybe_applied=sent)

    def _after_failure(
        self,
        ep: str,
        failure: AttemptError,
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

    # ------------------------------------------------------------------ calls

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        form: Mapping[str, str] | None = None,
        json: object = None,
        body: bytes | None = None,
        content_type: str | None = None,
        idempotent: bool = True,
        timeout: float | UseDefault | None = _DEFAULT,
        endpoint: str | None = None,
        request_timeout: float | UseDefault | None = _DEFAULT,
        headers: Mapping[str, str] | None = None,
    ) -> HTTPResult:
        """Send one request with failover and return the first non-5xx answer.

        :param method: ``GET``, ``PUT``, ``POST``, ``DELETE``, ...
        :param path: percent-quoted path starting with ``/``, appended to the endpoint's path.
        :param params: query pairs, sent in this order.
        :param form: an ``application/x-www-form-urlencoded`` body (keys sorted).
        :param json: a JSON body (members/auth APIs).
        :param body: a raw body (with ``content_type``), when neither ``form`` nor ``json``.
        :param content_type: the ``Content-Type`` of ``body``.
        :param idempotent: ``False`` for writes that must never be re-sent after an ambiguous
            failure (see the module table).
        :param timeout: whole-call deadline in seconds (default: the transport's).
        :param endpoint: send to exactly this endpoint, without failover.
        :param request_timeout: override the per-attempt timeout for this call.
        :param headers: extra headers of this call (not sent to another origin on a redirect).
        :returns: the answer (any 2xx/3xx/4xx status).
        :raises ClusterError: every endpoint failed; ``.errors`` has one entry per endpoint.
        :raises DeadlineExceeded: ``timeout`` ran out.
        :raises AmbiguousResultError: a non-idempotent request was sent and no answer came.
        :raises TooManyRedirectsError: more than ``max_redirects`` redirects.
        :raises InvalidResponseError: a redirect to a Location that is not http(s).
        :raises ValueError: ``path`` is not percent-quoted ASCII.
        """
        if form is not None:
            body, content_type = encode_form(form), curl.FORM
        elif json is not None:
            body, content_type = _json_dumps(json).encode(), "application/json"
        resp, ep, data = self._run(
            method, path + "?" + encode_query(params) if params else path, body,
            content_type, idempotent=idempotent,
            timeout=self.timeout if timeout is _DEFAULT else timeout, endpoint=endpoint,
            per_attempt=self.request_timeout if request_timeout is _DEFAULT else request_timeout,
            read_timeout=None, stream=False, headers=headers,
        )
        return HTTPResult(resp.status_code, resp.headers, data or b"", ep)

    def stream(
        self,
        path: str,
        params: Sequence[tuple[str, str]] | None = None,
        *,
        method: str = "GET",
        body: bytes | None = None,
        content_type: str | None = None,
        read_timeout: float | None,
        timeout: float | UseDefault | None = _DEFAULT,
        endpoint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> StreamResponse:
        """Open a request whose body is read incrementally (v2 watches; the v3 watch POST).

        Connection failures and 5xx fail over to the next endpoint (unless ``endpoint`` is
        given) like :meth:`request`; the returned response has its status and headers, and its
        body is left unread.

        :param path: quoted path, as for :meth:`request`.
        :param params: query pairs.
        :param method: the HTTP method.
        :param body: the request body (with ``content_type``).
        :param content_type: the ``Content-Type`` of ``body``.
        :param read_timeout: the longest silence allowed: the headers must arrive within
            ``min(read_timeout, request_timeout, timeout)``, then each later read may wait
            ``read_timeout`` (``None``: forever; avoid it, a SIGSTOPped member would never be
            noticed).
        :param timeout: deadline for establishing the stream (connect + headers).
        :param endpoint: use exactly this endpoint (no failover).
        :param headers: extra headers of this call.
        :returns: a :class:`StreamResponse` (close it, or use it as a context manager).
        :raises ClusterError: every endpoint failed.
        :raises DeadlineExceeded: ``timeout`` ran out before the headers arrived.
        """
        resp, ep, data = self._run(
            method, path + "?" + encode_query(params) if params else path, body,
            content_type, idempotent=True,
            timeout=self.timeout if timeout is _DEFAULT else timeout, endpoint=endpoint,
            per_attempt=self.request_timeout, read_timeout=read_timeout, stream=True,
            headers=headers,
        )
        result = StreamResponse(resp, ep, read_timeout=read_timeout, data=data)
        if data is None:
            result.set_read_timeout(read_timeout)  # from now on: the wait of each read
        return result

    def open_socket(self, endpoint: str, timeout: float | None) -> socket.socket | None:
        """A new connected socket to ``endpoint`` for a protocol upgrade (the v3 WebSockets),
        with TLS and the client certificate as this transport's requests use them.

        :param timeout: bound of the connect and the TLS handshake.
        :returns: the socket (blocking, the caller owns it), or ``None`` when this session
            cannot hand one over: a proxy for the endpoint, or an adapter other than
            etcdmap's mounted for it or the session's ``send`` replaced (requests-mock).
        :raises OSError: refused, DNS, connect timeout, TLS handshake.
        """
        origin = origin_of(endpoint)
        settings = self._requester.settings(origin)
        adapter = self.session.get_adapter(endpoint)
        if settings.proxy or not isinstance(adapter, FastAdapter) or \
                not stock_send(type(self.session).send):
            return None
        context = adapter.ssl_context(settings.verify, settings.cert) \
            if origin.startswith("https:") else None
        return ConnectionPool(origin).connect(timeout, context).sock

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close idle pooled connections of the default session (a user's session is left
        alone). The transport stays usable (it reconnects)."""
        self._requester.close()

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username is not None else ""
        return f"Transport({self.endpoints!r}, timeout={self.timeout!r}{user})"


def _deadline_text(errors: Sequence[tuple[str, BaseException]]) -> str:
    detail = "".join(f"; {ep}: {err}" for ep, err in errors)
    return "the call's timeout ran out" + detail
