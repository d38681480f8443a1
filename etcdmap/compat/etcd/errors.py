"""python-etcd 0.4.5's exceptions, its ``EtcdError`` code table, and the one table that maps
etcdmap's errors onto them::

    EtcdException                       .payload (the error object etcd sent, with "status")
    ├── EtcdValueError (also ValueError)    2xx request errors
    │   ├── EtcdCompareFailed               101
    │   └── EtcdDirNotEmpty                 108
    ├── EtcdKeyError
    │   ├── EtcdKeyNotFound                 100
    │   ├── EtcdNotFile                     102
    │   ├── EtcdNotDir                      104
    │   ├── EtcdAlreadyExist                105
    │   └── EtcdRootReadOnly                107
    ├── EtcdEventIndexCleared               401
    ├── EtcdWatcherCleared                  400
    ├── EtcdLeaderElectionInProgress        301
    ├── EtcdInsufficientPermissions         110 (and HTTP 401)
    ├── EtcdClusterIdChanged
    ├── EtcdLockExpired
    └── EtcdConnectionFailed                .cause; no member answered
        └── EtcdWatchTimedOut               no event within the watch's timeout

Each raised exception chains the etcdmap error it stands for (``__cause__``).

Thread-safety: plain exceptions; :func:`translate` is pure.
"""

from __future__ import annotations

from typing import Any, NoReturn

from etcdmap.errors import (
    AuthError,
    ClusterError,
    DeadlineExceeded,
    EtcdMapError,
    MemberError,
)
from etcdmap.errors import (
    EtcdError as CoreEtcdError,
)

__all__ = [
    "EtcdAlreadyExist",
    "EtcdClusterIdChanged",
    "EtcdCompareFailed",
    "EtcdConnectionFailed",
    "EtcdDirNotEmpty",
    "EtcdError",
    "EtcdEventIndexCleared",
    "EtcdException",
    "EtcdInsufficientPermissions",
    "EtcdKeyError",
    "EtcdKeyNotFound",
    "EtcdLeaderElectionInProgress",
    "EtcdLockExpired",
    "EtcdNotDir",
    "EtcdNotFile",
    "EtcdRootReadOnly",
    "EtcdValueError",
    "EtcdWatchTimedOut",
    "EtcdWatcherCleared",
    "reraise",
    "translate",
]


class EtcdException(Exception):
    """The root of python-etcd's exceptions.

    :ivar payload: etcd's error object (``errorCode``, ``message``, ``cause``, ``index``,
        ``status``), when there was one.
    """

    def __init__(self, message: str | None = None, payload: Any = None) -> None:
        super().__init__(message)
        self.payload = payload


class EtcdValueError(EtcdException, ValueError):
    """A request etcd found invalid (also a :class:`ValueError`)."""


class EtcdCompareFailed(EtcdValueError):
    """101: a compare-and-swap/delete condition did not hold."""


class EtcdClusterIdChanged(EtcdException):
    """The cluster answering has another ID than ``expected_cluster_id``."""


class EtcdKeyError(EtcdException):
    """A key-related error."""


class EtcdKeyNotFound(EtcdKeyError):
    """100: no such key."""


class EtcdNotFile(EtcdKeyError):
    """102: the key is a directory."""


class EtcdNotDir(EtcdKeyError):
    """104: the key is not a directory."""


class EtcdAlreadyExist(EtcdKeyError):
    """105: the key exists."""


class EtcdEventIndexCleared(EtcdException):
    """401: the watched index is older than etcd's 1,000-event history."""


class EtcdConnectionFailed(EtcdException):
    """No etcd member could be reached.

    :ivar cause: the underlying error.
    """

    def __init__(self, message: str | None = None, payload: Any = None,
                 cause: BaseException | None = None) -> None:
        super().__init__(message=message, payload=payload)
        self.cause = cause


class EtcdInsufficientPermissions(EtcdException):
    """110: not allowed (auth)."""


class EtcdWatchTimedOut(EtcdConnectionFailed):
    """No event came within the watch's timeout."""


class EtcdWatcherCleared(EtcdException):
    """400: the watcher was cleared by a server recovery."""


class EtcdLeaderElectionInProgress(EtcdException):
    """301: a leader election is in progress."""


class EtcdRootReadOnly(EtcdKeyError):
    """107: the root is read only."""


class EtcdDirNotEmpty(EtcdValueError):
    """108: the directory is not empty."""


class EtcdLockExpired(EtcdException):
    """The lock's key vanished while acquiring it."""


class EtcdError:
    """python-etcd's errorCode table (``etcd.EtcdError.error_exceptions``) and ``handle``."""

    error_exceptions: dict[int, type[EtcdException]] = {
        100: EtcdKeyNotFound, 101: EtcdCompareFailed, 102: EtcdNotFile, 104: EtcdNotDir,
        105: EtcdAlreadyExist, 107: EtcdRootReadOnly, 108: EtcdDirNotEmpty,
        110: EtcdInsufficientPermissions,
        **dict.fromkeys(range(200, 211), EtcdValueError),
        301: EtcdLeaderElectionInProgress, 400: EtcdWatcherCleared, 401: EtcdEventIndexCleared,
    }

    @classmethod
    def exception(cls, payload: dict[str, Any]) -> EtcdException:
        """The exception for etcd's error object (``status`` 404 counts as 100, 401 as 110).

        :param payload: ``errorCode``, ``message``, ``cause`` and ``status``.
        """
        code = payload.get("errorCode")
        status = payload.get("status")
        if status == 404:
            code = 100
        elif status == 401:
            code = 110
        exc_class = cls.error_exceptions.get(code, EtcdException)  # type: ignore[arg-type]
        return exc_class(f"{payload.get('message')} : {payload.get('cause')}", payload)

    @classmethod
    def handle(cls, payload: dict[str, Any]) -> None:
        """Raise the exception for etcd's error object."""
        raise cls.exception(payload)


def _payload(exc: CoreEtcdError) -> dict[str, Any]:
    return {"errorCode": exc.code, "message": exc.message, "cause": exc.cause,
            "index": exc.index}


def translate(exc: BaseException, *, watching: bool = False) -> BaseException:
    """The python-etcd exception that stands for ``exc`` (``exc`` itself when none does).

    :param exc: an etcdmap error.
    :param watching: the call was a watch (a deadline is :class:`EtcdWatchTimedOut`).
    :returns: the exception, its ``__cause__`` set to ``exc``.
    """
    out: BaseException
    if isinstance(exc, (MemberError, AuthError)):  # before EtcdError: they are EtcdErrors too
        status = getattr(exc, "status", 0)
        payload = {"message": getattr(exc, "message", str(exc)), "cause": "", "status": status}
        out = EtcdError.exception(payload)
    elif isinstance(exc, CoreEtcdError):
        out = EtcdError.exception(_payload(exc))
    elif isinstance(exc, DeadlineExceeded) and watching:
        out = EtcdWatchTimedOut(f"Watch timed out: {exc}", cause=exc)
    elif isinstance(exc, (ClusterError, DeadlineExceeded)):
        out = EtcdConnectionFailed(f"Connection to etcd failed due to {exc}", cause=exc)
    elif isinstance(exc, EtcdMapError):
        out = EtcdException(str(exc))
    else:
        return exc
    out.__cause__ = exc
    return out


def reraise(exc: BaseException, *, watching: bool = False) -> NoReturn:
    """Raise the python-etcd exception for ``exc`` (``exc`` itself when none stands for it)."""
    out = translate(exc, watching=watching)
    if out is exc:
        raise exc
    raise out from exc
