"""The errors of cluster membership and auth (the ``{"message": ...}`` answers of v2's
members and auth APIs, and the v3 errors with the same meaning), and ``Unauthorized``."""

from __future__ import annotations

from etcdmap.errors.server import EtcdError, _code


class _MessageError(EtcdError):
    """An error answer ``{"message": ...}`` (no v2 ``errorCode``): the base of
    :class:`MemberError` and :class:`AuthError`.

    :param message: the server's message.
    :param status: the HTTP status (0: none).
    """

    def __init__(self, message: str = "", status: int = 0):
        EtcdError.__init__(self, message, status=status)
        Exception.__init__(self, message, status)

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status})" if self.status else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status})"


class MemberError(_MessageError):
    """A membership call was refused: an error answer ``{"message": ...}`` from
    ``/v2/members``, or a v3 member error with the same meaning.

    :ivar status: the HTTP status.
    :ivar message: the server's message.
    """


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

    endpoint: str = ""
    maybe_applied: bool = False

    def __init__(self, message: str = "", status: int = 500, *, endpoint: str = "") -> None:
        super().__init__(message, status)
        self.endpoint = endpoint


class MemberExists(MemberError):
    """409: the peer URL or member id already exists."""


class MemberRemoved(MemberError):
    """410: the member was permanently removed."""


class NoLeaderError(MemberError):
    """503: the cluster has no leader (an election is in progress or quorum is lost)."""


class AuthError(_MessageError):
    """An auth call or a key request was refused: an error answer ``{"message": ...}`` from
    ``/v2/auth``, a v2 ``Unauthorized``, or a v3 auth error with the same meaning.

    :ivar status: the HTTP status.
    :ivar message: the server's message.
    """


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
class Unauthorized(AuthError):
    """110: a key request was refused: no credentials, wrong credentials or no permission
    (etcd v2 answers all three identically). A v3 refusal for lack of permission is its
    subclass :class:`~etcdmap.errors.PermissionDenied`.
    """

    status = 401

    def __init__(
        self, message: str = "", cause: str = "", index: int = 0, *, code: int | None = None,
        status: int | None = None,
    ):
        EtcdError.__init__(self, message, cause, index, code=code, status=status)

    def __str__(self) -> str:
        return EtcdError.__str__(self)

    def __repr__(self) -> str:
        return EtcdError.__repr__(self)
