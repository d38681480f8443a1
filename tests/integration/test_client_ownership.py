"""Whoever makes a client closes it, on real etcd (v2 and v3): a map over a shared client
leaves it open, with the watches of its other maps; a map made by ``connect`` closes its own."""

from __future__ import annotations

import pytest
from apis import client_for

import etcdmap
from etcdmap import EtcdMap, MapClosed


def test_a_shared_client_outlives_the_maps_over_it(etcd_url: str, etcd_prefix: str,
                                                   api: str) -> None:
    with client_for(api, etcd_url) as client:
        other = EtcdMap(client, f"{etcd_prefix}/other")
        with other.mirror() as live:
            with EtcdMap(client, f"{etcd_prefix}/a") as m:
                m["k"] = "v"
            assert live.watch.running  # the shared client's watches go on
            other["x"] = "1"
            assert live.wait_for(timeout=10)
            assert live.to_dict() == {"x": "1"}
        with pytest.raises(MapClosed):
            m["k"]
        assert EtcdMap(client, f"{etcd_prefix}/a")["k"] == "v"


def test_connect_closes_the_client_it_made(etcd_url: str, etcd_prefix: str, api: str) -> None:
    m = etcdmap.connect(etcd_url, etcd_prefix, api=api)  # type: ignore[arg-type]
    watch = m.watch()
    assert watch.running
    with m:
        m["k"] = "v"
    assert not watch.running  # closing its client ended its watches
    with pytest.raises(MapClosed):
        m["k"]
