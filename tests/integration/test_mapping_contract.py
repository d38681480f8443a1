"""The mapping contract (``tests/mapping_contract.py``) against a plain ``dict`` and against
``EtcdMap`` on a real etcd, through the v2 and the v3 API (the ``api`` fixture): every test
must pass for all three."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apis import client_for
from mapping_contract import MappingContract

from etcdmap import EtcdMap
from etcdmap.testing import EtcdServer


class TestDict(MappingContract):
    @pytest.fixture
    def mapping(self) -> dict[str, Any]:
        return {}


class TestEtcdMap(MappingContract):
    @pytest.fixture
    def mapping(self, api: str, etcd_server: EtcdServer, etcd_prefix: str) -> Iterator[EtcdMap]:
        with client_for(api, etcd_server.client_url) as client:
            yield EtcdMap(client, etcd_prefix)
