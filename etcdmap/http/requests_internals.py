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

__all__ = ["RESPONSE_FIELDS", "ResponseHeaders", "header_store", "headers_from_store",
           "new_response"]

RESPONSE_FIELDS = frozenset({
    "_content", "_content_consumed", "_next", "status_code", "headers", "raw", "url",
    "encoding", "history", "reason", "cookies", "elapsed", "request",
})
"""The attributes ``requests.Response.__init__`` sets (the test compares them with
``vars(requests.Response())``)."""


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
