"""TLS contexts for the fast adapter, with requests' meaning of ``verify`` and ``cert``.

``verify=True`` uses ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` when set (requests' rules,
applied by :func:`etcdmap.http.session.endpoint_settings` when the session trusts the
environment), else requests' own CA bundle (certifi). ``verify=False`` turns verification off
and warns once per context, with urllib3's ``InsecureRequestWarning`` as requests does.

Thread-safe: :class:`ContextCache` may be used by any number of threads.
"""

from __future__ import annotations

import os
import ssl
import threading
import warnings

from urllib3.exceptions import InsecureRequestWarning

__all__ = ["ContextCache", "Verify", "make_ssl_context", "warn_unverified"]

Verify = bool | str
"""``True`` (default CA bundle), ``False`` (no verification) or a CA bundle file/directory."""
Cert = str | tuple[str, str] | None


def warn_unverified(host: str) -> None:
    """Warn, as requests does, that an https request to ``host`` is not verified."""
    warnings.warn(
        f"Unverified HTTPS request is being made to host {host!r}. Adding certificate "
        "verification is strongly advised (verify=True or a CA bundle path).",
        InsecureRequestWarning,
        stacklevel=4,
    )


def make_ssl_context(verify: Verify, cert: Cert) -> ssl.SSLContext:
    """Build a client TLS context the way requests interprets ``verify`` and ``cert``.

    :param verify: ``True`` (requests' CA bundle), ``False`` (no verification: insecure) or a
        CA bundle file or directory.
    :param cert: a PEM file with certificate and key, or ``(cert, key)``.
    :returns: a new context.
    :raises OSError: a file cannot be read.
    :raises ssl.SSLError: a file is not valid PEM.
    """
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str) and os.path.isdir(verify):
        context = ssl.create_default_context(capath=verify)
    elif isinstance(verify, str):
        context = ssl.create_default_context(cafile=verify)
    else:
        from requests.utils import DEFAULT_CA_BUNDLE_PATH  # noqa: PLC0415 - only for https

        context = ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH)
    if cert is not None:
        if isinstance(cert, tuple):
            context.load_cert_chain(cert[0], cert[1])
        else:
            context.load_cert_chain(cert)
    return context


class ContextCache:
    """One :class:`ssl.SSLContext` per ``(verify, cert)`` pair (contexts are costly to build)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._contexts: dict[tuple[Verify, Cert], ssl.SSLContext] = {}

    def get(self, verify: Verify, cert: Cert) -> ssl.SSLContext:
        """The context for ``verify``/``cert`` (built on first use).

        :raises OSError: a file cannot be read.
        :raises ssl.SSLError: a file is not valid PEM.
        """
        key = (verify, cert)
        context = self._contexts.get(key)
        if context is None:
            with self._lock:
                context = self._contexts.get(key)
                if context is None:
                    context = make_ssl_context(verify, cert)
                    self._contexts[key] = context
        return context
