"""Errors of the client side: endpoints, answers, deadlines, ambiguous writes, decoding."""

from __future__ import annotations

from collections.abc import Sequence

from etcdmap.errors.base import EtcdMapError
from etcdmap.errors.server import EtcdError

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


class MapClosed(EtcdMapError, RuntimeError):
    """An :class:`etcdmap.EtcdMap` (or a view of it) was used after :meth:`~etcdmap.EtcdMap.close`
    (or the end of its ``with`` block): make a new map (``etcdmap.connect``) instead."""
