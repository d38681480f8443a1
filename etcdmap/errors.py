"""The etcdmap exception tree.

Every exception etcdmap raises derives from :class:`EtcdMapError`::

    EtcdMapError
    ├── EtcdError                      server answered {"errorCode": ...}; .code .message .cause .index
    │   ├── KeyNotFound (100)          also a KeyError
    │   ├── CompareFailed (101)
    │   ├── NotAFile (102)
    │   ├── NotADirectory (104)
    │   ├── NodeExists (105)
    │   ├── RootReadOnly (107)
    │   ├── DirectoryNotEmpty (108)
    │   ├── Unauthorized (110)         also an AuthError
    │   ├── RequestError (2xx)         also a ValueError
    │   │   ├── PrevValueRequired (201), TTLNaN (202), IndexNaN (203),
    │   │   ├── InvalidField (209), InvalidForm (210),
    │   │   └── RefreshValue (211), RefreshTTLRequired (212)
    │   ├── RaftInternal (300)
    │   │   └── DirectoryTTLUnsupported    the etcd 3.5 directory-TTL regression
    │   ├── LeaderElect (301)
    │   ├── WatcherCleared (400)       also a HistoryLost
    │   └── EventIndexCleared (401)    also a HistoryLost
    ├── HistoryLost                    a watch's start is older than the store's history
    ├── ClusterError                   every endpoint failed; .errors lists one failure per endpoint
    ├── ServerError                    one member answered 5xx (an entry of ClusterError.errors)
    ├── WatcherClosed                  Watcher.close() was called
    ├── NoEndpointsError               no endpoint configured (also a ValueError)
    ├── NoLeaderEndpointError
    ├── TooManyRedirectsError
    ├── InvalidResponseError           not JSON, HTML, empty body: probably not an etcd v2 endpoint
    │   └── V2DisabledError            etcd answered 404 "page not found": start it with --enable-v2=true
    ├── DeadlineExceeded               the whole-call ``timeout`` ran out (also a TimeoutError)
    ├── AmbiguousResultError           a non-idempotent write was sent; no answer or a 5xx came
    ├── DecodeError                    EtcdMap's codec cannot decode a stored value (also a ValueError)
    ├── ConfigValidationError          a bound model rejects the directory's content (also a ValueError)
    ├── MemberError                    {"message": ...} errors of /v2/members; .status .message
    │   ├── MemberNotFound (404)
    │   ├── MemberExists (409)
    │   ├── MemberRemoved (410)
    │   ├── MemberChangeRefused (500)  etcd's strict reconfig check refused; not applied
    │   └── NoLeaderError (503 "During election")
    └── AuthError                      {"message": ...} errors of /v2/auth; .status .message
        ├── AuthNotFound (404)         UserNotFound, RoleNotFound
        ├── AuthAlreadyExists (409)    UserExists, RoleExists
        ├── InsufficientCredentials (401)
        └── Unauthorized (also an EtcdError, code 110)

Server errors are mapped by their ``errorCode`` (never by the HTTP status: etcd sends 401
"event index cleared" as HTTP 400 and 110 "unauthorized" as HTTP 401) through one registry,
:func:`error_for_code`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = [
    "AmbiguousResultError",
    "AuthAlreadyExists",
    "AuthError",
    "AuthNotFound",
    "ClusterError",
    "CompareFailed",
    "ConfigValidationError",
    "DeadlineExceeded",
    "DecodeError",
    "DirectoryNotEmpty",
    "DirectoryTTLUnsupported",
    "EtcdError",
    "EtcdMapError",
    "EventIndexCleared",
    "HistoryLost",
    "IndexNaN",
    "InsufficientCredentials",
    "InvalidField",
    "InvalidForm",
    "InvalidResponseError",
    "KeyNotFound",
    "LeaderElect",
    "MemberChangeRefused",
    "MemberError",
    "MemberExists",
    "MemberNotFound",
    "MemberRemoved",
    "NoEndpointsError",
    "NoLeaderEndpointError",
    "NoLeaderError",
    "NodeExists",
    "NotADirectory",
    "NotAFile",
    "PrevValueRequired",
    "RaftInternal",
    "RefreshTTLRequired",
    "RefreshValue",
    "RequestError",
    "RoleExists",
    "RoleNotFound",
    "RootReadOnly",
    "ServerError",
    "TTLNaN",
    "TooManyRedirectsError",
    "Unauthorized",
    "UserExists",
    "UserNotFound",
    "V2DisabledError",
    "ValueRequired",
    "WatcherCleared",
    "WatcherClosed",
    "error_for_code",
]


class EtcdMapError(Exception):
    """Root of every exception raised by etcdmap."""


class HistoryLost(EtcdMapError):
    """The store no longer has the changes a watch asked for (v2: more than 1,000 events
    passed, error 401/400; v3: the start revision was compacted). Watches of the mapping layer
    recover by re-reading and sending ``resynced``; a client-level watcher raises it."""


# --------------------------------------------------------------------------- server errors

_E = TypeVar("_E", bound="type[EtcdError]")
_REGISTRY: dict[int, type[EtcdError]] = {}


def _code(code: int) -> Callable[[_E], _E]:
    """Class decorator: register an :class:`EtcdError` subclass for an etcd ``errorCode``."""

    def register(cls: _E) -> _E:
        cls.code = code
        _REGISTRY[code] = cls
        return cls

    return register


class EtcdError(EtcdMapError):
    """The server answered with an etcd error object ``{"errorCode", "message", "cause", "index"}``.

    :ivar code: etcd's ``errorCode``.
    :ivar message: etcd's ``message``.
    :ivar cause: etcd's ``cause`` (often the key concerned), ``""`` when absent.
    :ivar index: etcd's ``index``: the store index when the error happened (0 for request errors).
    """

    code: int = 0

    def __init__(self, message: str = "", cause: str = "", index: int = 0, *, code: int | None = None):
        if code is not None:
            self.code = code
        self.message = message
        self.cause = cause
        self.index = index
        # Exception's own __init__, not super(): with multiple inheritance (Unauthorized is also
        # an AuthError) super() would reach a sibling's __init__ with another signature.
        Exception.__init__(self, message, cause, index)

    def __str__(self) -> str:
        # The Go client's format: "100: Key not found (/foo) [18]".
        return f"{self.code}: {self.message} ({self.cause}) [{self.index}]"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code}, message={self.message!r}, "
            f"cause={self.cause!r}, index={self.index})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_etcd_error, (type(self), self.message, self.cause, self.index, self.code))


def _rebuild_etcd_error(
    cls: type[EtcdError], message: str, cause: str, index: int, code: int
) -> EtcdError:
    return cls(message, cause, index, code=code)


@_code(100)
class KeyNotFound(EtcdError, KeyError):
    """100: the key does not exist. Also a :class:`KeyError`, so ``except KeyError`` works."""

    def __str__(self) -> str:  # KeyError.__str__ would repr() the args tuple
        return EtcdError.__str__(self)


@_code(101)
class CompareFailed(EtcdError):
    """101: a compare-and-swap or compare-and-delete condition did not hold."""


@_code(102)
class NotAFile(EtcdError):
    """102: the operation needs a file (a leaf key) but the key is a directory."""


@_code(104)
class NotADirectory(EtcdError):
    """104: a path element that must be a directory is a file."""


@_code(105)
class NodeExists(EtcdError):
    """105: the key already exists (create / ``prev_exist=False``)."""


@_code(107)
class RootReadOnly(EtcdError):
    """107: the root ``/`` cannot be written or deleted."""


@_code(108)
class DirectoryNotEmpty(EtcdError):
    """108: deleting a non-empty directory needs ``recursive=True``."""


class RequestError(EtcdError, ValueError):
    """2xx: etcd rejected the request's parameters. Also a :class:`ValueError`."""


@_code(200)
class ValueRequired(RequestError):
    """200: a value is required (legacy)."""


@_code(201)
class PrevValueRequired(RequestError):
    """201: ``prevValue`` was present but empty."""


@_code(202)
class TTLNaN(RequestError):
    """202: the TTL is not a non-negative integer."""


@_code(203)
class IndexNaN(RequestError):
    """203: an index parameter is not a non-negative integer."""


@_code(209)
class InvalidField(RequestError):
    """209: a boolean or other field has an invalid value."""


@_code(210)
class InvalidForm(RequestError):
    """210: the form could not be parsed."""


@_code(211)
class RefreshValue(RequestError):
    """211: a value was given on a refresh."""


@_code(212)
class RefreshTTLRequired(RequestError):
    """212: a refresh needs a TTL."""


@_code(300)
class RaftInternal(EtcdError):
    """300: an internal server error (request timed out, server stopping, ...)."""


class DirectoryTTLUnsupported(RaftInternal):
    """etcd 3.5.x cannot update a directory's TTL (error 300 "Not a file"); 3.4 can.

    This is a server regression (etcd commit 5c9511419, v3.5.0 through v3.5.33). Work around it by
    setting the TTL when the directory is created, or by keeping the TTL on a leaf key instead.
    """


@_code(301)
class LeaderElect(EtcdError):
    """301: a leader election is in progress."""


@_code(400)
class WatcherCleared(EtcdError, HistoryLost):
    """400: the watcher was cleared by a server recovery."""


@_code(401)
class EventIndexCleared(EtcdError, HistoryLost):
    """401: the watched index is older than etcd's 1,000-event history.

    ``.index`` is the current store index: re-read, then watch from ``index + 1``.
    """


# 2xx codes etcd defines but 3.x never sends still map to RequestError.
for _c in (204, 205, 206, 207, 208):
    _REGISTRY[_c] = RequestError


def error_for_code(
    code: int, message: str = "", cause: str = "", index: int = 0
) -> EtcdError:
    """Build the exception for an etcd ``errorCode``; unknown codes give a plain :class:`EtcdError`."""
    cls = _REGISTRY.get(code)
    if cls is None:
        return EtcdError(message, cause, index, code=code)
    if cls is RaftInternal and "Not a file" in cause:
        return DirectoryTTLUnsupported(message, cause, index, code=code)
    return cls(message, cause, index, code=code)


# --------------------------------------------------------------------------- client-side errors


class ClusterError(EtcdMapError):
    """Every endpoint tried failed. ``errors`` holds one ``(endpoint, exception)`` per attempt.

    :ivar maybe_applied: ``True`` when at least one attempt reached a member before failing
        (a timeout or reset after sending, a 5xx): a write may still be applied later, even
        after a newer write (a frozen member applies what sits in its socket buffer when it
        resumes). ``False`` means no member ever received the request.
    """

    def __init__(
        self,
        errors: Sequence[tuple[str, BaseException]],
        message: str = "",
        *,
        maybe_applied: bool = False,
    ):
        self.errors = list(errors)
        self.maybe_applied = maybe_applied
        detail = "".join(f"; error #{i}: {ep}: {err}" for i, (ep, err) in enumerate(self.errors))
        super().__init__((message or "etcd cluster is unavailable or misconfigured") + detail)


class NoEndpointsError(EtcdMapError, ValueError):
    """No endpoint is configured."""


class NoLeaderEndpointError(EtcdMapError):
    """``Selection.PRIORITIZE_LEADER`` could not find the leader's client URL."""


class TooManyRedirectsError(EtcdMapError):
    """More than ``max_redirects`` redirects were followed."""


class InvalidResponseError(EtcdMapError):
    """The endpoint's answer is not an etcd v2 answer (not JSON, HTML, empty body).

    :ivar endpoint: the endpoint that answered.
    """

    def __init__(self, message: str, endpoint: str = ""):
        self.endpoint = endpoint
        super().__init__(message)


class V2DisabledError(InvalidResponseError):
    """etcd answered ``404 page not found`` on ``/v2/keys``: start it with ``--enable-v2=true``."""


class DeadlineExceeded(EtcdMapError, TimeoutError):
    """The call's overall ``timeout`` ran out (across retries and endpoints).

    :ivar maybe_applied: ``True`` when an attempt reached a member before the deadline (see
        :attr:`ClusterError.maybe_applied`).
    """

    def __init__(self, message: str = "", *, maybe_applied: bool = False):
        self.maybe_applied = maybe_applied
        super().__init__(message)


class AmbiguousResultError(EtcdMapError):
    """A non-idempotent write was sent and its outcome is unknown: no answer came (timeout,
    reset), or the member answered 5xx, which etcd also answers after an internal timeout.

    etcdmap never re-sends such a write to another member (that could apply it twice). Read the
    key to find out what happened.

    :ivar endpoint: the member the write was sent to (``""`` when unknown).
    :ivar status: the HTTP status of the member's 5xx answer; ``None`` when no answer came.
    :ivar body: the body of that answer (``b""`` when none).
    :ivar maybe_applied: always ``True`` here (see :class:`MemberChangeRefused` for a 5xx
        that is known not to have applied).
    """

    def __init__(
        self, message: str = "", *, endpoint: str = "", status: int | None = None, body: bytes = b""
    ) -> None:
        self.endpoint = endpoint
        self.status = status
        self.body = body
        self.maybe_applied = True
        super().__init__(message)

    @classmethod
    def after(cls, endpoint: str, error: BaseException) -> AmbiguousResultError:
        """The error for a write sent to ``endpoint`` that failed with ``error``.

        :param endpoint: the member the write was sent to.
        :param error: a :class:`ServerError` (the member answered 5xx) or the I/O error.
        :returns: the error, saying what the member answered when it answered.
        """
        tail = "it may or may not have been applied, and it is not re-sent to another member"
        if isinstance(error, ServerError):
            return cls(
                f"the request was sent to {endpoint}, which answered HTTP {error.status} "
                f"({error.detail}); etcd also answers 5xx after an internal timeout, so {tail}",
                endpoint=endpoint, status=error.status, body=error.body,
            )
        return cls(
            f"the request was sent to {endpoint} but no answer came ({error}); {tail}",
            endpoint=endpoint,
        )


class DecodeError(EtcdMapError, ValueError):
    """:class:`etcdmap.EtcdMap`'s codec could not decode the value stored at a key.

    The original codec exception is chained as ``__cause__``.

    :ivar key: the absolute etcd key whose value is malformed.
    :ivar codec: the codec's name.
    """

    def __init__(self, key: str, codec: str, detail: str = ""):
        self.key = key
        self.codec = codec
        msg = f"cannot decode the value of {key!r} with the {codec!r} codec"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class ConfigValidationError(EtcdMapError, ValueError):
    """The content of an etcd directory does not validate against a bound model
    (:meth:`etcdmap.EtcdMap.bind`, :mod:`etcdmap.settings`).

    :ivar path: the etcd directory.
    :ivar model: the model's class name.
    :ivar problems: ``(field, message, input)`` per problem; ``field`` is a dotted path
        (``"db.port"``), ``input`` the offending value (:attr:`NO_INPUT` for a missing field).
    :ivar fields: the dotted paths of the invalid fields, in order, without duplicates.
    """

    NO_INPUT: object = object()
    """The ``input`` of a problem that has none (a missing field)."""

    def __init__(self, path: str, model: str, problems: Sequence[tuple[str, str, object]]):
        self.path = path
        self.model = model
        self.problems = list(problems)
        self.fields = tuple(dict.fromkeys(field for field, _, _ in self.problems))
        details = "; ".join(
            f"{field or '(root)'}: {msg}" + ("" if got is self.NO_INPUT else f" (got {got!r})")
            for field, msg, got in self.problems
        )
        super().__init__(
            f"{path}: invalid configuration for {model} ({len(self.problems)} problem"
            f"{'s' if len(self.problems) != 1 else ''}: fix these keys in etcd): {details}"
        )


class MemberError(EtcdMapError):
    """An error answer ``{"message": ...}`` from ``/v2/members``.

    :ivar status: the HTTP status.
    :ivar message: the server's message.
    """

    def __init__(self, message: str, status: int = 0):
        self.message = message
        self.status = status
        super().__init__(f"{message} (HTTP {status})" if status else message)


class MemberNotFound(MemberError):
    """404: no such member."""


class MemberChangeRefused(MemberError):
    """500 ``Internal Server Error`` to a member add/update/remove, answered at once and with
    the member list unchanged: etcd's strict reconfiguration check refused the change (for
    about 5 s after a member (re)connects, or when the change would lose quorum). It was not
    applied; retrying in a few seconds is the fix.

    :ivar endpoint: the member that refused.
    :ivar maybe_applied: always ``False``.
    """

    def __init__(self, message: str, status: int = 500, *, endpoint: str = "") -> None:
        super().__init__(message, status)
        self.endpoint = endpoint
        self.maybe_applied = False


class MemberExists(MemberError):
    """409: the peer URL or member id already exists."""


class MemberRemoved(MemberError):
    """410: the member was permanently removed."""


class NoLeaderError(MemberError):
    """503: the cluster has no leader (an election is in progress or quorum is lost)."""


class AuthError(EtcdMapError):
    """An error answer ``{"message": ...}`` from ``/v2/auth``, or a refused key request.

    :ivar status: the HTTP status.
    :ivar message: the server's message.
    """

    def __init__(self, message: str, status: int = 0):
        self.message = message
        self.status = status
        super().__init__(f"{message} (HTTP {status})" if status else message)


class AuthNotFound(AuthError):
    """404: the user or role does not exist."""


class UserNotFound(AuthNotFound):
    """404: the user does not exist."""


class RoleNotFound(AuthNotFound):
    """404: the role does not exist."""


class AuthAlreadyExists(AuthError):
    """409: the user, role, grant or auth state already exists."""


class UserExists(AuthAlreadyExists):
    """409: the user already exists."""


class RoleExists(AuthAlreadyExists):
    """409: the role already exists."""


class InsufficientCredentials(AuthError):
    """401: the credentials are missing, wrong, or lack the root role."""


@_code(110)
class Unauthorized(EtcdError, AuthError):
    """110: a key request was refused: no credentials, wrong credentials or no permission.

    etcd answers all three identically.
    """

    def __init__(self, message: str = "", cause: str = "", index: int = 0, *, code: int | None = None):
        EtcdError.__init__(self, message, cause, index, code=code)
        self.status = 401

    def __str__(self) -> str:
        return EtcdError.__str__(self)


class ServerError(EtcdMapError):
    """A member answered 5xx; the transport failed over (an entry of ``ClusterError.errors``).

    Unlike the Go client, the etcd error in the body is kept.

    :ivar endpoint: the member.
    :ivar status: the HTTP status.
    :ivar body: the raw body.
    :ivar etcd_error: the body's etcd error (e.g. ``RaftInternal`` with cause
        ``etcdserver: request timed out``), ``None`` when the body is not one.
    """

    def __init__(
        self, endpoint: str, status: int, body: bytes, etcd_error: EtcdError | None
    ) -> None:
        self.endpoint = endpoint
        self.status = status
        self.body = body
        self.etcd_error = etcd_error
        self.detail = str(etcd_error) if etcd_error is not None else body[:200].decode(
            "utf-8", "replace"
        ).strip()
        """The answer in words: the etcd error, else the start of the body."""
        super().__init__(f"etcd member {endpoint} returned HTTP {status}: {self.detail}")


class WatcherClosed(EtcdMapError):
    """:meth:`Watcher.close` was called (also ends iteration)."""
