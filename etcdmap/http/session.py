"""The requests ``Session`` of a client: the default one, per-endpoint settings, cheap requests.

Every request of a client goes through the adapter the session mounts for its URL
(``session.get_adapter(url).send``, then the session's response hooks and cookie jar, as
``Session.send`` does): requests-mock's ``Mocker``, ``responses``, a user's mounted adapters,
hooks and ``AuthBase`` see every request. :func:`default_session` mounts
:class:`~etcdmap.http.adapter.FastAdapter` for ``http://`` and ``https://``.

Building a request through ``Session.request`` costs ~0.5 ms in settings merges and
environment lookups; :class:`Requester` does them once per origin (:func:`endpoint_settings`:
proxies from ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY``, ``REQUESTS_CA_BUNDLE``
/ ``CURL_CA_BUNDLE``, the session's ``verify``/``cert``/``proxies``, netrc, all with requests'
``trust_env`` rules) and then fills a :class:`requests.PreparedRequest` directly. Environment
changes after a client first used an endpoint are not seen by that client.

Thread-safe: a :class:`Requester` may be used by any number of threads.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth
from requests.cookies import extract_cookies_to_jar
from requests.hooks import dispatch_hook
from requests.structures import CaseInsensitiveDict
from requests.utils import get_netrc_auth, select_proxy

from etcdmap.http.adapter import FastAdapter, StreamBody
from etcdmap.http.attempt import AttemptError, classify
from etcdmap.http.requests_internals import (
    has_cookies,
    header_store,
    headers_from_store,
    new_prepared_request,
)
from etcdmap.http.response import DirectAnswer

__all__ = ["EndpointSettings", "Requester", "basic_auth", "default_session", "endpoint_settings",
           "stock_send"]

_BODY_METHODS = frozenset({"PUT", "POST", "PATCH"})


def stock_send(send: object) -> bool:
    """Whether ``send`` is requests' own ``Session.send`` (not a subclass's, not a patch)."""
    return (getattr(send, "__module__", None) == "requests.sessions"
            and getattr(send, "__qualname__", None) == "Session.send")


def default_session() -> requests.Session:
    """A session with :class:`FastAdapter` mounted for ``http://`` and ``https://`` and only
    the headers etcd needs (no ``Accept-Encoding``: the fast adapter decodes no coding)."""
    from etcdmap._version import __version__  # noqa: PLC0415

    session = requests.Session()
    adapter = FastAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers = CaseInsensitiveDict({"User-Agent": f"etcdmap/{__version__}",
                                           "Accept": "application/json"})
    return session


def basic_auth(username: str, password: str | None) -> str:
    """The ``Authorization`` value of Basic auth, UTF-8 encoded (requests uses latin-1)."""
    token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
    return "Basic " + token


@dataclass(frozen=True, slots=True)
class EndpointSettings:
    """What requests would merge for every request to one origin, resolved once.

    :ivar proxies: the proxies to pass to the adapter.
    :ivar proxy: the proxy this origin goes through (``None``: direct).
    :ivar verify: TLS verification.
    :ivar cert: client certificate.
    :ivar netrc: Basic auth from ``~/.netrc`` (``None``: none or not trusted).
    """

    proxies: dict[str, str]
    proxy: str | None
    verify: bool | str
    cert: str | tuple[str, str] | None
    netrc: tuple[str, str] | None


def endpoint_settings(session: requests.Session, origin: str, verify: bool | str | None,
                      cert: str | tuple[str, str] | None) -> EndpointSettings:
    """Resolve requests' environment and session settings for ``origin`` (requests' rules).

    :param session: the session.
    :param origin: ``scheme://host[:port]``.
    :param verify: the client's ``verify`` (``None``: the session's).
    :param cert: the client's ``cert`` (``None``: the session's).
    """
    merged = session.merge_environment_settings(origin + "/", {}, None, verify, cert)
    proxies = dict(merged["proxies"] or {})
    netrc = None
    if session.trust_env:
        found = get_netrc_auth(origin + "/")
        netrc = (found[0], found[1]) if found else None
    return EndpointSettings(
        proxies=proxies, proxy=select_proxy(origin + "/", proxies),
        verify=True if merged["verify"] is None else merged["verify"],
        cert=merged["cert"], netrc=netrc,
    )


class Requester:
    """Prepares and sends single attempts through a session (no retry, no redirect).

    :param session: the session (``None``: :func:`default_session`).
    :param headers: headers of every request, over the session's.
    :param verify: the client's ``verify`` (``None``: the session's).
    :param cert: the client's ``cert`` (``None``: the session's).
    :param explicit_auth: the client sets ``Authorization`` itself: the session's ``auth``
        and netrc are not applied.
    """

    def __init__(self, session: requests.Session | None, headers: Mapping[str, str], *,
                 verify: bool | str | None, cert: str | tuple[str, str] | None,
                 explicit_auth: bool) -> None:
        self.owned = session is None
        self.session = default_session() if session is None else session
        merged = CaseInsensitiveDict(self.session.headers)
        merged.update(headers)
        self._headers = CaseInsensitiveDict({k: v for k, v in merged.items() if v is not None})
        self._store: dict[str, tuple[str, str]] = dict(header_store(self._headers))
        self._verify = verify
        self._cert = cert
        self._explicit_auth = explicit_auth
        self._settings: dict[str, EndpointSettings] = {}
        self._lock = threading.Lock()
        self._plain: dict[str | None, tuple[tuple[str, str], ...]] = {}  # content type -> items

    def settings(self, origin: str) -> EndpointSettings:
        """The settings of one origin (resolved on first use).

        :raises OSError: a netrc file cannot be read.
        """
        found = self._settings.get(origin)
        if found is None:
            with self._lock:
                found = self._settings.get(origin)
                if found is None:
                    found = endpoint_settings(self.session, origin, self._verify, self._cert)
                    if found.proxy and self.owned:  # the fast adapter speaks to members only
                        self.session.mount(origin + "/", HTTPAdapter())
                    self._settings[origin] = found
        return found

    def prepare(self, method: str, url: str, body: bytes | None, content_type: str | None,
                settings: EndpointSettings, *, authorize: bool = True) -> requests.PreparedRequest:
        """A prepared request as ``Session.prepare_request`` would build it, minus the lookups.

        :param authorize: apply the session's auth (or netrc): ``False`` after a redirect to
            another origin.
        """
        headers: CaseInsensitiveDict[str] = headers_from_store(CaseInsensitiveDict, self._store.copy())
        if content_type is not None:
            headers["Content-Type"] = content_type
        if body is not None:
            headers["Content-Length"] = str(len(body))
        elif method in _BODY_METHODS:
            headers["Content-Length"] = "0"
        if not authorize:
            headers.pop("Authorization", None)
        session = self.session
        cookies = session.cookies
        prep = new_prepared_request({"method": method, "url": url, "headers": headers,
                                     "_cookies": cookies, "body": body, "hooks": session.hooks,
                                     "_body_position": None})
        if has_cookies(cookies):
            prep.prepare_cookies(cookies)  # the Cookie header
        if authorize and not self._explicit_auth:
            auth: Any = session.auth
            if auth is None and settings.netrc is not None:
                auth = settings.netrc
            if isinstance(auth, tuple):
                auth = HTTPBasicAuth(*auth)
            if auth is not None:
                prep = auth(prep)
        return prep

    def direct(self, url: str, settings: EndpointSettings, *, authorize: bool) -> FastAdapter | None:
        """The adapter that may take a request to ``url`` directly (:meth:`exchange`: no
        ``PreparedRequest``, no ``Response``), when the session would add nothing to it:
        requests' own ``send``, no hooks, no cookies, no ``auth`` or netrc credentials to
        apply, no proxy, and a :class:`FastAdapter` itself mounted for the URL. ``None``: go
        through :meth:`prepare` and :meth:`send`, where each of those takes effect.
        """
        session = self.session
        if (not stock_send(type(session).send) or any(session.hooks.values())
                or has_cookies(session.cookies)
                or (settings.proxies and settings.proxies.get(url.partition(":")[0]))):
            return None
        if authorize and not self._explicit_auth and (
                session.auth is not None or settings.netrc is not None):
            return None
        adapter = session.get_adapter(url)
        return adapter if type(adapter) is FastAdapter else None

    def exchange(  # noqa: PLR0917 - one attempt's whole description
        self, adapter: FastAdapter, method: str, url: str, body: bytes | None,
        content_type: str | None, settings: EndpointSettings, headers: Mapping[str, str] | None,
        *, authorize: bool, timeout: float | None,
    ) -> DirectAnswer:
        """One attempt on :meth:`direct`'s adapter, with the headers :meth:`prepare` would
        send (``headers``: the call's own, dropped when not ``authorize``, as
        ``Authorization`` is).

        :raises AttemptError: the attempt failed (translated by :func:`classify`).
        """
        if authorize and not headers:
            items = self._plain.get(content_type)
            if items is None:
                items = self._plain[content_type] = self._items(content_type, None, authorize=True)
        else:
            items = self._items(content_type, headers, authorize=authorize)
        try:
            return adapter.exchange(method, url, items, body, timeout, settings.verify,
                                    settings.cert)
        except AttemptError:
            raise
        except (requests.RequestException, OSError, ValueError) as exc:
            raise classify(exc) from exc

    def _items(self, content_type: str | None, headers: Mapping[str, str] | None, *,
               authorize: bool) -> tuple[tuple[str, str], ...]:
        store = dict(self._store)
        if content_type is not None:
            store["content-type"] = ("Content-Type", content_type)
        if not authorize:
            store.pop("authorization", None)
        elif headers:
            for name, value in headers.items():
                store[name.lower()] = (name, value)
        return tuple(store.values())

    def send(self, prep: requests.PreparedRequest, settings: EndpointSettings, *,
             stream: bool, timeout: float | tuple[float | None, float | None] | None,
             ) -> requests.Response:
        """One attempt through the session's adapter for the URL, as ``Session.send`` with
        ``allow_redirects=False`` does it (response hooks, cookie persistence) minus its
        redirect preview; a session whose ``send`` is not requests' own (a subclass, or
        patched by requests-mock) gets ``session.send`` itself.

        :raises AttemptError: the attempt failed (translated by :func:`classify`).
        """
        session = self.session
        try:
            if not stock_send(type(session).send):  # a subclass, or patched (requests-mock)
                return session.send(
                    prep, stream=stream, timeout=timeout, verify=settings.verify,
                    cert=settings.cert, proxies=settings.proxies, allow_redirects=False,
                )
            adapter = session.get_adapter(prep.url or "")
            resp = adapter.send(prep, stream=stream, timeout=timeout,  # type: ignore[arg-type]
                                verify=settings.verify,
                                cert=settings.cert, proxies=settings.proxies)
            if any(session.hooks.values()):
                resp = dispatch_hook(  # type: ignore[no-untyped-call]
                    "response", prep.hooks, resp, stream=stream, timeout=timeout,
                    verify=settings.verify, cert=settings.cert, proxies=settings.proxies)
            raw = resp.raw
            if type(raw) is not StreamBody:  # as Session.send (it checks urllib3's answer)
                extract_cookies_to_jar(  # type: ignore[no-untyped-call]
                    session.cookies, prep, raw)
            if not stream:
                resp.content  # noqa: B018 - read the body within the attempt
        except AttemptError:
            raise
        except (requests.RequestException, OSError, ValueError) as exc:
            raise classify(exc, prep) from exc
        return resp

    def close(self) -> None:
        """Close the session's adapters if the session is ours (a user's session is theirs)."""
        if self.owned:
            for adapter in self.session.adapters.values():
                adapter.close()
