"""ReadCache without a server: hits, index ordering, tombstones, subtrees, TTL via a fake timer."""

from __future__ import annotations

from collections.abc import Callable

import cachetools
import pytest

from etcdmap.mapping.cache import ReadCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_wrap() -> None:
    assert ReadCache.wrap(None) is None
    rc = ReadCache({})
    assert ReadCache.wrap(rc) is rc
    assert isinstance(ReadCache.wrap({}), ReadCache)
    with pytest.raises(TypeError):
        ReadCache([])  # type: ignore[arg-type]


def test_hit_miss_and_newer_wins() -> None:
    rc = ReadCache({})
    assert rc.lookup("/a") == (False, None)
    assert rc.store("/a", 5, "v5")
    assert rc.lookup("/a") == (True, "v5")
    assert not rc.store("/a", 4, "stale")  # a slow read must not undo a newer write
    assert rc.lookup("/a") == (True, "v5")
    assert rc.store("/a", 6, "v6")
    assert rc.lookup("/a") == (True, "v6")


def test_delete_tombstone_refuses_older_answers() -> None:
    rc = ReadCache({})
    rc.store("/a", 5, "v5")
    rc.forget("/a", 7)
    assert rc.lookup("/a") == (False, None)
    assert not rc.store("/a", 5, "v5")  # read before the delete, answered after it
    assert rc.store("/a", 9, "again")  # re-created later
    assert rc.lookup("/a") == (True, "again")
    rc.forget("/a")
    assert rc.lookup("/a") == (False, None) and len(rc) == 0


def test_forget_tree() -> None:
    rc = ReadCache({})
    for key in ("/d/x", "/d/e/y", "/dd", "/d"):
        rc.store(key, 1, key)
    rc.forget_tree("/d", 3)
    assert rc.lookup("/dd") == (True, "/dd")
    assert [rc.lookup(k)[0] for k in ("/d", "/d/x", "/d/e/y")] == [False, False, False]
    rc.clear()
    assert len(rc) == 0


def test_ttl_bounds_staleness_with_an_injected_timer() -> None:
    clock = Clock()
    rc = ReadCache(cachetools.TTLCache(maxsize=10, ttl=5, timer=clock))
    rc.store("/a", 1, "v")
    clock.now = 4.9
    assert rc.lookup("/a") == (True, "v")
    clock.now = 5.0
    assert rc.lookup("/a") == (False, None)


def test_bounded_size_evicts() -> None:
    rc = ReadCache(cachetools.LRUCache(maxsize=2))
    for i in range(5):
        rc.store(f"/k{i}", i, i)
    assert len(rc) == 2
    assert rc.lookup("/k4") == (True, 4)
    assert "ReadCache(LRUCache" in repr(rc)


def test_concurrent_use_of_a_cachetools_cache(
    run_threads: Callable[..., list[BaseException]],
) -> None:
    rc = ReadCache(cachetools.TTLCache(maxsize=64, ttl=60))

    def worker(n: int) -> None:
        for i in range(3000):
            key = f"/k{(i * 7 + n) % 100}"
            if i % 3 == 0:
                rc.store(key, i, i)
            elif i % 3 == 1:
                rc.lookup(key)
            else:
                rc.forget_tree(key, i)

    errors = run_threads(worker, 6)
    assert errors == []
    assert len(rc) <= 64
