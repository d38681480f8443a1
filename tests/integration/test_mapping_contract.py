"""The mapping contract (``tests/mapping_contract.py``) against a plain ``dict`` and against
``EtcdMap`` on a real etcd: every test must pass for both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mapping_contract import MappingContract

from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client


class TestDict(MappingContract):
    @pytest.fixture
    def mapping(self) -> dict[str, Any]:
        return {}


class TestEtcdMap(MappingContract):
    @pytest.fixture
    def mapping(self, etcd_server: EtcdServer, etcd_prefix: str) -> Iterator[EtcdMap]:
        with Client(etcd_server.client_url) as client:
            yield EtcdMap(client, etcd_prefix)
