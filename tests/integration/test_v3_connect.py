"""``etcdmap.connect(api=...)``: "auto" picks v2 where the server serves it and v3 otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import etcdmap
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client as V3Client


@pytest.fixture(scope="module")
def v3_only() -> Iterator[EtcdServer]:
    with EtcdServer(enable_v2=False) as server:
        yield server


def test_auto_uses_v3_on_a_server_without_v2(v3_only: EtcdServer, etcd_prefix: str) -> None:
    with etcdmap.connect(v3_only.client_url, etcd_prefix) as m:
        assert m.backend.name == "v3" and isinstance(m.client, V3Client)
        assert "api='v3'" in repr(m)
        m["a"] = {"b": "1"}
        assert m == {"a": {"b": "1"}}
    with pytest.raises(etcdmap.errors.V2DisabledError):
        etcdmap.connect(v3_only.client_url, etcd_prefix, api="v2")["a"]


def test_auto_uses_v2_where_served(etcd_url: str, etcd_prefix: str) -> None:
    with etcdmap.connect(etcd_url, etcd_prefix) as m:
        assert m.backend.name == "v2" and isinstance(m.client, etcdmap.Client)
        assert "api='v2'" in repr(m)
    with etcdmap.connect(etcd_url, etcd_prefix, api="v3", timeout=3.0) as m3:
        assert m3.backend.name == "v3"
        m3["x"] = "1"
        assert m3.to_dict() == {"x": "1"}


def test_bad_api_and_v2_only_options(etcd_url: str) -> None:
    with pytest.raises(ValueError, match="api must be one of"):
        etcdmap.connect(etcd_url, "/x", api="v4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not take selection"):
        etcdmap.connect(etcd_url, "/x", api="v3", selection=etcdmap.Selection.RANDOM)
