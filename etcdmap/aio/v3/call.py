"""One v3 call on asyncio: the asyncio shell of :mod:`etcdmap.v3.caller`.

The decisions are the blocking caller's, shared: :class:`~etcdmap.v3.caller.TokenAuth` (when
to authenticate, when a refused call is sent once more), :func:`~etcdmap.v3.caller.answer_of`
and :func:`~etcdmap.v3.caller.refusal` (an answer to JSON or to the v3 error),
:func:`~etcdmap.v3.caller.unambiguous` (a 5xx that is not ambiguous), the call's deadline
covering authentication. This module awaits the I/O: one task authenticates at a time
(:class:`asyncio.Lock`), the others wait for its token.

Thread-safety: an :class:`AsyncCaller` belongs to its client's event loop.
"""

from __future__ import annotations

import asyncio

from etcdmap.aio.answers import AsyncStreamResponse
from etcdmap.aio.transport import AsyncTransport
from etcdmap.errors import AmbiguousResultError
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.v3.caller import (
    AUTHENTICATE,
    Json,
    TokenAuth,
    TokenHolder,
    answer_of,
    call_deadline,
    refusal,
    time_left,
    unambiguous,
)
from etcdmap.v3.errors import AuthNotEnabled, V3Error

__all__ = ["AsyncCaller"]


class AsyncCaller(TokenHolder):
    """Sends v3 calls from asyncio code and keeps the auth token (the asyncio form of
    :class:`etcdmap.v3.caller.Caller`: same parameters, answers and errors, as coroutines).

    :param transport: the client's transport (without Basic auth).
    :param username: the etcd user (``None``: no authentication).
    :param password: its password.
    """

    def __init__(self, transport: AsyncTransport, username: str | None,
                 password: str | None) -> None:
        self.transport = transport
        self.auth = TokenAuth(username, password)
        """The token and the decisions around it."""
        self._lock = asyncio.Lock()

    async def _current_token(self, deadline: float | None) -> str | None:
        if self.auth.needs_token():
            async with self._lock:
                if self.auth.needs_token():
                    self.auth.token = await self.authenticate(deadline)
        return self.auth.token

    async def authenticate(self, deadline: float | None = None) -> str | None:
        """Get a fresh token (see :meth:`etcdmap.v3.caller.Caller.authenticate`)."""
        try:
            data = await self._post(AUTHENTICATE, self.auth.credentials(), None,
                                    idempotent=True, timeout=time_left(deadline))
        except AuthNotEnabled:
            self.auth.disabled()
            return None
        return self.auth.authenticated(data)

    async def refresh_token(self) -> str | None:
        """Authenticate again now and use the new token (see
        :meth:`etcdmap.v3.caller.Caller.refresh_token`)."""
        if self.username is None:
            return None
        async with self._lock:
            self.auth.token = None
            self.auth.token = await self.authenticate(
                call_deadline(DEFAULT, self.transport.timeout))
            return self.auth.token

    async def _post(self, path: str, body: Json, token: str | None, *, idempotent: bool,
                    timeout: CallTimeout, endpoint: str | None = None,
                    request_timeout: CallTimeout = DEFAULT) -> Json:
        try:
            result = await self.transport.request(
                "POST", path, json=body, idempotent=idempotent, timeout=timeout,
                endpoint=endpoint, headers=TokenAuth.headers(token),
                request_timeout=request_timeout,
            )
        except AmbiguousResultError as exc:
            raise unambiguous(exc)  # noqa: B904 - chained to exc when it is another error
        return answer_of(result.status, result.body, result.endpoint, path)

    async def call(self, path: str, body: Json, *, idempotent: bool,
                   timeout: CallTimeout = DEFAULT, endpoint: str | None = None,
                   request_timeout: CallTimeout = DEFAULT) -> Json:
        """POST ``body`` to ``path`` and return the decoded answer (see
        :meth:`etcdmap.v3.caller.Caller.call` for the parameters and errors)."""
        deadline = call_deadline(timeout, self.transport.timeout)
        for attempt in (0, 1):
            token = await self._current_token(deadline)
            try:
                return await self._post(path, body, token, idempotent=idempotent,
                                        timeout=time_left(deadline), endpoint=endpoint,
                                        request_timeout=request_timeout)
            except V3Error as error:
                if not self.auth.retry(error, token, attempt):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def stream(self, path: str, body: bytes, *, read_timeout: float | None,
                     timeout: CallTimeout = DEFAULT, endpoint: str | None = None,
                     headers: dict[str, str] | None = None) -> AsyncStreamResponse:
        """Open a streaming POST (the watch) and check its status (see
        :meth:`etcdmap.v3.caller.Caller.stream`)."""
        deadline = call_deadline(timeout, self.transport.timeout)
        for attempt in (0, 1):
            token = await self._current_token(deadline)
            resp = await self.transport.stream(
                path, method="POST", body=body, content_type="application/json",
                read_timeout=read_timeout, timeout=time_left(deadline), endpoint=endpoint,
                headers=TokenAuth.headers(token, headers),
            )
            if resp.status == 200:
                return resp
            data = await resp.read()
            resp.close()
            error = refusal(resp.status, data, resp.endpoint, path)
            if not isinstance(error, V3Error) or not self.auth.retry(error, token, attempt):
                raise error
        raise AssertionError("unreachable")  # pragma: no cover
