"""``etcdmap.aio.connect``: an asyncio client and an :class:`~etcdmap.aio.AsyncEtcdMap` over a
path, on etcd's v3 or v2 API -- :func:`etcdmap.connect` for asyncio code.

The decisions are :func:`etcdmap.connect`'s (:mod:`etcdmap._connect`, :mod:`etcdmap._api`):
the argument checks, which API ``"auto"`` chooses after one ``GET /version`` (the probe
itself, :func:`etcdmap._api.choose_api`, runs replayed on the asyncio transport), the refusal
of v2-only options on v3, and the warning when v3 is empty where the v2 store has keys.

Thread-safety: the map belongs to the event loop it was made on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator, Sequence
from types import TracebackType
from typing import Any

from etcdmap._api import check_v3, choose_api, v2_has_keys_instead, v2_keys_hint
from etcdmap._connect import AUTO_CHOSE_V3, Api, check_arguments, probe_with, refuse_v2_only
from etcdmap.aio.client import Client
from etcdmap.aio.client_base import AsyncClient
from etcdmap.aio.emap import AsyncEtcdMap
from etcdmap.aio.replay import ReplayPort, replay
from etcdmap.aio.v3.client import Client as V3Client
from etcdmap.mapping.codecs import Codec, resolve
from etcdmap.mapping.paths import normalize_path

__all__ = ["Connecting", "connect"]

log = logging.getLogger("etcdmap")

_REQUEST = frozenset({"request"})


def connect(
    endpoints: str | Sequence[str],
    path: str = "/",
    *,
    api: Api = "auto",
    codec: Codec | str | None = None,
    quorum: bool = False,
    **client_options: Any,
) -> Connecting:
    """Make an asyncio client and an :class:`~etcdmap.aio.AsyncEtcdMap` over ``path``: the
    parameters, the choice of API and the errors are :func:`etcdmap.connect`'s. Use it as
    ``async with etcdmap.aio.connect(...) as m:`` (the map and its client are closed at the
    end) or ``m = await etcdmap.aio.connect(...)`` (then ``await m.close()``).

    Arguments are checked here, before any request; the one request that proves the cluster
    reachable (and chooses the API for ``"auto"``) is made when awaited.

    :returns: an awaitable that gives the map, also an async context manager.
    :raises ValueError, TypeError: as :func:`etcdmap.connect` (at once).
    """
    v2_only = check_arguments(api, client_options)
    path, codec = normalize_path(path), resolve(codec)
    return Connecting(_open(endpoints, path, api=api, codec=codec, quorum=quorum,
                            options=client_options, v2_only=v2_only))


class Connecting:
    """What :func:`connect` returns: awaitable (the map) and an async context manager (the
    map, closed at the end).

    :param opening: the coroutine that makes the map.
    """

    def __init__(self, opening: Any) -> None:
        self._opening = opening
        self._map: AsyncEtcdMap | None = None

    def __await__(self) -> Generator[Any, None, AsyncEtcdMap]:
        return self._opening.__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> AsyncEtcdMap:
        self._map = await self._opening
        return self._map

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._map is not None:
            await self._map.close()


async def _open(endpoints: str | Sequence[str], path: str, *, api: Api, codec: Codec,
                quorum: bool, options: dict[str, Any], v2_only: list[str]) -> AsyncEtcdMap:
    client: Client | V3Client
    if api == "v2":
        client = Client(endpoints, **options)
        await _checked(client, client.backend.current_index("/"))  # reachable, v2 served
    elif api == "v3":
        refuse_v2_only(v2_only, "api='v3'")
        client = V3Client(endpoints, **options)
        await _checked(client, replay(check_v3, _port(client)))
    else:
        client = await _auto(endpoints, options, v2_only)
    emap = AsyncEtcdMap(client, path, codec=codec, quorum=quorum, owns_client=True)
    if isinstance(client, V3Client) and api == "auto" and await asyncio.to_thread(
            v2_has_keys_instead, client.blocking, emap.path):
        log.warning("%s", v2_keys_hint(emap.path))
    return emap


async def _auto(endpoints: str | Sequence[str], options: dict[str, Any],
                v2_only: list[str]) -> Client | V3Client:
    """The client ``auto`` chooses (see :mod:`etcdmap._api`), after one probe."""
    first: Client | V3Client = Client(endpoints, **options) if probe_with(v2_only) == "v2" \
        else V3Client(endpoints, **options)
    chosen = await _checked(first, replay(choose_api, _port(first)))
    if (chosen == "v3") == isinstance(first, V3Client):
        return first
    await first.aclose()
    if chosen == "v3":
        refuse_v2_only(v2_only, AUTO_CHOSE_V3)
        return V3Client(endpoints, **options)
    return Client(endpoints, **options)


def _port(client: AsyncClient) -> Any:
    """The client's transport as the blocking probes take it."""
    return ReplayPort(client.transport, _REQUEST)


async def _checked(client: AsyncClient, probe: Any) -> Any:
    """Await ``probe``; close ``client`` if it fails (the error goes on)."""
    try:
        return await probe
    except BaseException:
        await client.aclose()
        raise
