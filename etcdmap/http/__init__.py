"""The HTTP layer: the requests session a client uses, etcdmap's fast adapter, TLS, redirects, cURL debug.

- :mod:`etcdmap.http.adapter`: :class:`FastAdapter`, a ``requests`` transport adapter (pooled
  keep-alive sockets, one whole-attempt budget); one attempt, no policy. Its
  ``exchange`` is the direct path a request takes when the session adds nothing to it
  (:meth:`etcdmap.http.session.Requester.direct`: no ``PreparedRequest`` or ``Response``).
- :mod:`etcdmap.http.framing` (the sans-IO HTTP/1.1 seam), :mod:`etcdmap.http.framing_choice`
  (httptools with the ``fast`` extra, else h11) and the engines ``framing_httptools`` and
  ``framing_h11``; :mod:`etcdmap.http.json_codec` (orjson or ``json``) for every body.
- :mod:`etcdmap.http.connection`: its connections and per-origin pools, cmux priming.
- :mod:`etcdmap.http.response`: its responses and streamed bodies.
- :mod:`etcdmap.http.attempt`: :class:`AttemptError` and the one translation of lower errors.
- :mod:`etcdmap.http.session`: the default session, per-endpoint settings, cheap requests;
  :mod:`etcdmap.http.requests_internals`: the only uses of requests' internals, pinned by tests.
- :mod:`etcdmap.http.redirects`: one attempt following redirects (credentials stay home).
- :mod:`etcdmap.http.tls`, :mod:`etcdmap.http.curl`, :mod:`etcdmap.http.endpoints`.

The policy above one attempt (pinning, failover, deadlines, idempotency, redirect decisions) is
pure, in :mod:`etcdmap.http.policy` and :mod:`etcdmap.http.pinning`, shared with the asyncio
transport (:mod:`etcdmap.aio`); :class:`etcdmap.http.transport.Transport` is its blocking shell
(:mod:`etcdmap.http.transport_shell`: what both shells show). The settings of every client are one
:class:`~etcdmap.http.options.TransportOptions`; :mod:`etcdmap.http.lines` cuts streams into
lines.
"""

from etcdmap.http.adapter import FastAdapter
from etcdmap.http.attempt import AttemptError
from etcdmap.http.session import default_session

__all__ = ["AttemptError", "FastAdapter", "default_session"]
