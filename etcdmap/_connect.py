"""``etcdmap.connect``: the one place that puts a client and a map together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from etcdmap.mapping.codecs import Codec
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client

__all__ = ["connect"]


def connect(
    endpoints: str | Sequence[str],
    path: str = "/",
    *,
    codec: Codec | str | None = None,
    quorum: bool = False,
    **client_options: Any,
) -> EtcdMap:
    """Make a :class:`~etcdmap.Client` and an :class:`~etcdmap.EtcdMap` over ``path``.

    The map owns that client: ``with etcdmap.connect(url, "/config") as m: ...`` closes it.

    :param endpoints: one URL or a list, as :class:`~etcdmap.Client` takes them.
    :param path: the directory to map.
    :param codec: the value codec (see :class:`~etcdmap.EtcdMap`).
    :param quorum: linearizable reads.
    :param client_options: passed to :class:`~etcdmap.Client` (``timeout=``,
        ``username=``, ...).
    :returns: the map.
    :raises NoEndpointsError: no endpoint given.
    """
    return EtcdMap(Client(endpoints, **client_options), path, codec=codec, quorum=quorum)
