"""``etcdmap.connect``: the one place that puts a client and a map together."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Literal

from etcdmap.errors import V2DisabledError
from etcdmap.mapping.codecs import Codec
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client
from etcdmap.v3.client import Client as V3Client

__all__ = ["connect"]

Api = Literal["auto", "v2", "v3"]
_APIS = ("auto", "v2", "v3")


def connect(
    endpoints: str | Sequence[str],
    path: str = "/",
    *,
    api: Api = "auto",
    codec: Codec | str | None = None,
    quorum: bool = False,
    **client_options: Any,
) -> EtcdMap:
    """Make a client and an :class:`~etcdmap.EtcdMap` over ``path``, on etcd's v2 or v3 API.

    The map owns that client: ``with etcdmap.connect(url, "/config") as m: ...`` closes it.
    ``repr(m)`` says which API it uses (``api='v3'``); the two differ in details listed in the
    README ("etcd v3").

    :param endpoints: one URL or a list, as :class:`~etcdmap.Client` takes them.
    :param path: the directory to map.
    :param api: ``"v2"`` (:class:`etcdmap.Client`), ``"v3"`` (:class:`etcdmap.v3.Client`), or
        ``"auto"``: v2 where the server serves it, else v3 -- decided once, by one quorum read
        of an absent key on v2 (``404 page not found``: v2 is disabled, as on etcd 3.4/3.5
        without ``--enable-v2`` and on 3.6+).
    :param codec: the value codec (see :class:`~etcdmap.EtcdMap`).
    :param quorum: linearizable reads (v3 reads always are).
    :param client_options: passed to the client (``timeout=``, ``username=``, ...); on v3
        only the options :class:`etcdmap.v3.Client` takes.
    :returns: the map.
    :raises NoEndpointsError: no endpoint given.
    :raises ValueError: an unknown ``api``, or a v2-only option (e.g. ``session=``) for v3.
    :raises EtcdMapError: ``"auto"`` could not reach any endpoint to decide.
    """
    if api not in _APIS:
        raise ValueError(f"api must be one of {', '.join(map(repr, _APIS))}, got {api!r}")
    if api == "v3":
        return EtcdMap(_v3_client(endpoints, client_options), path, codec=codec, quorum=quorum)
    client = Client(endpoints, **client_options)
    if api == "auto":
        try:
            client.backend.current_index("/")
        except V2DisabledError:
            client.close()
            return EtcdMap(_v3_client(endpoints, client_options), path, codec=codec,
                           quorum=quorum)
        except BaseException:
            client.close()
            raise
    return EtcdMap(client, path, codec=codec, quorum=quorum)


def _v3_client(endpoints: str | Sequence[str], options: dict[str, Any]) -> V3Client:
    accepted = set(inspect.signature(V3Client).parameters) - {"endpoints"}
    extra = sorted(set(options) - accepted)
    if extra:
        raise ValueError(
            f"the v3 client does not take {', '.join(extra)} (it takes {', '.join(sorted(accepted))})"
        )
    return V3Client(endpoints, **options)
