"""``AttemptError``: the one error of one failed attempt on one endpoint, and its translation.

Every lower-level failure of an attempt -- of etcdmap's fast adapter, of requests' stock
``HTTPAdapter`` or of any mounted adapter -- becomes one :class:`AttemptError` in
:func:`classify`, the only place that knows the exceptions of the layers below. It keeps the
bit the policy layer needs (:attr:`AttemptError.sent`): ``False`` only when the request
provably never reached the member (connection refused, DNS failure, connect timeout, TLS
handshake, a failed cmux priming request), so that even a non-idempotent write may go to the
next member; ``True`` otherwise (read timeout, reset after sending, a protocol error).
"""

from __future__ import annotations

import socket
import ssl

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ReadTimeoutError,
)

__all__ = ["AttemptError", "classify", "is_timeout"]


class AttemptError(requests.ConnectionError):
    """One failed attempt on one endpoint (a ``requests.ConnectionError``).

    :ivar error: the underlying exception (``self`` when there is none).
    :ivar sent: ``False``: the request provably never reached the member; ``True``: it may
        have (and may have been applied).
    :ivar timed_out: the failure is a timeout.
    """

    def __init__(
        self,
        message: str | BaseException,
        *,
        sent: bool,
        timed_out: bool = False,
        request: requests.PreparedRequest | None = None,
    ) -> None:
        super().__init__(str(message), request=request)
        self.error: BaseException = message if isinstance(message, BaseException) else self
        self.sent = sent
        self.timed_out = timed_out


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a timeout of any layer."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, AttemptError):
            return current.timed_out
        if isinstance(current, (TimeoutError, socket.timeout, requests.Timeout,
                                ReadTimeoutError, ConnectTimeoutError)):
            return True
        inner = current.args[0] if current.args else None
        if isinstance(inner, BaseException) and inner is not current:
            current = inner
        elif isinstance(getattr(inner, "reason", None), BaseException):  # MaxRetryError
            current = inner.reason  # type: ignore[union-attr]
        else:
            current = current.__cause__
        seen += 1
    return False


def _reason(exc: BaseException) -> BaseException | None:
    """The urllib3 cause a requests exception wraps (``MaxRetryError.reason``), if any."""
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, "reason", None)
    if isinstance(reason, BaseException):
        return reason
    return inner if isinstance(inner, BaseException) else None


def _root_os_error(exc: BaseException) -> BaseException:
    """The builtin ``OSError`` at the bottom of a requests/urllib3 chain (``exc`` if none), so
    that error entries read the same whatever adapter failed (``ConnectionRefusedError``...)."""
    found: BaseException = exc
    current: BaseException | None = exc
    for _ in range(12):
        if current is None:
            break
        if isinstance(current, OSError) and type(current).__module__ == "builtins":
            found = current
        reason = getattr(current, "reason", None)
        inner = current.args[0] if current.args else None
        if isinstance(reason, BaseException):
            current = reason
        elif isinstance(inner, BaseException) and inner is not current:
            current = inner
        else:
            current = current.__cause__ or current.__context__
    return found


def classify(exc: BaseException, request: requests.PreparedRequest | None = None) -> AttemptError:
    """Translate any exception of an adapter's ``send`` into an :class:`AttemptError`.

    :param exc: what the adapter (or the session) raised.
    :param request: the request of the attempt.
    :returns: the translation (``exc`` itself when it is one already).
    """
    if isinstance(exc, AttemptError):
        return exc
    timed_out = is_timeout(exc)
    if isinstance(exc, requests.ConnectTimeout):  # includes the proxy connect timeout
        return AttemptError(exc, sent=False, timed_out=True, request=request)
    if isinstance(exc, requests.exceptions.SSLError):  # handshake: nothing was sent
        return AttemptError(exc, sent=False, request=request)
    if isinstance(exc, requests.ConnectionError):
        reason = _reason(exc)
        # urllib3 2: NewConnectionError (refused, DNS) is a ConnectTimeoutError subclass.
        never = isinstance(reason, (NewConnectionError, ConnectTimeoutError))
        failure = AttemptError(exc, sent=not never, timed_out=timed_out, request=request)
        failure.error = _root_os_error(exc)
        return failure
    if isinstance(exc, (ConnectionRefusedError, socket.gaierror, ssl.SSLError)):
        return AttemptError(exc, sent=False, request=request)
    return AttemptError(exc, sent=True, timed_out=timed_out, request=request)
