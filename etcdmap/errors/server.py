"""etcd v2 error objects (``{"errorCode", ...}``), one class per code, through one registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from etcdmap.errors.base import EtcdMapError, HistoryLost

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
    """etcd refused a request: the root of every server error of either API.

    v2 keys errors (``{"errorCode", "message", "cause", "index"}``) are this class's direct
    subclasses, one per ``errorCode``; the ``{"message": ...}`` errors of the v2 members and
    auth APIs are :class:`~etcdmap.errors.MemberError` and :class:`~etcdmap.errors.AuthError`;
    v3 errors are :class:`~etcdmap.errors.V3Error`. An error with the same meaning on both
    APIs is an instance of the same class (a v3 "user name not found" is a
    :class:`~etcdmap.errors.UserNotFound`, as on v2).

    :ivar code: etcd v2's ``errorCode`` (0 when the error has none).
    :ivar message: etcd's message.
    :ivar cause: etcd v2's ``cause`` (often the key concerned), ``""`` when absent.
    :ivar index: etcd v2's ``index``: the store index when the error happened (0 if none).
    :ivar status: the HTTP status of the answer (0 when unknown, e.g. an error in a stream).
    :ivar grpc_code: the gRPC status code of a v3 error (0 for v2 errors).
    """

    code: int = 0
    grpc_code: int = 0
    status: int = 0

    def __init__(
        self, message: str = "", cause: str = "", index: int = 0, *, code: int | None = None,
        status: int | None = None,
    ):
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
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
        # One reduction for the whole tree, whatever a subclass's __init__ takes: rebuild the
        # bare exception with its args, then restore every attribute.
        return (_restore, (type(self), self.args), dict(self.__dict__))


def _restore(cls: type[EtcdError], args: tuple[object, ...]) -> EtcdError:
    return cls.__new__(cls, *args)


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
