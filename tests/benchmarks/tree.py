"""Whole-tree reads: ``EtcdMap.to_dict()`` vs python-etcd's recursive read + walk vs raw JSON.

All three produce the same nested ``dict`` of ``str`` values (a directory is a dict), and the
run checks that they agree before timing them.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ._harness import HTTP_CLIENT, Result, round_robin
from .contenders import KV, EtcdmapKV, HttpClientKV, PythonEtcdKV

__all__ = ["fill", "run_tree"]


def fill(url: str, items: Sequence[tuple[str, str]], *, threads: int = 4) -> None:
    """Write ``items`` with raw http.client from a few threads (setup, not timed)."""

    def work(part: Sequence[tuple[str, str]]) -> None:
        kv = HttpClientKV(url)
        try:
            for key, value in part:
                kv.put(key, value)
        finally:
            kv.close()

    workers = [
        threading.Thread(target=work, args=(items[t::threads],), daemon=True)
        for t in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)


def tree_items(prefix: str, n: int) -> list[tuple[str, str]]:
    """``n`` keys in directories of 100: ``<prefix>/d<j>/k<i>`` with 16-character values."""
    return [(f"{prefix}/d{j // 100}/k{j % 100}", f"value-{j:010d}") for j in range(n)]


def _json_tree(node: dict[str, Any]) -> dict[str, Any]:
    """Nested dict from an etcd JSON directory node (recursive GET)."""
    out: dict[str, Any] = {}
    for child in node.get("nodes", ()):
        name = child["key"].rsplit("/", 1)[1]
        out[name] = _json_tree(child) if child.get("dir") else child.get("value")
    return out


def http_to_dict(kv: HttpClientKV, prefix: str) -> dict[str, Any]:
    """``GET ?recursive=true``, ``json.loads``, walk the node dicts."""
    return _json_tree(kv.get_json(f"/v2/keys{prefix}?recursive=true")["node"])


def python_etcd_to_dict(kv: PythonEtcdKV, prefix: str) -> dict[str, Any]:
    """python-etcd's ``read(recursive=True)``, then a walk of its leaves into nested dicts."""
    result = kv.client.read(prefix, recursive=True)
    out: dict[str, Any] = {}
    cut = len(prefix) + 1
    for leaf in result.leaves:
        if leaf.dir:  # python-etcd yields empty directories as leaves
            continue
        *dirs, name = leaf.key[cut:].split("/")
        here = out
        for d in dirs:
            here = here.setdefault(d, {})
        here[name] = leaf.value
    return out


def etcdmap_to_dict(kv: EtcdmapKV, prefix: str) -> Callable[[], dict[str, Any]]:
    """``EtcdMap(client, prefix).to_dict`` (the map is built once, outside the timing)."""
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415

    return EtcdMap(kv.client, prefix).to_dict


def _ignore_arg(f: Callable[[], object]) -> Callable[[int], object]:
    return lambda _i: f()


def run_tree(
    contenders: Sequence[KV], url: str, root: str, *, sizes: Sequence[int], rounds: int, reps: int
) -> list[Result]:
    """Time ``to_dict`` equivalents for trees of each size in ``sizes``."""
    results: list[Result] = []
    for n in sizes:
        prefix = f"{root}/tree{n}"
        fill(url, tree_items(prefix, n))
        calls: list[tuple[str, Callable[[int], object]]] = []
        for kv in contenders:
            f: Callable[[], object]
            if isinstance(kv, EtcdmapKV):
                f = etcdmap_to_dict(kv, prefix)
            elif isinstance(kv, PythonEtcdKV):
                f = functools.partial(python_etcd_to_dict, kv, prefix)
            elif isinstance(kv, HttpClientKV):
                f = functools.partial(http_to_dict, kv, prefix)
            else:
                continue
            calls.append((kv.name, _ignore_arg(f)))
        # every contender must build the same dict before its speed counts
        answers = {name: call(0) for name, call in calls}
        reference = answers.get(HTTP_CLIENT)
        for name, answer in answers.items():
            if answer != reference:
                raise AssertionError(f"{name}: to_dict differs from the raw JSON walk")
        assert isinstance(reference, dict)
        assert sum(len(d) for d in reference.values()) == n
        results += round_robin(
            f"to_dict {n:,} keys", calls, rounds=rounds, ops=reps, unit="calls/s"
        )
    return results
