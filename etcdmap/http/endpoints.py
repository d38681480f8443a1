"""Endpoint URLs: the one rule for what an endpoint may be, normalisation and origins.

The rule, shared by the library (every client) and the command line (``--endpoints``):

* a string may list several endpoints separated by commas (``"http://a:2379,http://b:2379"``),
  as ``--endpoints`` and ``$ETCDCTL_ENDPOINTS`` do;
* ``host:port`` without a scheme means ``http://host:port``, as etcdctl 3 and the Go client
  take it (a TLS endpoint needs its ``https://``); a scheme-less endpoint needs its port;
* a URL has no path: etcdmap adds the API's paths (``/v2/keys``, ``/v3/kv/range``) itself, so a
  path such as ``/v2/keys`` would shift every key. etcd refuses paths in its own client URLs
  too (etcd-io/etcd release-3.5:client/pkg/types/urls.go, ``NewURLs``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "Origin",
    "check_target", "normalize_endpoint", "origin_of", "split_endpoints", "strip_credentials",
    "with_scheme"]

_UNSAFE = re.compile(r"[\x00-\x20\x7f-\U0010ffff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME_LESS = re.compile(r"(\[[^\]]*\]|[^:/\[\]]*):\d+")  # host:port, [v6]:port


def split_endpoints(endpoints: str | Sequence[object]) -> list[object]:
    """The endpoints of a string or a sequence, each string split on commas.

    :param endpoints: ``"http://a:2379"``, ``"http://a:2379,http://b:2379"`` or a sequence
        of such strings.
    :returns: the parts, stripped, empty ones left out (non-strings are kept, for
        :func:`normalize_endpoint` to refuse).
    """
    items: Sequence[object] = [endpoints] if isinstance(endpoints, str) else endpoints
    out: list[object] = []
    for item in items:
        if isinstance(item, str):
            out += [part.strip() for part in item.split(",") if part.strip()]
        else:
            out.append(item)
    return out


def with_scheme(url: str) -> str:
    """``url`` with ``http://`` in front when it has no scheme (``host:port``).

    :param url: an endpoint, stripped.
    :returns: the URL with a scheme (other input unchanged, for validation to judge).
    """
    if "://" in url or not _SCHEME_LESS.fullmatch(url):
        return url
    return f"http://{url}"


def normalize_endpoint(url: object) -> str:
    """Validate one endpoint URL and return it as ``scheme://host[:port]`` (see the module
    docstring for the rule).

    :param url: ``http(s)://host[:port]`` (a trailing ``/`` is fine) or ``host:port``.
    :returns: the normalised URL, e.g. ``"http://127.0.0.1:2379"``.
    :raises ValueError: not a string, not http/https, no host, a bad port, a path (the message
        says to drop it), credentials in the URL (use ``username``/``password``), a query, a
        fragment or control characters.
    """
    if not isinstance(url, str):
        raise ValueError(  # noqa: TRY004 - garbage endpoints are a ValueError (contract)
            f"endpoint must be a URL string, not {type(url).__name__}"
        )
    if _CONTROL.search(url.strip()):  # urlsplit would silently drop CR, LF and TAB
        raise ValueError(f"endpoint has control characters: {url!r}")
    parts = urlsplit(with_scheme(url.strip()))
    if parts.scheme not in ("http", "https"):
        raise ValueError(
            f"endpoint must be an http:// or https:// URL (or host:port): {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"endpoint has an invalid port: {url!r}") from exc
    if not parts.hostname:
        raise ValueError(f"endpoint has no host: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in an endpoint URL are refused: pass username=/password=")
    if parts.query or parts.fragment:
        raise ValueError(f"endpoint must not have a query or fragment: {url!r}")
    if _UNSAFE.search(parts.hostname):
        raise ValueError(f"endpoint host has invalid characters: {url!r}")
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port is not None:
        netloc += f":{port}"
    if parts.path.strip("/"):
        origin = urlunsplit((parts.scheme, netloc, "", "", ""))
        raise ValueError(
            f"endpoint {url!r} has a path ({parts.path!r}): drop it and pass {origin!r} "
            "(etcdmap adds the API's paths, such as /v2/keys, itself)"
        )
    return urlunsplit((parts.scheme, netloc, "", "", ""))


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL."""
    slash = url.find("/", url.find("//") + 2)
    return url if slash < 0 else url[:slash]


def check_target(target: str) -> None:
    """Refuse a request target with spaces, control or non-ASCII characters (they would go out
    raw or split the request): paths must be percent-quoted.

    :raises ValueError: the target is not safe.
    """
    if _UNSAFE.search(target):
        raise ValueError(f"request path must be percent-quoted ASCII without spaces: {target!r}")


def strip_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class Origin:
    """An origin (``scheme://host[:port]``) split for connecting to it: the part every pool
    of connections to it, blocking or asyncio, starts from.

    :param origin: the origin URL.
    :ivar https: the scheme is ``https``.
    :ivar hostname: the host to connect to.
    :ivar port: the port (the scheme's default when the URL has none).
    :ivar host_header: the ``Host`` header of its requests (``host[:port]`` as written).
    """

    def __init__(self, origin: str) -> None:
        parts = urlsplit(origin)
        self.origin = origin
        self.https = parts.scheme == "https"
        self.hostname = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.host_header = parts.netloc
