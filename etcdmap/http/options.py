"""``TransportOptions``: the one definition of a client's transport settings, validated once.

Every client takes the same settings -- :class:`etcdmap.Client`, :class:`etcdmap.v3.Client`,
:class:`etcdmap.http.transport.Transport` and the asyncio clients of :mod:`etcdmap.aio` -- as
keyword arguments (``timeout=5.0, username="u", ...``, typed by :class:`TransportSettings`)
or as one frozen :class:`TransportOptions` value (``options=``), the keywords overriding its
fields::

    base = TransportOptions(timeout=2.0, verify="/etc/etcd/ca.pem")
    etcdmap.Client(urls, options=base)
    etcdmap.v3.Client(urls, options=base, request_timeout=0.5)

A misspelt keyword raises :class:`TypeError` naming it (and the closest option), a bad value
the :class:`TypeError` or :class:`ValueError` that names the option: all in this module.

Thread-safety: :class:`TransportOptions` is immutable.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar

import requests

__all__ = ["TransportOptions", "TransportSettings", "with_settings_signature"]

_T = TypeVar("_T")


class TransportSettings(TypedDict, total=False):
    """The keyword arguments every client takes (the fields of :class:`TransportOptions`)."""

    timeout: float | None
    request_timeout: float | None
    username: str | None
    password: str | None
    verify: bool | str | None
    cert: str | tuple[str, str] | None
    max_redirects: int
    session: requests.Session | None


def _positive(name: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    if isinstance(value, bool) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds or None: {value!r}")


def _text(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """How a client reaches etcd: deadlines, credentials, TLS, redirects, the requests session.

    :param timeout: whole-call deadline in seconds across retries, endpoints and redirects
        (``None``: none).
    :param request_timeout: time allowed to one attempt on one endpoint before the next one is
        tried (``None``: only ``timeout`` bounds it). Set it below ``timeout`` to skip a hung
        (e.g. SIGSTOPped) member.
    :param username: the user: Basic auth on every attempt (v2), token authentication (v3).
    :param password: its password; never printed nor shown in ``repr``.
    :param verify: TLS verification as requests takes it: ``True``, ``False`` or a CA bundle
        path (``None``: the session's; ``True`` for the default session and the asyncio
        clients; ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` apply to ``True``).
    :param cert: client certificate: a PEM path or a ``(cert, key)`` pair (``None``: the
        session's).
    :param max_redirects: redirects followed per attempt.
    :param session: the ``requests.Session`` every request goes through (``None``: a default
        one with etcdmap's fast adapter mounted); the asyncio clients take none.
    :raises ValueError: a timeout that is not a positive number, a negative ``max_redirects``.
    :raises TypeError: a value of the wrong type (the message names the option).
    """

    timeout: float | None = 5.0
    request_timeout: float | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verify: bool | str | None = None
    cert: str | tuple[str, str] | None = None
    max_redirects: int = 10
    session: requests.Session | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _positive("timeout", self.timeout)
        _positive("request_timeout", self.request_timeout)
        _text("username", self.username)
        _text("password", self.password)
        redirects = self.max_redirects
        if isinstance(redirects, bool) or not isinstance(redirects, int) or redirects < 0:
            raise ValueError(f"max_redirects must be an int >= 0: {redirects!r}")
        if self.verify is not None and not isinstance(self.verify, (bool, str)):
            raise TypeError("verify must be True, False, a CA bundle path or None, "
                            f"not {type(self.verify).__name__}")
        cert = self.cert
        if not (cert is None or isinstance(cert, str) or (
                isinstance(cert, tuple) and len(cert) == 2 and all(isinstance(p, str) for p in cert))):
            raise TypeError(f"cert must be a PEM path, a (cert, key) pair of paths or None: {cert!r}")
        if self.session is not None and not isinstance(self.session, requests.Session):
            raise TypeError(f"session must be a requests.Session, not {type(self.session).__name__}")

    @classmethod
    def build(cls, owner: str, options: TransportOptions | None,
              settings: Mapping[str, object]) -> TransportOptions:
        """The options of a client: ``options`` (default: the defaults) with ``settings``
        (the client's keyword arguments) over them.

        :param owner: what takes them (``"Client"``), for the messages.
        :param options: a base value, or ``None``.
        :param settings: keyword arguments.
        :returns: the validated options.
        :raises TypeError: an unknown keyword (named, with the closest option), ``options``
            that is not a :class:`TransportOptions`, or a value of the wrong type.
        :raises ValueError: a bad value (see the class).
        """
        if options is not None and not isinstance(options, TransportOptions):
            raise TypeError(f"options must be a TransportOptions, not {type(options).__name__}")
        unknown = [name for name in settings if name not in _NAMES]
        if unknown:
            close = difflib.get_close_matches(unknown[0], _NAMES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"{owner}() got an unexpected keyword argument {unknown[0]!r}{hint}")
        base = cls() if options is None else options
        return dataclasses.replace(base, **settings) if settings else base  # type: ignore[arg-type]

    def replace(self, **settings: Any) -> TransportOptions:
        """A copy with some settings changed (validated as the constructor does).

        :raises TypeError, ValueError: as :meth:`build`.
        """
        return TransportOptions.build("TransportOptions.replace", self, settings)


_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(TransportOptions))


def with_settings_signature(cls: type[_T]) -> type[_T]:
    """Class decorator: show the transport settings as keyword-only parameters in the class's
    signature (``help()``, ``inspect.signature``) in place of its ``**settings``.

    :param cls: a class whose ``__init__`` takes ``**settings: Unpack[TransportSettings]``.
    :returns: ``cls``.
    """
    init: Callable[..., None] = cls.__init__
    params = [p for p in inspect.signature(init).parameters.values()
              if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD]
    params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                 annotation=f.type)
               for f in dataclasses.fields(TransportOptions)]
    cls.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return cls
