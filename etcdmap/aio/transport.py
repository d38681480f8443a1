"""``AsyncTransport``: the asyncio shell of the client's HTTP policy.

The same :class:`~etcdmap.http.policy.Policy` as the blocking
:class:`~etcdmap.http.transport.Transport` decides everything -- endpoint order and pinning,
the whole-call deadline and each attempt's budget, failover or
:class:`~etcdmap.errors.AmbiguousResultError` after a failure, what a 5xx or a member of
another cluster means, where a redirect goes and whether credentials follow it. This module
only does the I/O, on asyncio connections (:mod:`etcdmap.aio.exchange`): connections are
pooled per origin, TLS as requests takes ``verify``/``cert`` (``REQUESTS_CA_BUNDLE`` and
``CURL_CA_BUNDLE`` apply to ``verify=True``), Basic auth from ``username``/``password`` (else
from ``~/.netrc``, as requests does), a ``curl`` command per attempt with
:func:`~etcdmap.http.curl.enable_curl_debug`. Proxies are not used: the asyncio transport
connects to the members directly.

Cancellation: cancelling a call at any await closes the connection it was using (never
reused); the pool and the pin stay as they were.

Thread-safety: an :class:`AsyncTransport` belongs to the event loop it is used on, until
:meth:`~AsyncTransport.close` (then it may serve another loop).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests

from etcdmap.aio.answers import AsyncStreamResponse
from etcdmap.aio.connection import AsyncPool
from etcdmap.aio.deadline import deadline
from etcdmap.aio.exchange import AsyncAnswer, exchange
from etcdmap.http import curl
from etcdmap.http.answers import HTTPResult
from etcdmap.http.attempt import AttemptError
from etcdmap.http.defaults import DEFAULT, UseDefault
from etcdmap.http.endpoints import origin_of
from etcdmap.http.options import TransportOptions, TransportSettings, with_settings_signature
from etcdmap.http.policy import Attempt, Plan, Redirects, ServerErrorDecoder, encode_call
from etcdmap.http.session import EndpointSettings, basic_auth, endpoint_settings
from etcdmap.http.tls import ContextCache, warn_unverified
from etcdmap.http.transport_shell import TransportShell

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["AsyncTransport"]

_BODY_METHODS = frozenset({"PUT", "POST", "PATCH"})


def _user_agent() -> str:
    from etcdmap._version import __version__  # noqa: PLC0415

    return f"etcdmap/{__version__}"


@with_settings_signature
class AsyncTransport(TransportShell):
    """Sends requests to an etcd cluster from asyncio code, with the blocking transport's policy.

    :param endpoints: one URL or a sequence of URLs.
    :param options: the settings as one value (:class:`~etcdmap.http.options.TransportOptions`);
        keyword arguments override it. ``session`` must be ``None`` (requests is blocking).
    :param server_error: the API's reading of a 5xx body (see :class:`~etcdmap.http.policy.Policy`).
    :param pool_maxsize: idle connections kept per origin.
    :param max_connections: connections open at once per origin; more requests wait in line
        (first come, first served) within their deadline. Settable before first use.
    :param settings: the settings as keyword arguments.
    :raises NoEndpointsError: no endpoint given.
    :raises ValueError: an invalid endpoint URL or setting.
    :raises TypeError: an unknown keyword argument, a setting of the wrong type, a session.
    :raises OSError: ``verify`` or ``cert`` names a file that cannot be read (https endpoints).
    :raises ssl.SSLError: such a file is not a valid PEM certificate or key.
    """

    def __init__(
        self,
        endpoints: str | Sequence[str],
        *,
        options: TransportOptions | None = None,
        server_error: ServerErrorDecoder | None = None,
        pool_maxsize: int = 32,
        max_connections: int = 64,
        **settings: Unpack[TransportSettings],
    ) -> None:
        opts = TransportOptions.build("AsyncTransport", options, settings)
        if opts.session is not None:
            raise TypeError("session= is for the blocking clients: the asyncio transport does "
                            "not go through a requests.Session")
        super().__init__(endpoints, opts, server_error)
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) \
                or max_connections < 1:
            raise ValueError(f"max_connections must be an int >= 1, got {max_connections!r}")
        self.pool_maxsize = pool_maxsize
        self.max_connections = max_connections
        """Connections open at once per origin (see the class docstring)."""
        self._pools: dict[str, AsyncPool] = {}
        self._contexts = ContextCache()
        self._environment = requests.Session()  # only for requests' environment rules
        self._settings: dict[str, EndpointSettings] = {}
        self._warned: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._user_agent = _user_agent()
        for ep in self.policy.endpoints:  # bad TLS files fail at construction
            if ep.startswith("https:"):
                self._context(origin_of(ep))

    # ------------------------------------------------------------------ per origin

    def _settings_of(self, origin: str) -> EndpointSettings:
        found = self._settings.get(origin)
        if found is None:
            found = endpoint_settings(self._environment, origin, self.options.verify,
                                      self.options.cert)
            self._settings[origin] = found
        return found

    def _context(self, origin: str) -> ssl.SSLContext | None:
        if not origin.startswith("https:"):
            return None
        settings = self._settings_of(origin)
        if settings.verify is False and origin not in self._warned:
            self._warned.add(origin)
            warn_unverified(urlsplit(origin).hostname or origin)
        return self._contexts.get(settings.verify, settings.cert)

    def _pool(self, origin: str) -> AsyncPool:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError(
                "this asyncio client is in use on another event loop: its connections belong "
                "to that loop; close it there (await client.aclose()) before using it here, "
                "or make one client per loop")
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = AsyncPool(origin, self.pool_maxsize, self.max_connections)
        return pool

    def _headers(self, pool: AsyncPool, method: str, *, body: bytes | None,
                 content_type: str | None, authorize: bool,
                 extra: Mapping[str, str] | None) -> list[tuple[str, str]]:
        headers = [("Host", pool.host_header), ("User-Agent", self._user_agent),
                   ("Accept", "application/json")]
        if authorize:
            auth = self.headers.get("Authorization")
            netrc = self._settings_of(pool.origin).netrc
            if auth is None and netrc is not None:
                auth = basic_auth(*netrc)
            if auth is not None:
                headers.append(("Authorization", auth))
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        if body is not None or method in _BODY_METHODS:
            headers.append(("Content-Length", str(len(body or b""))))
        if authorize and extra:
            headers.extend(extra.items())
        return headers

    # ------------------------------------------------------------------ one attempt

    async def _follow(self, attempt: Attempt, hops: Redirects, method: str, *,
                      body: bytes | None, content_type: str | None,
                      headers: Mapping[str, str] | None) -> AsyncAnswer:
        """One attempt, following redirects as ``hops`` decides (see :func:`follow_redirects`
        of :mod:`etcdmap.http.redirects`)."""
        while True:
            url, authorize = hops.url, hops.authorize
            origin = origin_of(url)
            pool = self._pool(origin)
            if curl.enabled():
                curl.print_curl(method, url, body, content_type,
                                self.username if authorize else None)
            answer = await exchange(
                pool, method, url[len(origin):] or "/",
                self._headers(pool, method, body=body, content_type=content_type,
                              authorize=authorize, extra=headers), body,
                budget=hops.budget(), stream=attempt.stream, context=self._context(origin),
            )
            location = answer.headers.get("Location")
            if not hops.is_redirect(answer.status, location):
                if answer.stream is not None and attempt.reads_body(answer.status):
                    answer.body = await _read_whole(answer, hops.budget())
                return answer
            answer.close()
            hops.follow(location or "")

    async def _run(self, plan: Plan, method: str, body: bytes | None, content_type: str | None,
                   headers: Mapping[str, str] | None) -> tuple[AsyncAnswer, str]:
        """Try the endpoints as ``plan`` says until one answers (see ``Transport._run``)."""
        while True:
            attempt = plan.next_attempt()
            try:
                answer = await self._follow(attempt, plan.redirects(attempt), method, body=body,
                                            content_type=content_type, headers=headers)
            except AttemptError as failure:
                plan.failed(attempt, failure)
                continue
            refused = plan.check(attempt, answer.status, answer.headers, answer.body)
            if refused is None:
                return answer, attempt.endpoint
            answer.close()
            plan.failed(attempt, refused)

    # ------------------------------------------------------------------ calls

    async def request(
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
        """Send one request with failover and return the first non-5xx answer; the
        parameters, answer and errors are those of
        :meth:`etcdmap.http.transport.Transport.request`."""
        target, body, content_type = encode_call(path, params=params, form=form, json=json,
                                                body=body, content_type=content_type)
        plan = self.policy.plan(target, idempotent=idempotent, timeout=timeout,
                                request_timeout=request_timeout, endpoint=endpoint)
        answer, endpoint = await self._run(plan, method, body, content_type, headers)
        return HTTPResult(answer.status, answer.headers, answer.body or b"", endpoint)

    async def stream(
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
    ) -> AsyncStreamResponse:
        """Open a request whose body is read incrementally; the parameters and errors are
        those of :meth:`etcdmap.http.transport.Transport.stream`.

        :returns: the open stream (close it, or use ``async with``).
        """
        target, body, content_type = encode_call(path, params=params, body=body,
                                                content_type=content_type)
        plan = self.policy.plan(target, idempotent=True, timeout=timeout, endpoint=endpoint,
                                stream=True, read_timeout=read_timeout)
        answer, endpoint = await self._run(plan, method, body, content_type, headers)
        return AsyncStreamResponse(answer.status, answer.headers, endpoint, body=answer.stream,
                                   data=answer.body, read_timeout=read_timeout)

    # ------------------------------------------------------------------ lifecycle

    def idle_connections(self) -> int:
        """How many connections wait idle in the pools (all origins)."""
        return sum(pool.idle for pool in self._pools.values())

    def open_connections(self) -> int:
        """How many connections are open (idle and in use, all origins)."""
        return sum(pool.opened for pool in self._pools.values())

    def close(self) -> None:
        """Close the idle connections (those in use close when their answer ends). The
        transport stays usable (it reconnects), on this event loop or another one."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        self._loop = None
        self._environment.close()

    async def aclose(self) -> None:
        """:meth:`close`, as a coroutine."""
        self.close()

    async def __aenter__(self) -> AsyncTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


async def _read_whole(answer: AsyncAnswer, budget: float | None) -> bytes:
    """The rest of a streamed answer's body (a failed stream's error body) within ``budget``.

    :raises AttemptError: it could not be read (``sent``).
    """
    stream = answer.stream
    assert stream is not None
    pieces = []
    loop = asyncio.get_running_loop()
    try:
        async with deadline(None if budget is None else loop.time() + budget):
            while piece := await stream.next_piece():
                pieces.append(piece)
    except (OSError, ValueError) as exc:
        raise AttemptError(exc, sent=True, timed_out=isinstance(exc, TimeoutError)) from exc
    answer.stream = None
    return b"".join(pieces)
