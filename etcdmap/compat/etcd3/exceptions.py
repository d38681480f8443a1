"""python-etcd3 0.12's exceptions, and the one table that maps etcdmap's errors onto them.

python-etcd3 turned four gRPC status codes into its own classes and let every other gRPC
error through as a raw ``grpc.RpcError``; the drop-in does the same::

    Etcd3Exception
    ├── WatchTimedOut             a watch was not created, or no event came, in time
    ├── InternalServerError       gRPC INTERNAL
    ├── ConnectionFailedError     gRPC UNAVAILABLE (no leader, member stopping); no member
    │                             could be reached; a write was sent and no answer came
    ├── ConnectionTimeoutError    gRPC DEADLINE_EXCEEDED; the call's deadline ran out
    ├── PreconditionFailedError   gRPC FAILED_PRECONDITION
    ├── RevisionCompactedError    a watch's start revision was compacted (.compacted_revision)
    └── LockTimedOut              (new) ``with client.lock(...)`` did not get the lock
    RpcError                      every other gRPC status: ``.code()``, ``.details()``; a
                                  ``grpc.RpcError`` when grpcio is installed (never required)

Each raised exception chains the etcdmap error it stands for (``__cause__``).

Thread-safety: the classes are plain exceptions; :func:`translate` is pure.
"""

from __future__ import annotations

import enum
import functools
import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    DeadlineExceeded,
    EtcdMapError,
    InvalidResponseError,
)
from etcdmap.v3.errors import FailedPrecondition, ServerTimeout, Unavailable, V3Error

__all__ = [
    "ConnectionFailedError",
    "ConnectionTimeoutError",
    "Etcd3Exception",
    "InternalServerError",
    "LockTimedOut",
    "PreconditionFailedError",
    "RevisionCompactedError",
    "RpcError",
    "StatusCode",
    "WatchTimedOut",
    "handle_errors",
    "reraise",
    "translate",
]


class Etcd3Exception(Exception):
    """The root of python-etcd3's own exceptions."""


class WatchTimedOut(Etcd3Exception):
    """A watch was not created, or ``watch_once`` saw no event, within the timeout."""


class InternalServerError(Etcd3Exception):
    """etcd answered gRPC INTERNAL."""


class ConnectionFailedError(Etcd3Exception):
    """No etcd member could be reached or it is unavailable (gRPC UNAVAILABLE)."""

    def __str__(self) -> str:
        return "etcd connection failed"


class ConnectionTimeoutError(Etcd3Exception):
    """The call ran out of time (gRPC DEADLINE_EXCEEDED)."""

    def __str__(self) -> str:
        return "etcd connection timeout"


class PreconditionFailedError(Etcd3Exception):
    """etcd answered gRPC FAILED_PRECONDITION (e.g. ``lease already exists``)."""


class RevisionCompactedError(Etcd3Exception):
    """A watch asked for history that was compacted away.

    :ivar compacted_revision: the oldest revision etcd still keeps.
    """

    def __init__(self, compacted_revision: int) -> None:
        self.compacted_revision = compacted_revision
        super().__init__()


class LockTimedOut(Etcd3Exception):
    """``with client.lock(name):`` gave up waiting for the lock (python-etcd3 entered the
    block without the lock)."""


def _grpc() -> Any:
    """grpcio when it is installed (then :class:`RpcError` is a ``grpc.RpcError``)."""
    try:
        return importlib.import_module("grpc")
    except ImportError:
        return None


class _StatusCode(enum.Enum):
    """gRPC's status codes, as ``grpc.StatusCode`` spells them, for machines without grpcio."""

    OK = (0, "ok")
    CANCELLED = (1, "cancelled")
    UNKNOWN = (2, "unknown")
    INVALID_ARGUMENT = (3, "invalid argument")
    DEADLINE_EXCEEDED = (4, "deadline exceeded")
    NOT_FOUND = (5, "not found")
    ALREADY_EXISTS = (6, "already exists")
    PERMISSION_DENIED = (7, "permission denied")
    RESOURCE_EXHAUSTED = (8, "resource exhausted")
    FAILED_PRECONDITION = (9, "failed precondition")
    ABORTED = (10, "aborted")
    OUT_OF_RANGE = (11, "out of range")
    UNIMPLEMENTED = (12, "unimplemented")
    INTERNAL = (13, "internal")
    UNAVAILABLE = (14, "unavailable")
    DATA_LOSS = (15, "data loss")
    UNAUTHENTICATED = (16, "unauthenticated")


_GRPC = _grpc()
StatusCode: Any = _GRPC.StatusCode if _GRPC is not None else _StatusCode
"""``grpc.StatusCode`` when grpcio is installed, else a copy of it."""
_NAMES = {member.value[0]: member.name for member in _StatusCode}

if TYPE_CHECKING:
    _RpcBase = Exception
else:
    _RpcBase = _GRPC.RpcError if _GRPC is not None else Exception


class RpcError(_RpcBase):
    """An etcd error python-etcd3 let through untranslated, as gRPC reported it.

    It is a ``grpc.RpcError`` when grpcio is installed, so ``except grpc.RpcError`` written
    for python-etcd3 still catches it.

    :param code: the gRPC status code number (e.g. 11 for OUT_OF_RANGE).
    :param details: etcd's text, e.g. ``"etcdserver: mvcc: required revision has been compacted"``.
    """

    def __init__(self, code: int, details: str) -> None:
        super().__init__(details)
        self._code = code
        self._details = details

    def code(self) -> Any:
        """The status code, a ``grpc.StatusCode`` member (or its copy without grpcio)."""
        return StatusCode[_NAMES.get(self._code, "UNKNOWN")]

    def details(self) -> str:
        """etcd's text."""
        return self._details

    def __str__(self) -> str:
        return f"{self._details} ({_NAMES.get(self._code, self._code)})"


# The one table: etcdmap error class -> python-etcd3 class, first match wins. A v3 error not
# listed here is looked up by its gRPC code in _BY_CODE, then becomes an RpcError.
_BY_CLASS: tuple[tuple[type[BaseException], type[Etcd3Exception]], ...] = (
    (ServerTimeout, ConnectionTimeoutError),
    (Unavailable, ConnectionFailedError),
    (FailedPrecondition, PreconditionFailedError),
    (DeadlineExceeded, ConnectionTimeoutError),
    (AmbiguousResultError, ConnectionFailedError),
    (ClusterError, ConnectionFailedError),
    (InvalidResponseError, ConnectionFailedError),
)
_BY_CODE: dict[int, type[Etcd3Exception]] = {
    4: ConnectionTimeoutError, 9: PreconditionFailedError, 13: InternalServerError,
    14: ConnectionFailedError,
}


def translate(exc: BaseException) -> BaseException:
    """The python-etcd3 exception that stands for ``exc`` (``exc`` itself when none does:
    argument errors stay ``TypeError``/``ValueError``).

    :param exc: an etcdmap error, or a ``grpc.RpcError`` (python-etcd3 code hands those on).
    :returns: the exception to raise, its ``__cause__`` set to ``exc``.
    """
    out: BaseException | None = None
    for source, target in _BY_CLASS:
        if isinstance(exc, source):
            out = target(str(exc))
            break
    else:
        if isinstance(exc, V3Error):
            cls = _BY_CODE.get(exc.grpc_code)
            out = cls(str(exc)) if cls is not None else RpcError(exc.grpc_code, exc.message)
        elif isinstance(exc, EtcdMapError):
            out = ConnectionFailedError(str(exc))
        elif _GRPC is not None and isinstance(exc, _GRPC.RpcError) and not isinstance(exc, RpcError):
            cls = _BY_CODE.get(_code_number(exc))
            out = cls() if cls is not None else None
    if out is None:
        return exc
    out.__cause__ = exc
    return out


def _code_number(exc: Any) -> int:
    try:
        return int(exc.code().value[0])
    except (AttributeError, TypeError, IndexError, ValueError):
        return -1


F = TypeVar("F", bound=Callable[..., Any])


def reraise(exc: BaseException) -> NoReturn:
    """Raise the python-etcd3 exception for ``exc`` (``exc`` itself when none stands for it)."""
    out = translate(exc)
    if out is exc:
        raise exc
    raise out from exc


def handle_errors(func: F) -> F:
    """Decorate a method (or generator method) so that etcdmap errors leave it as
    python-etcd3 exceptions (python-etcd3's ``_handle_errors``)."""
    if inspect.isgeneratorfunction(func):

        @functools.wraps(func)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from func(*args, **kwargs)
            except Exception as exc:
                out = translate(exc)
                if out is exc:
                    raise
                raise out from exc

        return generator  # type: ignore[return-value]

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            out = translate(exc)
            if out is exc:
                raise
            raise out from exc

    return call  # type: ignore[return-value]
