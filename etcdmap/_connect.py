"""``etcdmap.connect``: the one place that puts a client and a map together."""

from __future__ import annotations

import contextlib
import difflib
import inspect
import logging
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from etcdmap._api import API_CHOICES, check_v3, choose_api, v2_has_keys_instead, v2_keys_hint
from etcdmap.http.client import TransportClient
from etcdmap.mapping.codecs import Codec, resolve
from etcdmap.mapping.emap import EtcdMap
from etcdmap.mapping.paths import normalize_path
from etcdmap.v2.client import Client
from etcdmap.v3.client import Client as V3Client

__all__ = ["AUTO_CHOSE_V3", "Api", "check_arguments", "connect", "probe_with", "refuse_v2_only"]

Api = Literal["auto", "v2", "v3"]
"""Which etcd API ``connect`` uses (``"auto"``: v3 where the server serves it)."""

log = logging.getLogger("etcdmap")


def connect(
    endpoints: str | Sequence[str],
    path: str = "/",
    *,
    api: Api = "auto",
    codec: Codec | str | None = None,
    quorum: bool = False,
    **client_options: Any,
) -> EtcdMap:
    """Make a client and an :class:`~etcdmap.EtcdMap` over ``path``, on etcd's v3 or v2 API.

    The map owns that client: ``with etcdmap.connect(url, "/config") as m: ...`` closes it
    (and the map refuses to be used afterwards: :class:`~etcdmap.errors.MapClosed`).
    ``repr(m)`` says which API it uses (``api='v3'``); the two differ in details listed in the
    README ("etcd v3").

    Whatever ``api``, one request is made before the map is returned, so an unreachable
    cluster or an endpoint that is not etcd fails here, not at the first read: ``"auto"`` and
    ``"v3"`` ask ``/version`` (which also proves the endpoint is etcd), ``"v2"`` reads the v2
    store once (which also proves v2 is served).

    :param endpoints: one URL, several separated by commas, or a list (``host:port`` means
        ``http://host:port``), as :class:`~etcdmap.Client` takes them.
    :param path: the directory to map.
    :param api: ``"auto"`` (the default): v3 wherever the server serves it (etcd 3.4 and
        later; etcd keeps the v2 and v3 key spaces apart, and v3 is where ``etcdctl`` writes),
        v2 only on older servers -- decided by one ``GET /version``; when the chosen v3 has
        nothing at ``path`` while the v2 store has keys there, a warning is logged (logger
        ``etcdmap``) saying to pass ``api="v2"``. ``"v2"`` (:class:`etcdmap.Client`): etcd's
        v2 store, for data written through v2. ``"v3"`` (:class:`etcdmap.v3.Client`).
    :param codec: the value codec (see :class:`~etcdmap.EtcdMap`).
    :param quorum: linearizable reads (v3 reads always are).
    :param client_options: passed to the client (``timeout=``, ``username=``, ...); with v3
        only the options :class:`etcdmap.v3.Client` takes.
    :returns: the map, which owns its client.
    :raises NoEndpointsError: no endpoint given.
    :raises TypeError: an option no client takes (a misspelling: named, with the closest
        option), or a v2-only option (``selection=``) where the map runs on v3; a ``path``
        that is not a ``str``, a ``codec`` that is not one.
    :raises ValueError: an unknown ``api``, an invalid endpoint, option value, path or codec
        name (all checked before any request).
    :raises InvalidResponseError: the endpoint is not etcd; ``"v3"`` on etcd older than 3.4;
        :class:`~etcdmap.errors.V2DisabledError` for ``"v2"`` where v2 is not served.
    :raises ClusterError, DeadlineExceeded: no endpoint answered.
    """
    v2_only = check_arguments(api, client_options)
    path, codec = normalize_path(path), resolve(codec)  # bad input fails before any request
    client: Client | V3Client
    if api == "v2":
        client = Client(endpoints, **client_options)
        with _closed_on_error(client):
            client.backend.current_index("/")  # reachable, etcd, and v2 served
    elif api == "v3":
        refuse_v2_only(v2_only, "api='v3'")
        client = V3Client(endpoints, **client_options)
        with _closed_on_error(client):
            check_v3(client.transport)
    else:
        client = _auto(endpoints, client_options, v2_only)
    emap = EtcdMap(client, path, codec=codec, quorum=quorum, owns_client=True)
    if isinstance(client, V3Client) and api == "auto" and v2_has_keys_instead(client, emap.path):
        log.warning("%s", v2_keys_hint(emap.path))
    return emap


def _auto(endpoints: str | Sequence[str], options: dict[str, Any],
          v2_only: list[str]) -> Client | V3Client:
    """The client ``auto`` chooses (see :mod:`etcdmap._api`), after one probe."""
    first: Client | V3Client = Client(endpoints, **options) if probe_with(v2_only) == "v2" \
        else V3Client(endpoints, **options)
    with _closed_on_error(first):
        chosen = choose_api(first.transport)
    if (chosen == "v3") == isinstance(first, V3Client):
        return first
    first.close()
    if chosen == "v3":
        refuse_v2_only(v2_only, AUTO_CHOSE_V3)
        return V3Client(endpoints, **options)
    return Client(endpoints, **options)


def probe_with(v2_only: list[str]) -> Literal["v2", "v3"]:
    """Which client ``auto`` makes for its probe: the v2 one when a v2-only option was given
    (it is then likely kept), else the v3 one."""
    return "v2" if v2_only else "v3"


AUTO_CHOSE_V3 = "api='auto' chose v3: the server serves it"
"""Why a v2-only option is refused after ``auto``'s probe chose v3."""


@contextlib.contextmanager
def _closed_on_error(client: TransportClient) -> Iterator[None]:
    """Close ``client`` if the block raises (the error goes on)."""
    try:
        yield
    except BaseException:
        client.close()
        raise


_V2_OPTIONS = frozenset(inspect.signature(Client).parameters) - {"endpoints"}
_V3_OPTIONS = frozenset(inspect.signature(V3Client).parameters) - {"endpoints"}


def check_arguments(api: str, options: dict[str, Any]) -> list[str]:
    """``connect``'s checks before any request (shared with :func:`etcdmap.aio.connect`):
    a known ``api``, and no option that no client takes, as Python refuses an unexpected
    keyword.

    :returns: the options only the v2 client takes (e.g. ``selection``).
    :raises ValueError: an unknown ``api``.
    :raises TypeError: an unknown option, named with the closest known one.
    """
    if api not in API_CHOICES:
        raise ValueError(f"api must be one of {', '.join(map(repr, API_CHOICES))}, got {api!r}")
    known = _V2_OPTIONS | _V3_OPTIONS
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"connect() got an unexpected keyword argument {name!r}{hint}")
    return sorted(set(options) - _V3_OPTIONS)


def refuse_v2_only(v2_only: list[str], why: str) -> None:
    """Refuse options of the v2 client only where the map runs on v3.

    :raises TypeError: there is one (named, with ``why`` and what to do).
    """
    if v2_only:
        raise TypeError(
            f"connect() got {', '.join(v2_only)}=, an option of the v2 client only, and the map "
            f"runs on v3 ({why}): drop it, or pass api='v2'"
        )
