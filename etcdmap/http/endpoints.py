"""Endpoint URLs: validation, normalisation (percent-encoded paths) and origins."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = [
    "check_target", "normalize_endpoint", "origin_of", "strip_credentials"]

_UNSAFE = re.compile(r"[\x00-\x20\x7f-\U0010ffff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PATH_SAFE = "/%:@!$&'()*+,;=~-._"


def normalize_endpoint(url: str) -> str:
    """Validate one endpoint URL and return it without a trailing ``/``, its path
    percent-encoded (a space or a non-ASCII character never goes out raw).

    :param url: ``http(s)://host[:port][/path]``.
    :returns: the normalised URL, e.g. ``"http://127.0.0.1:2379"``.
    :raises ValueError: not a string, not http/https, no host, a bad port, credentials in the URL
        (use ``username``/``password``), a query, a fragment or control characters.
    """
    if not isinstance(url, str):
        raise ValueError(  # noqa: TRY004 - garbage endpoints are a ValueError (contract)
            f"endpoint must be a URL string, not {type(url).__name__}"
        )
    if _CONTROL.search(url.strip()):  # urlsplit would silently drop CR, LF and TAB
        raise ValueError(f"endpoint has control characters: {url!r}")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"endpoint must be an http:// or https:// URL: {url!r}")
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
    path = quote(parts.path.rstrip("/"), safe=_PATH_SAFE)
    return urlunsplit((parts.scheme, netloc, path, "", ""))


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
