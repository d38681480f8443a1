"""One attempt on one endpoint, following redirects: the redirect policy of the client.

Adapters never follow redirects (``allow_redirects=False``); this module does, within the
attempt's budget: relative ``Location``\\ s are resolved, the method and body are kept (etcd
redirects with 307), a redirect to another scheme, host or port loses the ``Authorization``
header and the session's auth (as requests' ``rebuild_auth`` does), and a ``Location`` that is
not http(s) (``gopher://``, ``file://``) is refused.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urljoin

import requests

from etcdmap.errors import InvalidResponseError, TooManyRedirectsError
from etcdmap.http import curl
from etcdmap.http.attempt import AttemptError
from etcdmap.http.endpoints import origin_of
from etcdmap.http.session import Requester

__all__ = ["Timeout", "follow_redirects", "read_body"]

Timeout = float | tuple[float | None, float | None] | None
"""A number (the attempt's budget) or ``(budget until the headers, idle wait of a stream)``."""


def follow_redirects(
    requester: Requester,
    method: str,
    url: str,
    body: bytes | None,
    content_type: str | None,
    *,
    timeout: Timeout,
    stream: bool,
    max_redirects: int,
    username: str | None,
    headers: Mapping[str, str] | None = None,
) -> requests.Response:
    """Send one request, following up to ``max_redirects`` redirects within ``timeout``.

    :param requester: prepares and sends through the session.
    :param username: shown by cURL debugging (``-u user:***``) while credentials are sent.
    :param headers: extra headers of this call (e.g. a v3 auth token); like ``Authorization``
        they are not sent to another origin after a redirect.
    :returns: the first answer that is not a redirect.
    :raises AttemptError: the attempt failed (``sent`` says whether it reached the member).
    :raises TooManyRedirectsError: more than ``max_redirects`` redirects.
    :raises InvalidResponseError: a redirect to a ``Location`` that is not http(s).
    """
    budget = timeout[0] if isinstance(timeout, tuple) else timeout
    deadline = None if budget is None else time.monotonic() + budget
    authorize = True
    for _hop in range(max_redirects + 1):
        origin = origin_of(url)
        settings = requester.settings(origin)
        prep = requester.prepare(method, url, body, content_type, settings, authorize=authorize)
        if headers and authorize:
            prep.headers.update(headers)
        if curl.enabled():
            curl.print_curl(method, url, body, content_type, username if authorize else None)
        resp = requester.send(prep, settings, stream=stream, timeout=_left(timeout, deadline))
        location = resp.headers.get("Location") if 300 <= resp.status_code < 400 else None
        if not location:
            return resp
        read_body(resp)
        resp.close()
        target = urljoin(url, location)
        if target.partition(":")[0].lower() not in ("http", "https"):
            raise InvalidResponseError(
                f"{origin} redirected to {location!r}: only http(s) redirects are followed", origin
            )
        if origin_of(target) != origin:
            authorize = False  # credentials never follow to another origin
        url = target
    raise TooManyRedirectsError(f"more than {max_redirects} redirects (last: {url})")


def _left(timeout: Timeout, deadline: float | None) -> Timeout:
    """The attempt's timeout for the next hop (what is left of its budget)."""
    if deadline is None:
        return timeout
    remaining = max(deadline - time.monotonic(), 0.001)
    if isinstance(timeout, tuple):
        return (remaining, timeout[1])
    return remaining


def read_body(resp: requests.Response) -> bytes:
    """The whole body; a failure to read it is a failed (sent) attempt.

    :raises AttemptError: the body could not be read.
    """
    try:
        return resp.content
    except (requests.RequestException, OSError, ValueError) as exc:
        resp.close()
        raise AttemptError(exc, sent=True, timed_out=isinstance(exc, TimeoutError)) from exc
