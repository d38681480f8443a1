"""One blocking attempt on one endpoint, following redirects as the policy decides.

Adapters never follow redirects (``allow_redirects=False``); this module does, within the
attempt's budget, as the policy's :class:`~etcdmap.http.policy.Redirects` decides (relative
``Location``\\ s, credentials that stay home, only http(s) targets). Each hop goes through the
session (:class:`~etcdmap.http.session.Requester`) and prints its cURL command when debugging.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests

from etcdmap.http import curl
from etcdmap.http.attempt import AttemptError
from etcdmap.http.endpoints import origin_of
from etcdmap.http.policy import Attempt, Redirects
from etcdmap.http.response import DirectAnswer
from etcdmap.http.session import Requester

__all__ = ["follow_redirects", "read_body"]


def follow_redirects(
    requester: Requester,
    method: str,
    attempt: Attempt,
    hops: Redirects,
    *,
    body: bytes | None,
    content_type: str | None,
    username: str | None,
    headers: Mapping[str, str] | None = None,
) -> requests.Response | DirectAnswer:
    """Send one attempt's request, following redirects within its budget.

    :param requester: prepares and sends through the session.
    :param method: the HTTP method (kept across redirects).
    :param attempt: the attempt (its budget; a stream's body is left unread).
    :param hops: its redirect plan.
    :param username: shown by cURL debugging (``-u user:***``) while credentials are sent.
    :param headers: extra headers of this call (e.g. a v3 auth token); like ``Authorization``
        they are not sent to another origin after a redirect.
    :returns: the first answer that is not a redirect (a :class:`DirectAnswer` when the
        session adds nothing to the request: :meth:`Requester.direct`; a stream's is always a
        ``requests.Response``).
    :raises AttemptError: the attempt failed (``sent`` says whether it reached the member).
    :raises TooManyRedirectsError: more than ``max_redirects`` redirects.
    :raises InvalidResponseError: a redirect to a ``Location`` that is not http(s).
    """
    while True:
        url, authorize = hops.url, hops.authorize
        settings = requester.settings(origin_of(url))
        if curl.enabled():
            curl.print_curl(method, url, body, content_type, username if authorize else None)
        left = hops.budget()
        adapter = None if attempt.stream else requester.direct(url, settings, authorize=authorize)
        resp: requests.Response | DirectAnswer
        if adapter is not None:  # nothing on the session to see the request: no requests objects
            resp = requester.exchange(adapter, method, url, body, content_type, settings, headers,
                                      authorize=authorize, timeout=left)
        else:
            prep = requester.prepare(method, url, body, content_type, settings,
                                     authorize=authorize)
            if headers and authorize:
                prep.headers.update(headers)
            resp = requester.send(prep, settings, stream=attempt.stream,
                                  timeout=(left, attempt.budget) if attempt.stream else left)
        location = resp.headers.get("Location")
        if not hops.is_redirect(resp.status_code, location):
            return resp
        read_body(resp)
        resp.close()
        hops.follow(location or "")


def read_body(resp: requests.Response | DirectAnswer) -> bytes:
    """The whole body; a failure to read it is a failed (sent) attempt.

    :raises AttemptError: the body could not be read.
    """
    try:
        return resp.content
    except (requests.RequestException, OSError, ValueError) as exc:
        resp.close()
        raise AttemptError(exc, sent=True, timed_out=isinstance(exc, TimeoutError)) from exc
