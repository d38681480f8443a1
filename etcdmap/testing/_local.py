"""The cluster a script should talk to: the configured one, or a throwaway local server."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from etcdmap.testing._server import EtcdServer

ENV_ENDPOINTS = "ETCDMAP_ENDPOINTS"
"""Comma-separated client URLs of the cluster to use instead of a throwaway server."""


def configured_endpoints() -> list[str]:
    """The client URLs in ``$ETCDMAP_ENDPOINTS`` (comma-separated), or ``[]`` when unset."""
    raw = os.environ.get(ENV_ENDPOINTS, "")
    return [url.strip() for url in raw.split(",") if url.strip()]


@contextlib.contextmanager
def local_endpoints(*, announce: bool = True) -> Iterator[list[str]]:
    """Yield the endpoints of ``$ETCDMAP_ENDPOINTS``, or of a throwaway etcd started for the block.

    Made for examples and scripts: they run against a real cluster when one is configured and
    need nothing installed but the ``server`` extra otherwise. The throwaway server (v2 enabled,
    free loopback ports, temporary data dir) is stopped and removed when the block ends.

    :param announce: print ``started a throwaway etcd at <url>`` when a server is started.
    :raises EtcdStartError: no endpoint is configured and etcd could not be started.
    """
    configured = configured_endpoints()
    if configured:
        yield configured
        return
    with EtcdServer() as server:
        if announce:
            print(f"started a throwaway etcd at {server.client_url}", flush=True)
        yield list(server.client_urls)
