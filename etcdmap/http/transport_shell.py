"""``TransportShell``: what the blocking and the asyncio transports share above their I/O.

Both transports (:class:`etcdmap.http.transport.Transport`, :class:`etcdmap.aio.transport.AsyncTransport`)
are shells over one :class:`~etcdmap.http.policy.Policy`: this base holds their settings and
policy and shows them the same way (``timeout``, ``endpoints``, ``pin``...), so that code
reading a transport's settings or moving its pin works on either.

Thread-safety: as the :class:`~etcdmap.http.policy.Policy` (thread-safe).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from etcdmap.http.options import TransportOptions
from etcdmap.http.policy import Policy, ServerErrorDecoder
from etcdmap.http.session import basic_auth

__all__ = ["TransportShell"]


class TransportShell:
    """Settings and policy of a transport, and the headers of every request.

    :param endpoints: one URL or a sequence of URLs.
    :param options: the validated settings.
    :param server_error: the API's reading of a 5xx body.
    :raises NoEndpointsError: no endpoint given.
    :raises ValueError: an endpoint is not a valid http(s) URL.
    """

    def __init__(self, endpoints: str | Sequence[str], options: TransportOptions,
                 server_error: ServerErrorDecoder | None) -> None:
        self.options = options
        """The settings (immutable)."""
        self.policy = Policy(endpoints, options, server_error)
        """The decisions (:class:`~etcdmap.http.policy.Policy`): endpoints, pin, cluster id."""
        headers = {"Accept": "application/json"}
        if options.username is not None:
            headers["Authorization"] = basic_auth(options.username, options.password)
        self.headers = headers
        """The headers of every request (Basic auth when a user is set)."""

    # ------------------------------------------------------------------ settings

    @property
    def timeout(self) -> float | None:
        """The default whole-call deadline in seconds (``None``: none)."""
        return self.options.timeout

    @property
    def request_timeout(self) -> float | None:
        """The default budget of one attempt (``None``: only :attr:`timeout`)."""
        return self.options.request_timeout

    @property
    def max_redirects(self) -> int:
        """Redirects followed per attempt."""
        return self.options.max_redirects

    @property
    def username(self) -> str | None:
        """The Basic auth user (``None``: none)."""
        return self.options.username

    @property
    def verify(self) -> bool | str | None:
        """TLS verification as given (``None``: the default)."""
        return self.options.verify

    @property
    def cert(self) -> str | tuple[str, str] | None:
        """The client certificate as given (``None``: the default)."""
        return self.options.cert

    @property
    def on_failure(self) -> Callable[[str, BaseException], None] | None:
        """Hook called with ``(endpoint, error)`` after each failed attempt (e.g. leader
        tracking). It runs in the calling thread (or task) and must not raise."""
        return self.policy.on_failure

    @on_failure.setter
    def on_failure(self, hook: Callable[[str, BaseException], None] | None) -> None:
        self.policy.on_failure = hook

    # ------------------------------------------------------------------ endpoints

    @property
    def endpoints(self) -> list[str]:
        """A copy of the current endpoint list (in the shuffled order used for failover)."""
        return self.policy.endpoints

    @property
    def pinned(self) -> str:
        """The endpoint tried first by the next call."""
        return self.policy.pinned

    @property
    def cluster_id(self) -> str | None:
        """The first ``X-Etcd-Cluster-Id`` seen; members answering another id count as failed."""
        return self.policy.cluster_id

    def set_endpoints(self, endpoints: str | Sequence[str]) -> None:
        """Replace the endpoints, shuffle them and pin a random one.

        :raises NoEndpointsError: the list is empty (the old list is kept).
        :raises ValueError: an endpoint is invalid (the old list is kept).
        """
        self.policy.set_endpoints(endpoints)

    def pin(self, endpoint: str) -> None:
        """Pin ``endpoint`` (must be one of :attr:`endpoints`; others are ignored)."""
        self.policy.pin(endpoint)

    def unpin(self, endpoint: str) -> None:
        """Move the pin to the next member if ``endpoint`` is pinned (it failed a liveness
        check: the next call should not start there)."""
        self.policy.unpin(endpoint)

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username is not None else ""
        return f"{type(self).__name__}({self.endpoints!r}, timeout={self.timeout!r}{user})"
