"""EtcdMap's read-through cache against real etcd: coherence, bounded staleness, threads."""

from __future__ import annotations

import random
from collections.abc import Callable

import cachetools
import pytest

from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client


class Clock:
    """A fake timer for cachetools.TTLCache: staleness is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_write_through_the_map_is_visible_on_the_next_read(
    client: Client, etcd_prefix: str
) -> None:
    cache: cachetools.TTLCache[str, object] = cachetools.TTLCache(maxsize=100, ttl=60)
    m = EtcdMap(client, etcd_prefix, cache=cache)
    m["k"] = "1"
    assert m["k"] == "1"
    m["k"] = "2"
    assert m["k"] == "2"
    m.set("k", "3", ttl=60)
    assert m["k"] == "3"
    assert m.compare_and_swap("k", "4", prev_value="3")
    assert m["k"] == "4"
    del m["k"]
    with pytest.raises(KeyError):
        m["k"]
    assert m.get("k") is None


def test_staleness_is_bounded_by_the_ttl(client: Client, etcd_prefix: str) -> None:
    clock = Clock()
    m = EtcdMap(client, etcd_prefix, cache=cachetools.TTLCache(maxsize=100, ttl=5, timer=clock))
    m["k"] = "old"
    assert m["k"] == "old"
    client.keys.set(f"{etcd_prefix}/k", "new")  # another writer, behind the cache's back
    clock.now = 4.9
    assert m["k"] == "old"  # served from the cache: within the TTL
    clock.now = 5.0
    assert m["k"] == "new"  # expired: read again


def test_cache_is_keyed_by_absolute_path_and_shared_by_views(
    client: Client, etcd_prefix: str
) -> None:
    storage: dict[str, object] = {}
    m = EtcdMap(client, etcd_prefix, cache=storage)
    m["d"] = {"x": "1"}
    view = m["d"]
    assert view["x"] == "1"
    assert f"{etcd_prefix}/d/x" in storage
    m["d"] = {"x": "2"}  # rewrites the directory through the parent
    assert view["x"] == "2"
    del m["d"]
    with pytest.raises(KeyError):
        view["x"]


def test_quorum_maps_bypass_the_cache(client: Client, etcd_prefix: str) -> None:
    storage: dict[str, object] = {}
    m = EtcdMap(client, etcd_prefix, quorum=True, cache=storage)
    m["k"] = "v"
    assert m["k"] == "v"
    assert storage == {}


def test_failed_conditional_writes_drop_a_stale_entry(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix, cache=cachetools.TTLCache(maxsize=10, ttl=600))
    m["k"] = "a"
    assert m["k"] == "a"
    client.keys.set(f"{etcd_prefix}/k", "b")  # the cache still says "a"
    assert not m.compare_and_swap("k", "c", prev_value="a")
    assert m["k"] == "b"  # the failure dropped the stale entry
    client.keys.set(f"{etcd_prefix}/k", "z")
    assert m["k"] == "b"  # cached again
    assert m.pop("k") == "z"  # the compare-and-delete retry re-reads: no endless loop
    assert "k" not in m


def test_concurrent_readers_and_writers(
    client: Client, etcd_prefix: str, run_threads: Callable[..., list[BaseException]]
) -> None:
    m = EtcdMap(client, etcd_prefix, cache=cachetools.TTLCache(maxsize=8, ttl=600))
    keys = [f"k{i}" for i in range(12)]  # more keys than the cache holds: evictions too
    for k in keys:
        m[k] = "0"

    def worker(n: int) -> None:
        rnd = random.Random(n)
        for i in range(150):
            k = rnd.choice(keys)
            if n % 2:
                m[k] = f"{n}-{i}"
            else:
                assert isinstance(m[k], str)

    errors = run_threads(worker, 6, timeout=60)
    assert errors == []
    fresh = EtcdMap(client, etcd_prefix).to_dict()
    assert {k: m[k] for k in keys} == fresh  # no stale read won over a later write
