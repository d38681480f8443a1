"""etcdmap quick start: connect to etcd (or start a throwaway one) and write and read a key.

Run it with ``python examples/quickstart.py``. With ``ETCDMAP_ENDPOINTS`` set (comma-separated
client URLs of an etcd 2.3-3.5 with the v2 API enabled) it uses that cluster; otherwise it
starts a local etcd through :mod:`etcdmap.testing` (``pip install 'etcdmap[server]'``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator

import requests

from etcdmap.testing import EtcdServer


@contextlib.contextmanager
def endpoints() -> Iterator[list[str]]:
    """The cluster to talk to: ``$ETCDMAP_ENDPOINTS``, or a local server started for the run."""
    configured = os.environ.get("ETCDMAP_ENDPOINTS", "").strip()
    if configured:
        yield [url.strip() for url in configured.split(",") if url.strip()]
        return
    with EtcdServer() as server:
        print(f"started a throwaway etcd at {server.client_url}")
        yield server.client_urls


def write_and_read(urls: list[str], key: str, value: str) -> str:
    """Write ``key`` and read it back; returns the value read."""
    try:
        from etcdmap.client import Client  # noqa: PLC0415 - optional while the client is written
    except ImportError:  # the client layer is not there yet: speak the v2 API directly
        url = f"{urls[0]}/v2/keys{key}"
        requests.put(url, data={"value": value}, timeout=5).raise_for_status()
        return str(requests.get(url, timeout=5).json()["node"]["value"])
    with Client(urls) as client:
        client.keys.set(key, value)
        node = client.keys.get(key).node
        return (node.value or "") if node is not None else ""


def main() -> int:
    """Run the quick start; returns the process exit status."""
    key = f"/etcdmap-quickstart/{uuid.uuid4().hex[:8]}"
    with endpoints() as urls:
        got = write_and_read(urls, key, "hello, etcd")
        print(f"{key} = {got!r}")
    return 0 if got == "hello, etcd" else 1


if __name__ == "__main__":
    sys.exit(main())
