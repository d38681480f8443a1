"""Reads from the live mirror (``EtcdMap.mirror()``): ``mirror[k]`` per second.

The mirror is a watch-coherent local copy, so a read should cost about what a dict lookup
costs. A plain ``dict`` with the same keys is the reference row; etcdmap's ``m[k]`` (one HTTP
GET per read) is shown for scale.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from ._harness import Result
from .contenders import EtcdmapKV
from .tree import fill

__all__ = ["run_mirror"]

KEYS = 1000


def _reads_per_s(read: Callable[[str], object], keys: list[str], rounds: int, n: int) -> Result:
    rates = []
    batch = (keys * (n // len(keys) + 1))[:n]
    clock = time.perf_counter
    for _ in range(rounds):
        start = clock()
        for k in batch:
            read(k)
        rates.append(n / (clock() - start))
    rates.sort()
    return Result("", "", rates[len(rates) // 2], "reads/s", rounds=[round(r) for r in rates])


def run_mirror(kv: EtcdmapKV, url: str, root: str, *, rounds: int, reads: int) -> list[Result]:
    """Fill a flat directory of 1,000 keys, mirror it, time ``mirror[k]`` against a dict."""
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415

    prefix = f"{root}/mirror"
    fill(url, [(f"{prefix}/k{i}", f"value-{i:010d}") for i in range(KEYS)])
    keys = [f"k{i}" for i in range(KEYS)]
    m = EtcdMap(kv.client, prefix)
    with contextlib.ExitStack() as stack:
        live: Any = m.mirror()
        if hasattr(live, "__enter__"):
            live = stack.enter_context(live)
        reference = {k: live[k] for k in keys}
        if reference != {k: f"value-{i:010d}" for i, k in enumerate(keys)}:
            raise AssertionError("the mirror does not hold the values written")
        res = [
            _reads_per_s(live.__getitem__, keys, rounds, reads),
            _reads_per_s(reference.__getitem__, keys, rounds, reads),
            _reads_per_s(m.__getitem__, keys, 1, 300),
        ]
    for r, name in zip(res, ("mirror[k]", "dict[k]", "EtcdMap m[k]"), strict=True):
        r.workload, r.contender = "mirror reads", name
    return res


LOAD_KEYS = 100_000


def run_mirror_load(
    kv: EtcdmapKV, url: str, root: str, *, keys: int, rounds: int
) -> list[Result]:
    """Fill ``keys`` keys (directories of 100), time loading ``EtcdMap.mirror()`` (opened and
    closed at once) against ``to_dict()`` of the same tree, interleaved round by round.

    Both do one recursive GET of the same tree and build nested dicts from it; the mirror
    also keeps each node's ``modifiedIndex`` and starts (then stops) its watch.
    """
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415

    from ._harness import round_robin  # noqa: PLC0415
    from .tree import tree_items  # noqa: PLC0415

    prefix = f"{root}/load{keys}"
    fill(url, tree_items(prefix, keys), threads=8)
    m = EtcdMap(kv.client, prefix)

    def load(_i: int) -> object:
        with m.mirror() as live:
            return live

    with m.mirror() as live:
        if live.to_dict() != m.to_dict():
            raise AssertionError("the mirror's copy differs from to_dict()")
    label = f"mirror load {keys:,} keys"
    res = round_robin(label, [("mirror()", load), ("to_dict()", lambda _i: m.to_dict())],
                      rounds=rounds, ops=1, unit="loads/s")
    for r in res:
        r.ratios = False
    return res
