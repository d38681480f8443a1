"""The only places where etcdmap builds requests' objects through their internals.

requests has no public way to make a ``Response`` without the cookie jar, ``RLock`` and
cookie policy that ``Response()`` creates (etcd sets no cookies; that is ~8 µs of the ~40 µs an
answer costs the client), nor to make a ``CaseInsensitiveDict`` from headers that are already
in its own shape (``copy()`` re-inserts every header one by one). Each function below does one
such thing, says which internals it relies on, and is pinned by
``tests/unit/test_requests_internals.py``, which fails as soon as a release of requests
changes them (``setup.cfg`` bounds requests below its next major version).

Thread-safety: every function is pure (it builds new objects).
"""

from __future__ import annotations

from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

__all__ = ["PREPARED_FIELDS", "RESPONSE_FIELDS", "ResponseHeaders", "has_cookies", "header_store",
           "headers_from_store", "new_prepared_request", "new_response"]

RESPONSE_FIELDS = frozenset({
    "_content", "_content_consumed", "_next", "status_code", "headers", "raw", "url",
    "encoding", "history", "reason", "cookies", "elapsed", "request",
})
"""The attributes ``requests.Response.__init__`` sets (the test compares them with
``vars(requests.Response())``)."""


PREPARED_FIELDS = frozenset({
    "method", "url", "headers", "_cookies", "body", "hooks", "_body_position",
})
"""The attributes ``requests.PreparedRequest.__init__`` sets (the test compares them with
``vars(requests.PreparedRequest())``)."""


def new_prepared_request(fields: dict[str, Any]) -> requests.PreparedRequest:
    """A ``PreparedRequest`` made without ``__init__`` and its ``prepare_*`` steps (the
    transport has done their work once per endpoint).

    Relies on: the attributes of :data:`PREPARED_FIELDS` being all that ``__init__`` sets;
    ``_cookies`` being the jar requests' redirect handling reads (``prepare_cookies`` sets it
    too, with the ``Cookie`` header); ``_body_position`` ``None`` for a body that is not a
    stream.

    :param fields: a value for each of :data:`PREPARED_FIELDS`.
    """
    prep = requests.PreparedRequest.__new__(requests.PreparedRequest)
    prep.__dict__.update(fields)
    return prep


def has_cookies(jar: object) -> bool:
    """Whether a cookie jar holds a cookie, without counting them all (``bool(jar)`` iterates
    every cookie).

    Relies on: ``http.cookiejar.CookieJar`` (requests' jars derive from it) keeping its
    cookies in ``_cookies``, a dict that is empty when the jar is; any other jar is asked
    ``bool(jar)``.
    """
    store = getattr(jar, "_cookies", None)
    return bool(store) if isinstance(store, dict) else bool(jar)


def new_response(cls: type[requests.Response], fields: dict[str, Any]) -> requests.Response:
    """A ``cls`` (a ``requests.Response`` subclass) made without ``__init__``.

    Relies on: the attributes of :data:`RESPONSE_FIELDS` being all that ``__init__`` sets;
    ``_content=False`` meaning "not read yet" and ``_content_consumed`` that it was read.

    :param cls: the class (it must provide ``cookies`` itself, e.g. as a lazy property).
    :param fields: a value for each of :data:`RESPONSE_FIELDS` but ``cookies`` (bytes for
        ``_content`` once the body is read, else ``False``), and ``connection`` (the
        adapter, which requests' adapters set too).
    """
    response = cls.__new__(cls)
    response.__dict__.update(fields)
    return response


def headers_from_store(cls: type[CaseInsensitiveDict[Any]],
                       store: dict[str, tuple[str, Any]]) -> CaseInsensitiveDict[Any]:
    """A ``cls`` (``CaseInsensitiveDict`` or a subclass) holding ``store`` itself (not a copy).

    Relies on: ``CaseInsensitiveDict`` keeping everything in ``_store``, a dict of
    ``lower-case name -> (name as given, value)``, and its ``__init__`` setting nothing else.

    :param store: the headers in that shape (the new object owns it from now on).
    """
    headers = cls.__new__(cls)
    headers._store = store  # type: ignore[attr-defined]
    return headers


def header_store(headers: CaseInsensitiveDict[Any]) -> dict[str, tuple[str, Any]]:
    """The ``lower-case name -> (name, value)`` dict inside a ``CaseInsensitiveDict`` (read
    it, do not change it).

    Relies on: the same ``_store`` as :func:`headers_from_store`.
    """
    store: dict[str, tuple[str, Any]] = headers._store  # type: ignore[attr-defined]
    return store


class ResponseHeaders(CaseInsensitiveDict):  # type: ignore[type-arg]
    """requests' ``CaseInsensitiveDict`` whose :meth:`get` looks the name up in one step (the
    client reads several headers of every answer; the inherited ``get`` goes through
    ``Mapping.get`` and ``__getitem__``).

    Relies on: the same ``_store`` as :func:`headers_from_store`.
    """

    def get(self, key: str, default: Any = None) -> Any:
        """The value of header ``key`` (any case), or ``default``."""
        item = self._store.get(key.lower())  # type: ignore[attr-defined]
        return default if item is None else item[1]
