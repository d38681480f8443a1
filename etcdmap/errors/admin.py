"""The ``{"message": ...}`` errors of the members and auth APIs, and ``Unauthorized``."""

from __future__ import annotations

from etcdmap.errors.base import EtcdMapError
from etcdmap.errors.server import EtcdError, _code


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
