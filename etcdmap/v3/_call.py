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

Thread-safety: :class:`Caller` is thread-safe; the token is shared by every thread.
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

__all__ = ["Caller"]

Json = dict[str, Any]
_JSON = "application/json"


def _not_v3(status: int, body: bytes, endpoint: str, path: str = "") -> InvalidResponseError:
    text = body[:120].decode("utf-8", "replace").strip()
    hint = (f" (no {path or '/v3'} route here: the server is not an etcd v3 gateway, or older "
            "than this call needs, e.g. /v3/auth/status is new in etcd 3.5)") if status == 404 else ""
    return InvalidResponseError(
        f"{endpoint} answered HTTP {status} {text!r}: not an etcd v3 gateway answer{hint}",
        endpoint,
    )


def _refused_unapplied(exc: AmbiguousResultError) -> V3Error | None:
    """The v3 error of a 5xx answer that says the call was refused before it was applied
    (so it is not ambiguous at all), e.g. ``unhealthy cluster`` on a member change."""
    cause = exc.__cause__
    if not isinstance(cause, ServerError):
        return None
    error = error_from_body(cause.status, cause.body)
    return error if isinstance(error, _NEVER_APPLIED) else None


_NEVER_APPLIED = (UnhealthyCluster,)


class Caller:
    """Sends v3 calls and keeps the auth token.

    :param transport: the client's transport (created without Basic auth).
    :param username: the etcd user (``None``: no authentication).
    :param password: its password.
    """

    def __init__(self, transport: Transport, username: str | None, password: str | None):
        self.transport = transport
        self.username = username
        self._password = password or ""
        self._lock = threading.Lock()
        self._token: str | None = None
        self._auth_off = False  # authenticate said auth is not enabled

    # ------------------------------------------------------------------ token

    @property
    def token(self) -> str | None:
        """The current token (``None``: none yet, or auth is off)."""
        return self._token

    def _deadline(self, timeout: CallTimeout) -> float | None:
        if timeout is DEFAULT:
            timeout = self.transport.timeout
        return None if timeout is None else time.monotonic() + timeout

    @staticmethod
    def _left(deadline: float | None) -> float | None:
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the call's timeout ran out (while authenticating)")
        return left

    def _current_token(self, deadline: float | None) -> str | None:
        if self.username is None:
            return None
        with self._lock:
            if self._token is None and not self._auth_off:
                self._token = self.authenticate(deadline)
            return self._token

    def authenticate(self, deadline: float | None = None) -> str | None:
        """Get a fresh token with the client's user name and password.

        :returns: the token, or ``None`` when auth is not enabled.
        :raises AuthenticationFailed: wrong user name or password.
        """
        body = {"name": self.username or "", "password": self._password}
        try:
            data = self._post("/v3/auth/authenticate", body, None, idempotent=True,
                              timeout=self._left(deadline))
        except AuthNotEnabled:
            self._auth_off = True
            return None
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise InvalidResponseError("etcd's authenticate answer has no token")
        self._auth_off = False
        return token

    def refresh_token(self) -> str | None:
        """Authenticate again now and use the new token.

        :returns: the token (``None``: no user name, or auth is off).
        :raises AuthenticationFailed: wrong user name or password.
        """
        if self.username is None:
            return None
        with self._lock:
            self._token = None
            self._token = self.authenticate(self._deadline(DEFAULT))
            return self._token

    def _forget(self, token: str | None) -> None:
        with self._lock:
            if self._token == token:
                self._token = None
                self._auth_off = False

    def _retry_auth(self, error: V3Error, token: str | None, attempt: int) -> bool:
        if attempt or self.username is None:
            return False
        if isinstance(error, InvalidAuthToken) or (isinstance(error, NoCredentials) and token is None):
            self._forget(token)
            return True
        return False

    # ------------------------------------------------------------------ calls

    def _post(
        self, path: str, body: Json, token: str | None, *, idempotent: bool,
        timeout: CallTimeout, endpoint: str | None = None,
        request_timeout: CallTimeout = DEFAULT,
    ) -> Json:
        headers = {"Authorization": token} if token else {}
        try:
            result = self.transport.request(
                "POST", path, json=body, idempotent=idempotent, timeout=timeout,
                endpoint=endpoint, headers=headers, request_timeout=request_timeout,
            )
        except AmbiguousResultError as exc:
            refused = _refused_unapplied(exc)
            if refused is None:
                raise
            raise refused from exc
        if result.status == 200:
            return decode_json(result.body)
        error = error_from_body(result.status, result.body)
        if error is None:
            raise _not_v3(result.status, result.body, result.endpoint, path)
        raise error

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
        deadline = self._deadline(timeout)
        for attempt in (0, 1):
            token = self._current_token(deadline)
            try:
                return self._post(path, body, token, idempotent=idempotent,
                                  timeout=self._left(deadline), endpoint=endpoint,
                                  request_timeout=request_timeout)
            except V3Error as error:
                if not self._retry_auth(error, token, attempt):
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
        deadline = self._deadline(timeout)
        for attempt in (0, 1):
            token = self._current_token(deadline)
            extra = dict(headers or {})
            if token:
                extra["Authorization"] = token
            resp = self.transport.stream(
                path, method="POST", body=body, content_type=_JSON, read_timeout=read_timeout,
                timeout=self._left(deadline), endpoint=endpoint, headers=extra,
            )
            if resp.status == 200:
                return resp
            data = resp.read()
            resp.close()
            error = error_from_body(resp.status, data)
            if error is None:
                raise _not_v3(resp.status, data, resp.endpoint, path)
            if not self._retry_auth(error, token, attempt):
                raise error
        raise AssertionError("unreachable")  # pragma: no cover
