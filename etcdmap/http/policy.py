"""The transport's policy, without I/O: which endpoint next, with what budget, what an outcome means.

One policy serves the blocking transport (:class:`etcdmap.http.transport.Transport`) and the
asyncio one (:class:`etcdmap.aio.transport.AsyncTransport`): each is a thin I/O shell that
loops over a :class:`Plan`::

    plan = policy.plan(target, idempotent=..., timeout=..., ...)
    while True:
        attempt = plan.next_attempt()            # raises ClusterError / DeadlineExceeded
        try:
            answer = send(attempt)               # one attempt, following plan.redirects(attempt)
        except AttemptError as failure:
            plan.failed(attempt, failure)        # raises AmbiguousResultError / DeadlineExceeded
            continue
        refused = plan.check(attempt, status, headers, body)
        if refused is None:
            return answer
        close(answer)                            # a 5xx or another cluster: as a failed attempt
        plan.failed(attempt, refused)

Failure policy:

============================================  =====================  =====================
what happened on one endpoint                 idempotent call        non-idempotent call
============================================  =====================  =====================
never reached it (refused, DNS, connect        next endpoint          next endpoint
timeout, TLS handshake, other cluster id)
sent, then read timeout / reset / 5xx          next endpoint          AmbiguousResultError
any 2xx, 3xx (after redirects) or 4xx          returned               returned
============================================  =====================  =====================

After an ambiguous failure the next call starts at the next member (the Go client's
etcd-io/etcd#8515: a member that timed out is likely to time out again). A 5xx body carrying
an etcd error (e.g. ``300 etcdserver: request timed out``) is kept in the
:class:`~etcdmap.errors.ClusterError` entry of that endpoint, as the API's ``server_error``
decoder reads it; a 5xx the decoder calls final (deterministic: every member would answer the
same) is returned like a 4xx.

Deadlines: the whole-call ``timeout`` bounds every attempt, endpoint and redirect
(:class:`~etcdmap.errors.DeadlineExceeded`); each attempt is given ``min(request_timeout,
remaining)`` as one budget (:attr:`Attempt.budget`); a stream's head must come within
``min(budget, read_timeout)``.

Redirects (:class:`Redirects`): relative ``Location``\\ s are resolved, the method and body are
kept (etcd redirects with 307), credentials and the call's own headers never go to another
scheme, host or port (as requests' ``rebuild_auth``), a non-http(s) ``Location`` is refused.

Thread-safety: :class:`Policy` is thread-safe (a lock guards the endpoints, held only for
pure bookkeeping, so it is safe on an event loop too); a :class:`Plan` or :class:`Redirects`
belongs to one call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    DeadlineExceeded,
    EtcdError,
    InvalidResponseError,
    ServerError,
    TooManyRedirectsError,
)
from etcdmap.http import curl, json_codec
from etcdmap.http.attempt import AttemptError
from etcdmap.http.defaults import DEFAULT, UseDefault
from etcdmap.http.endpoints import check_target, origin_of
from etcdmap.http.forms import encode_form, encode_query
from etcdmap.http.options import TransportOptions
from etcdmap.http.pinning import Pinning

__all__ = [
    "Attempt",
    "Plan",
    "Policy",
    "Redirects",
    "ServerErrorDecoder",
    "encode_call",
]

ServerErrorDecoder = Callable[[int, bytes, str], "tuple[EtcdError | None, bool]"]
"""How an API reads a 5xx body: ``(status, body, endpoint) -> (error or None, final)``."""
Clock = Callable[[], float]

_LAST_MOMENT = 0.005
"""A timed-out attempt that leaves less than this of the call's deadline ends the call."""


def encode_call(
    path: str,
    *,
    params: Sequence[tuple[str, str]] | None = None,
    form: Mapping[str, str] | None = None,
    json: object = None,
    body: bytes | None = None,
    content_type: str | None = None,
) -> tuple[str, bytes | None, str | None]:
    """The request target, body and ``Content-Type`` of a call.

    :param path: percent-quoted path starting with ``/``.
    :param params: query pairs, sent in this order.
    :param form: an ``application/x-www-form-urlencoded`` body (keys sorted).
    :param json: a JSON body (``None``: none).
    :param body: a raw body, when neither ``form`` nor ``json``.
    :param content_type: the ``Content-Type`` of ``body``.
    :returns: ``(target, body, content_type)``.
    """
    if form is not None:
        body, content_type = encode_form(form), curl.FORM
    elif json is not None:
        body, content_type = json_codec.dumps(json), "application/json"
    return (path + "?" + encode_query(params) if params else path), body, content_type


def _deadline_text(errors: Sequence[tuple[str, BaseException]]) -> str:
    detail = "".join(f"; {ep}: {err}" for ep, err in errors)
    return "the call's timeout ran out" + detail


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of a call on one endpoint.

    :ivar endpoint: the endpoint's base URL.
    :ivar url: the absolute URL of the request.
    :ivar budget: seconds for the whole attempt (connect, send, the head and, unless it is a
        stream, the whole body), redirects included; ``None``: unbounded.
    :ivar stream: the body is read later, piece by piece (the head within ``budget``).
    """

    endpoint: str
    url: str
    budget: float | None
    stream: bool = False

    def reads_body(self, status: int) -> bool:
        """Whether the shell reads the whole body within the attempt: always, but for a
        healthy stream (a failed one is read for its error)."""
        return not self.stream or status >= 500


class Policy(Pinning):
    """A transport's endpoints and cluster id (:class:`~etcdmap.http.pinning.Pinning`) and
    its settings; makes the :class:`Plan` of each call.

    :param endpoints: one URL or a sequence (validated by :func:`normalize_endpoint`).
    :param options: the transport's settings (timeouts, redirects).
    :param server_error: the API's reading of a 5xx body (``None``: keep the raw body).
    :param clock: the monotonic clock (tests inject one).
    :raises NoEndpointsError: no endpoint given.
    :raises ValueError: an endpoint is not a valid http(s) URL.
    """

    def __init__(self, endpoints: str | Sequence[str], options: TransportOptions,
                 server_error: ServerErrorDecoder | None = None, *,
                 clock: Clock = time.monotonic) -> None:
        super().__init__(endpoints)
        self.options = options
        self.server_error = server_error
        self.clock = clock
        self.on_failure: Callable[[str, BaseException], None] | None = None
        """Called with ``(endpoint, error)`` after each failed attempt (e.g. leader tracking),
        in the caller's thread or task; it must not raise."""

    # ------------------------------------------------------------------ calls

    def plan(
        self,
        target: str,
        *,
        idempotent: bool,
        timeout: float | UseDefault | None = DEFAULT,
        request_timeout: float | UseDefault | None = DEFAULT,
        endpoint: str | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
    ) -> Plan:
        """The plan of one call.

        :param target: the percent-quoted path and query (appended to each endpoint).
        :param idempotent: ``False``: never re-sent after an ambiguous failure.
        :param timeout: whole-call deadline (:data:`DEFAULT`: the transport's).
        :param request_timeout: per-attempt budget (:data:`DEFAULT`: the transport's).
        :param endpoint: exactly this endpoint, no failover.
        :param stream: the answer's body is streamed (its head within ``read_timeout``).
        :param read_timeout: a stream's longest silence.
        :raises ValueError: ``target`` is not percent-quoted ASCII, or ``endpoint`` invalid.
        """
        check_target(target)
        if timeout is DEFAULT:
            timeout = self.options.timeout
        if request_timeout is DEFAULT:
            request_timeout = self.options.request_timeout
        return Plan(self, target, idempotent=idempotent, timeout=timeout,
                    per_attempt=request_timeout, endpoint=endpoint, stream=stream,
                    read_timeout=read_timeout)


class Plan:
    """The decisions of one call: the next endpoint and its budget, and what each outcome means
    (see the module docstring). Pure: the shell does the I/O.

    Made by :meth:`Policy.plan`.
    """

    def __init__(self, policy: Policy, target: str, *, idempotent: bool, timeout: float | None,
                 per_attempt: float | None, endpoint: str | None, stream: bool,
                 read_timeout: float | None) -> None:
        self._policy = policy
        self._target = target
        self._idempotent = idempotent
        self._clock = policy.clock
        self.deadline = None if timeout is None else self._clock() + timeout
        """The call's deadline on the policy's clock (``None``: none)."""
        self._per_attempt = per_attempt
        self._stream = stream
        self._read_timeout = read_timeout
        self._pinning = endpoint is None
        self._order = policy.order(endpoint)
        self._next = 0
        self.errors: list[tuple[str, BaseException]] = []
        """One ``(endpoint, error)`` per failed attempt, in order."""
        self.sent = False
        """Whether a failed attempt may have reached a member (``maybe_applied``)."""

    def next_attempt(self) -> Attempt:
        """The next attempt.

        :raises ClusterError: every endpoint failed (one entry each).
        :raises DeadlineExceeded: the call's timeout ran out.
        """
        if self._next >= len(self._order):
            raise ClusterError(self.errors, maybe_applied=self.sent)
        budget = self._per_attempt
        if self.deadline is not None:
            remaining = self.deadline - self._clock()
            if remaining <= 0:
                raise DeadlineExceeded(_deadline_text(self.errors), maybe_applied=self.sent)
            budget = remaining if budget is None else min(budget, remaining)
        if self._stream:  # the head within min(budget, read_timeout)
            read = self._read_timeout
            budget = read if budget is None else min(budget, read or budget)
        endpoint = self._order[self._next]
        self._next += 1
        return Attempt(endpoint, endpoint + self._target, budget, self._stream)

    def failed(self, attempt: Attempt, failure: AttemptError) -> None:
        """Record a failed attempt; return when the next endpoint may be tried.

        :raises AmbiguousResultError: a non-idempotent call was sent (it may have applied);
            the next call starts at the next member.
        :raises DeadlineExceeded: the attempt timed out at the end of the call's deadline.
        """
        self.errors.append((attempt.endpoint, failure.error))
        self.sent = self.sent or failure.sent
        hook = self._policy.on_failure
        if hook is not None:
            hook(attempt.endpoint, failure.error)
        if failure.sent and not self._idempotent:
            self._policy.pin_after(attempt.endpoint)
            raise AmbiguousResultError.after(attempt.endpoint, failure.error) from failure.error
        if failure.timed_out and self.deadline is not None and \
                self.deadline - self._clock() < _LAST_MOMENT:
            raise DeadlineExceeded(_deadline_text(self.errors),
                                   maybe_applied=self.sent) from failure.error

    def check(self, attempt: Attempt, status: int, headers: Mapping[str, str],
              body: bytes | None) -> AttemptError | None:
        """Judge an answer: ``None``: it is the call's answer (its endpoint is pinned); else
        the failure it counts as (a 5xx, a member of another cluster), for the shell to close
        the answer and pass to :meth:`failed`.

        :param body: the body (``None`` for a healthy stream).
        """
        failure = self._policy.foreign_cluster(attempt.endpoint, headers)
        if failure is None and status >= 500:
            decode = self._policy.server_error
            error, final = (None, False) if decode is None else \
                decode(status, body or b"", attempt.endpoint)
            if not final:
                failure = AttemptError(
                    ServerError(attempt.endpoint, status, body or b"", error), sent=True)
        if failure is None and self._pinning and attempt.endpoint != self._order[0]:
            self._policy.pin(attempt.endpoint)
        return failure

    def redirects(self, attempt: Attempt) -> Redirects:
        """The redirect plan of ``attempt``."""
        return Redirects(attempt.url, self._policy.options.max_redirects, attempt.budget,
                         clock=self._clock)


class Redirects:
    """The redirect decisions of one attempt: where the next hop goes, with what is left of
    the attempt's budget, and whether credentials still go with it. The shell's loop::

        while True:
            answer = send_one(hops.url, hops.budget(), credentials=hops.authorize)
            if not hops.is_redirect(status, location):
                return answer
            read and close answer; hops.follow(location)

    :param url: the attempt's URL.
    :param max_redirects: redirects allowed.
    :param budget: the attempt's budget (``None``: unbounded).
    :param clock: the monotonic clock.
    """

    def __init__(self, url: str, max_redirects: int, budget: float | None, *,
                 clock: Clock = time.monotonic) -> None:
        self.url = url
        """Where the next hop goes."""
        self.authorize = True
        """Whether credentials and the call's headers go with the next hop (same origin)."""
        self._left = max_redirects
        self._max = max_redirects
        self._clock = clock
        self._deadline = None if budget is None else clock() + budget

    def budget(self) -> float | None:
        """What is left of the attempt's budget for the next hop (at least 1 ms)."""
        if self._deadline is None:
            return None
        return max(self._deadline - self._clock(), 0.001)

    @staticmethod
    def is_redirect(status: int, location: str | None) -> bool:
        """Whether an answer is a redirect to follow (the shell then reads and closes it and
        calls :meth:`follow`); if not, it is the attempt's answer."""
        return 300 <= status < 400 and bool(location)

    def follow(self, location: str) -> None:
        """Move :attr:`url` to a redirect's ``Location`` (relative ones resolved).

        :raises TooManyRedirectsError: more than ``max_redirects`` redirects.
        :raises InvalidResponseError: a ``Location`` that is not http(s).
        """
        origin = origin_of(self.url)
        target = urljoin(self.url, location)
        if target.partition(":")[0].lower() not in ("http", "https"):
            raise InvalidResponseError(
                f"{origin} redirected to {location!r}: only http(s) redirects are followed", origin
            )
        if self._left == 0:
            raise TooManyRedirectsError(f"more than {self._max} redirects (last: {target})")
        self._left -= 1
        if origin_of(target) != origin:
            self.authorize = False  # credentials never follow to another origin
        self.url = target
