"""``Transport``: the blocking shell of the client's HTTP policy (pinning, failover, deadlines, redirects).

The decisions are :mod:`etcdmap.http.policy`'s (the same :class:`~etcdmap.http.policy.Plan`
drives the asyncio transport, :mod:`etcdmap.aio.transport`): which endpoint next and with what
budget, what a failure or a 5xx means for an idempotent or a non-idempotent call (next
endpoint, :class:`~etcdmap.errors.AmbiguousResultError`, :class:`~etcdmap.errors.DeadlineExceeded`,
:class:`~etcdmap.errors.ClusterError`), where a redirect goes. This module does the I/O: each
attempt is one ``Session.send`` through the session's adapter for the URL (etcdmap's
:class:`~etcdmap.http.adapter.FastAdapter` by default), following redirects
(:func:`etcdmap.http.redirects.follow_redirects`); every failure of an attempt arrives as one
:class:`~etcdmap.http.attempt.AttemptError` whose ``sent`` bit the plan judges.
:meth:`Transport.request` and :meth:`Transport.stream` share one loop.

The fast adapter spends an attempt's budget as one budget for connect, send and the whole
answer (a server dripping one byte at a time cannot stretch it); requests' ``HTTPAdapter``
bounds each socket operation by it instead.

cURL debugging: :func:`enable_curl_debug` prints one ``curl`` command per attempt on stderr.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import requests

from etcdmap._closing import Closing
from etcdmap.http.adapter import FastAdapter
from etcdmap.http.answers import HTTPResult, ServerError, StreamResponse
from etcdmap.http.attempt import AttemptError
from etcdmap.http.connection import ConnectionPool
from etcdmap.http.curl import disable_curl_debug, enable_curl_debug
from etcdmap.http.defaults import DEFAULT, CallTimeout, UseDefault
from etcdmap.http.endpoints import normalize_endpoint, origin_of
from etcdmap.http.options import TransportOptions, TransportSettings, with_settings_signature
from etcdmap.http.policy import Plan, ServerErrorDecoder, encode_call
from etcdmap.http.redirects import follow_redirects, read_body
from etcdmap.http.response import DirectAnswer
from etcdmap.http.session import Requester, stock_send
from etcdmap.http.transport_shell import TransportShell

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "DEFAULT",
    "CallTimeout",
    "HTTPResult",
    "ServerError",
    "ServerErrorDecoder",
    "StreamResponse",
    "Transport",
    "UseDefault",
    "disable_curl_debug",
    "enable_curl_debug",
    "normalize_endpoint",
]


@with_settings_signature
class Transport(TransportShell, Closing):
    """Sends requests to an etcd cluster with pinning, failover, redirects, timeouts and auth.

    Thread-safe: one instance is shared by all threads of a client.

    :param endpoints: one URL, several separated by commas, or a sequence of URLs (the rule:
        :mod:`etcdmap.http.endpoints`).
    :param options: the settings as one value (:class:`~etcdmap.http.options.TransportOptions`:
        ``timeout``, ``request_timeout``, ``username``, ``password``, ``verify``, ``cert``,
        ``max_redirects``, ``session``); keyword arguments of the same names override it.
        ``username`` is sent as Basic auth on every attempt (it replaces the session's
        ``auth``); ``session=None`` gives a default session with
        :class:`~etcdmap.http.adapter.FastAdapter` mounted, closed by :meth:`close`.
    :param server_error: the API's reading of a 5xx body: ``(status, body, endpoint) ->
        (error or None, final)``; ``final`` answers deterministic failures (every member would
        answer the same) like a 4xx instead of failing over. ``None``: keep the raw body.
    :param settings: the settings as keyword arguments (see ``options``).
    :raises NoEndpointsError: no endpoint given.
    :raises ValueError: an endpoint is not a valid http(s) URL, a timeout is not positive, or
        ``max_redirects`` is negative.
    :raises TypeError: an unknown keyword argument or a setting of the wrong type.
    :raises OSError: ``verify`` or ``cert`` names a file that cannot be read (https endpoints).
    :raises ssl.SSLError: such a file is not a valid PEM certificate or key.
    """

    def __init__(
        self,
        endpoints: str | Sequence[str],
        *,
        options: TransportOptions | None = None,
        server_error: ServerErrorDecoder | None = None,
        **settings: Unpack[TransportSettings],
    ) -> None:
        opts = TransportOptions.build("Transport", options, settings)
        super().__init__(endpoints, opts, server_error)
        self._requester = Requester(opts.session, self.headers, verify=opts.verify,
                                    cert=opts.cert, explicit_auth=opts.username is not None)
        self._check_tls_files()

    def _check_tls_files(self) -> None:
        """Build the TLS contexts of https endpoints now: bad files fail at construction."""
        for ep in self.policy.endpoints:
            if ep.startswith("https:"):
                settings = self._requester.settings(origin_of(ep))
                adapter = self.session.get_adapter(ep)
                if isinstance(adapter, FastAdapter):
                    adapter.ssl_context(settings.verify, settings.cert)

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session`` every request goes through."""
        return self._requester.session

    # ------------------------------------------------------------------ the endpoint loop

    def _run(self, plan: Plan, method: str, body: bytes | None, content_type: str | None,
             headers: Mapping[str, str] | None,
             ) -> tuple[requests.Response | DirectAnswer, str, bytes | None]:
        """Try the endpoints as ``plan`` says until one answers.

        :returns: the answer, its endpoint and its body (``None`` for a healthy stream).
        """
        while True:
            attempt = plan.next_attempt()
            try:
                resp = follow_redirects(
                    self._requester, method, attempt, plan.redirects(attempt), body=body,
                    content_type=content_type, username=self.options.username, headers=headers,
                )
                data = read_body(resp) if attempt.reads_body(resp.status_code) else None
            except AttemptError as failure:
                plan.failed(attempt, failure)
                continue
            refused = plan.check(attempt, resp.status_code, resp.headers, data)
            if refused is None:
                return resp, attempt.endpoint, data
            resp.close()
            plan.failed(attempt, refused)

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
        timeout: float | UseDefault | None = DEFAULT,
        endpoint: str | None = None,
        request_timeout: float | UseDefault | None = DEFAULT,
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
            failure (see :mod:`etcdmap.http.policy`).
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
        target, body, content_type = encode_call(path, params=params, form=form, json=json,
                                                body=body, content_type=content_type)
        plan = self.policy.plan(target, idempotent=idempotent, timeout=timeout,
                                request_timeout=request_timeout, endpoint=endpoint)
        resp, ep, data = self._run(plan, method, body, content_type, headers)
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
        timeout: float | UseDefault | None = DEFAULT,
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
        target, body, content_type = encode_call(path, params=params, body=body,
                                                content_type=content_type)
        plan = self.policy.plan(target, idempotent=True, timeout=timeout, endpoint=endpoint,
                                stream=True, read_timeout=read_timeout)
        resp, ep, data = self._run(plan, method, body, content_type, headers)
        if not isinstance(resp, requests.Response):  # pragma: no cover - streams are never direct
            raise TypeError(f"a stream got {resp!r}")
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

