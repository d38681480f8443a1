"""Tests of the same shape on etcd's v2 and v3 APIs: the pieces that differ by API.

Not a test module: the test modules import it by name (pytest puts ``tests/`` on ``sys.path``,
as for ``mapping_contract.py``). A test that asks for the ``api`` fixture (``tests/conftest.py``)
runs once on each API; :func:`only` narrows a case that exists on one API alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from etcdmap import Client
from etcdmap.errors import KeyNotFound
from etcdmap.v3 import Client as V3Client

APIS = ["v2", "v3"]
"""The APIs the ``api`` fixture gives, in this order."""

AnyClient = Client | V3Client


def only(api: str) -> pytest.MarkDecorator:
    """Runs a test that asks for the ``api`` fixture on ``api`` alone (a case that exists on
    that API only)."""
    return pytest.mark.parametrize("api", [api], indirect=True)


def client_for(api: str, endpoints: str | Sequence[str], **options: Any) -> AnyClient:
    """A client of ``api`` (``"v2"``: :class:`etcdmap.Client`, ``"v3"``:
    :class:`etcdmap.v3.Client`) over ``endpoints``, with the same keyword options."""
    if api == "v2":
        return Client(endpoints, **options)
    return V3Client(endpoints, **options)


def assert_nothing_under(client: AnyClient, path: str) -> None:
    """Nothing is stored at ``path`` or below it, asked of the API itself (not of a map)."""
    if isinstance(client, V3Client):
        # [path, path + "0"): the key itself and every key under "path/" ("/" < "0").
        assert client.kv.range(path, range_end=path + "0", count_only=True).count == 0
    else:
        with pytest.raises(KeyNotFound):
            client.keys.get(path, recursive=True)
