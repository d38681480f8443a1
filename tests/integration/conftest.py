"""Fixtures shared by the integration tests (the etcd fixtures come from ``etcdmap.testing``).

A module that needs a differently configured client (a longer timeout, a cluster) defines its
own ``client`` fixture, which takes precedence over this one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from etcdmap.client import Client
from etcdmap.mapping import EtcdMap


@pytest.fixture
def client(etcd_url: str) -> Iterator[Client]:
    """A default :class:`Client` on the shared ``etcd_server``, closed after the test."""
    with Client(etcd_url) as c:
        yield c


@pytest.fixture
def m(client: Client, etcd_prefix: str) -> EtcdMap:
    """An :class:`EtcdMap` on the test's own prefix, through ``client``."""
    return EtcdMap(client, etcd_prefix)
