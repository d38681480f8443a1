"""One v3 call: a JSON POST through the shared transport, token authentication, error mapping.

The transport (:class:`etcdmap.http.transport.Transport`) gives the v3 client the same guarantees
as v2: pinning, failover, the whole-call deadline, TLS, cURL debug, and no duplicate
non-idempotent writes (``idempotent=False`` -> :class:`~etcdmap.errors.AmbiguousResultError`).
Its v2-specific parts stay out of the way: v3 answers carry no ``X-Etcd-Cluster-Id`` header,
and the 4xx answers it hands back are parsed here, on the gRPC code (:mod:`etcdmap.v3.errors`).

Token authentication (etcd-io/etcd release-3.5:server/auth/store.go): with a user name, the
first call authenticates (``/v3/auth/authenticate``) and every call sends the bare token in
``Authorization``. A call refused for an invalid or expired token (gRPC 16) or for a missing
one (``user name is empty``: auth was enabled after the client started) authenticates again
and is sent once more -- safe for writes too, since etcd refused it before applying it. When
auth is not enabled the client sends no token.

The decisions are pure and shared with the asyncio client (:mod:`etcdmap.aio.v3`):
:class:`TokenAuth` (when to authenticate, when to send a call once more), :func:`answer_of`
(a gateway answer to JSON or to the v3 error), :func:`unambiguous` (a 5xx that is not
ambiguous), :func:`call_deadline` / :func:`time_left`; :class:`Caller` is the blocking shell.

Thread-safety: :class:`Caller` and :class:`TokenAuth` are thread-safe; the token is shared by
every thread.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from etcdmap.errors import AmbiguousResultError, DeadlineExceeded, InvalidResponseError, ServerError
from etcdmap.http.transport import DEFAULT, CallTimeout, StreamResponse, Transport
from etcdmap.v3.errors import (
    AuthNotEnabled,
    InvalidAuthToken,
    NoCredentials,
    UnhealthyCluster,
    V3Error,
    error_from_body,
)
from etcdmap.v3.wire import decode_json

__all__ = [
    "AUTHENTICATE",
    "Caller",
    "TokenAuth",
    "TokenHolder",
    "answer_of",
    "call_deadline",
    "refusal",
    "refused_unapplied",
    "time_left",
    "unambiguous",
]

Json = dict[str, Any]
AUTHENTICATE = "/v3/auth/authenticate"
"""The gateway route that trades a user name and password for a token."""
_JSON = "application/json"
_NEVER_APPLIED = (UnhealthyCluster,)


# ---------------------------------------------------------------------- pure decisions


def call_deadline(timeout: CallTimeout, default: float | None) -> float | None:
    """The monotonic deadline of a call (``None``: none); :data:`DEFAULT` is ``default``."""
    if timeout is DEFAULT:
        timeout = default
    return None if timeout is None else time.monotonic() + timeout


def time_left(deadline: float | None) -> float | None:
    """What is left before ``deadline`` (``None``: no deadline).

    :raises DeadlineExceeded: nothing is left (the time went on authenticating).
    """
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the call's timeout ran out (while authenticating)")
    return left


def _not_v3(status: int, body: bytes, endpoint: str, path: str = "") -> InvalidResponseError:
    text = body[:120].decode("utf-8", "replace").strip()
    hint = (f" (no {path or '/v3'} route here: the server is not an etcd v3 gateway, or older "
            "than this call needs, e.g. /v3/auth/status is new in etcd 3.5)") if status == 404 else ""
    return InvalidResponseError(
        f"{endpoint} answered HTTP {status} {text!r}: not an etcd v3 gateway answer{hint}",
        endpoint,
    )


def answer_of(status: int, body: bytes, endpoint: str, path: str) -> Json:
    """The JSON object of a gateway answer.

    :raises V3Error: etcd refused the call (the most specific subclass).
    :raises InvalidResponseError: the answer is not a v3 gateway answer.
    """
    if status == 200:
        return decode_json(body)
    raise refusal(status, body, endpoint, path)


def refusal(status: int, body: bytes, endpoint: str, path: str) -> V3Error | InvalidResponseError:
    """The error of an answer that is not a 200 (not raised)."""
    error = error_from_body(status, body)
    return _not_v3(status, body, endpoint, path) if error is None else error


def refused_unapplied(exc: AmbiguousResultError) -> V3Error | None:
    """The v3 error of a 5xx answer that says the call was refused before it was applied
    (so it is not ambiguous at all), e.g. ``unhealthy cluster`` on a member change."""
    cause = exc.__cause__
    if not isinstance(cause, ServerError):
        return None
    error = error_from_body(cause.status, cause.body)
    return error if isinstance(error, _NEVER_APPLIED) else None


def unambiguous(exc: AmbiguousResultError) -> Exception:
    """What an ambiguous failure of a v3 call is: the v3 error of a 5xx refused before it was
    applied (chained to ``exc``), else ``exc`` itself (to raise)."""
    refused = refused_unapplied(exc)
    if refused is None:
        return exc
    refused.__cause__ = exc
    return refused


class TokenAuth:
    """The token of one client and the decisions around it, without I/O.

    :param username: the etcd user (``None``: no authentication).
    :param password: its password.
    """

    def __init__(self, username: str | None, password: str | None) -> None:
        self.username = username
        self._password = password or ""
        self._lock = threading.Lock()  # bookkeeping only: never held across I/O
        self.token: str | None = None
        """The current token (``None``: none yet, or auth is off)."""
        self.auth_off = False
        """``True`` once authenticate said auth is not enabled."""

    def needs_token(self) -> bool:
        """Whether a call must authenticate first (a user, no token, auth not known off)."""
        return self.username is not None and self.token is None and not self.auth_off

    def credentials(self) -> Json:
        """The body of :data:`AUTHENTICATE`."""
        return {"name": self.username or "", "password": self._password}

    def authenticated(self, data: Json) -> str:
        """The token of an :data:`AUTHENTICATE` answer (not stored: the shell stores it).

        :raises InvalidResponseError: the answer has no token.
        """
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise InvalidResponseError("etcd's authenticate answer has no token")
        self.auth_off = False
        return token

    def disabled(self) -> None:
        """Authenticate answered that auth is not enabled: send no token from now on."""
        self.auth_off = True

    @staticmethod
    def headers(token: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The headers of a call: ``extra`` and the token, if any."""
        headers = dict(extra or {})
        if token:
            headers["Authorization"] = token
        return headers

    def retry(self, error: V3Error, token: str | None, attempt: int) -> bool:
        """Whether a refused call authenticates again and is sent once more: the first
        attempt only, with a user, refused for an invalid or expired token, or for no token
        when none was sent (auth was enabled meanwhile). Forgets ``token`` if so."""
        if attempt or self.username is None:
            return False
        if isinstance(error, InvalidAuthToken) or (isinstance(error, NoCredentials) and token is None):
            with self._lock:
                if self.token == token:
                    self.token = None
                    self.auth_off = False
            return True
        return False


# ---------------------------------------------------------------------- the blocking shell


class TokenHolder:
    """What a caller, blocking (:class:`Caller`) or asyncio, shows of its token auth."""

    auth: TokenAuth

    @property
    def username(self) -> str | None:
        """The etcd user (``None``: no authentication)."""
        return self.auth.username

    @property
    def token(self) -> str | None:
        """The current token (``None``: none yet, or auth is off)."""
        return self.auth.token


class Caller(TokenHolder):
    """Sends v3 calls and keeps the auth token.

    :param transport: the client's transport (created without Basic auth).
    :param username: the etcd user (``None``: no authentication).
    :param password: its password.
    """

    def __init__(self, transport: Transport, username: str | None, password: str | None):
        self.transport = transport
        self.auth = TokenAuth(username, password)
        """The token and the decisions around it."""
        self._lock = threading.Lock()  # one thread authenticates at a time

    def _current_token(self, deadline: float | None) -> str | None:
        if self.auth.needs_token():
            with self._lock:
                if self.auth.needs_token():
                    self.auth.token = self.authenticate(deadline)
        return self.auth.token

    def authenticate(self, deadline: float | None = None) -> str | None:
        """Get a fresh token with the client's user name and password.

        :returns: the token, or ``None`` when auth is not enabled.
        :raises AuthenticationFailed: wrong user name or password.
        """
        try:
            data = self._post(AUTHENTICATE, self.auth.credentials(), None, idempotent=True,
                              timeout=time_left(deadline))
        except AuthNotEnabled:
            self.auth.disabled()
            return None
        return self.auth.authenticated(data)

    def refresh_token(self) -> str | None:
        """Authenticate again now and use the new token.

        :returns: the token (``None``: no user name, or auth is off).
        :raises AuthenticationFailed: wrong user name or password.
        """
        if self.username is None:
            return None
        with self._lock:
            self.auth.token = None
            self.auth.token = self.authenticate(call_deadline(DEFAULT, self.transport.timeout))
            return self.auth.token

    def _post(
        self, path: str, body: Json, token: str | None, *, idempotent: bool,
        timeout: CallTimeout, endpoint: str | None = None,
        request_timeout: CallTimeout = DEFAULT,
    ) -> Json:
        try:
            result = self.transport.request(
                "POST", path, json=body, idempotent=idempotent, timeout=timeout,
                endpoint=endpoint, headers=TokenAuth.headers(token), request_timeout=request_timeout,
            )
        except AmbiguousResultError as exc:
            raise unambiguous(exc)  # noqa: B904 - chained to exc when it is another error
        return answer_of(result.status, result.body, result.endpoint, path)

    def call(
        self,
        path: str,
        body: Json,
        *,
        idempotent: bool,
        timeout: CallTimeout = DEFAULT,
        endpoint: str | None = None,
        request_timeout: CallTimeout = DEFAULT,
    ) -> Json:
        """POST ``body`` to ``path`` and return the decoded answer.

        :param path: e.g. ``/v3/kv/range``.
        :param body: the request object.
        :param idempotent: ``False``: never re-sent after an ambiguous failure.
        :param timeout: whole-call deadline (default: the client's), authentication included.
        :param endpoint: send to exactly this endpoint.
        :param request_timeout: the wait of one attempt on one member (default: the
            client's; ``None``: only ``timeout``), e.g. ``None`` for a call that blocks
            until etcd grants it (a lock).
        :returns: the answer's JSON object.
        :raises V3Error: etcd refused the call (the most specific subclass).
        :raises InvalidResponseError: the answer is not a v3 gateway answer.
        :raises ClusterError, DeadlineExceeded, AmbiguousResultError: see the transport.
        """
        deadline = call_deadline(timeout, self.transport.timeout)
        for attempt in (0, 1):
            token = self._current_token(deadline)
            try:
                return self._post(path, body, token, idempotent=idempotent,
                                  timeout=time_left(deadline), endpoint=endpoint,
                                  request_timeout=request_timeout)
            except V3Error as error:
                if not self.auth.retry(error, token, attempt):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def stream(
        self,
        path: str,
        body: bytes,
        *,
        read_timeout: float | None,
        timeout: CallTimeout = DEFAULT,
        endpoint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> StreamResponse:
        """Open a streaming POST (the watch) and check its status.

        :param headers: more request headers (e.g. ``Grpc-Metadata-hasleader``).
        :returns: the open stream (status 200).
        :raises V3Error: etcd refused it; other errors as for :meth:`call`.
        """
        deadline = call_deadline(timeout, self.transport.timeout)
        for attempt in (0, 1):
            token = self._current_token(deadline)
            resp = self.transport.stream(
                path, method="POST", body=body, content_type=_JSON, read_timeout=read_timeout,
                timeout=time_left(deadline), endpoint=endpoint,
                headers=TokenAuth.headers(token, headers),
            )
            if resp.status == 200:
                return resp
            data = resp.read()
            resp.close()
            error = refusal(resp.status, data, resp.endpoint, path)
            if not isinstance(error, V3Error) or not self.auth.retry(error, token, attempt):
                raise error
        raise AssertionError("unreachable")  # pragma: no cover
