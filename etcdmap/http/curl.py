"""cURL debugging: print one equivalent ``curl`` command per HTTP attempt on stderr.

etcdmap's one process-wide switch (every other setting belongs to one client). The password
is never printed: Basic auth shows as ``-u 'user:***'`` and a ``"password"`` field of a JSON
body (the auth API) as ``"***"``.
"""

from __future__ import annotations

import re
import sys
from shlex import quote
from typing import Final

__all__ = ["FORM", "disable_curl_debug", "enable_curl_debug", "enabled", "print_curl"]

FORM: Final = "application/x-www-form-urlencoded"
_JSON_PASSWORD: Final = re.compile(r'("password"\s*:\s*)"(?:[^"\\]|\\.)*"')


class _Switch:
    curl = False


_DEBUG = _Switch()


def enable_curl_debug() -> None:
    """Print one equivalent ``curl`` command per HTTP attempt on stderr (process-wide switch)."""
    _DEBUG.curl = True


def disable_curl_debug() -> None:
    """Stop printing ``curl`` commands (see :func:`enable_curl_debug`)."""
    _DEBUG.curl = False


def enabled() -> bool:
    """Whether cURL debugging is on."""
    return _DEBUG.curl


def print_curl(method: str, url: str, body: bytes | None, content_type: str | None,
               username: str | None) -> None:
    """Print the ``curl`` command of one attempt on stderr (the password masked)."""
    line = f"cURL Command: curl -X {method} {quote(url)}"
    if username is not None:
        line += f" -u {quote(username + ':***')}"
    if content_type is not None and content_type != FORM:
        line += f" -H {quote('Content-Type: ' + content_type)}"
    if body is not None:
        text = body.decode("utf-8", "replace")
        if content_type == "application/json":  # auth API bodies: never print a password
            text = _JSON_PASSWORD.sub(r'\1"***"', text)
        line += f" -d {quote(text)}"
    print(line, file=sys.stderr, flush=True)
