"""Profile one hot call of the client on a fresh etcd: where its client CPU goes.

Usage (from the repository root)::

    python -m tests.benchmarks.profile get [--ops 2000] [--mode cprofile|cpu|loop]
    valgrind --tool=callgrind --callgrind-out-file=cg.out \\
        python -m tests.benchmarks.profile get --mode loop --ops 2000
    callgrind_annotate cg.out | head -60

Calls: ``get``, ``put``, ``cas`` (v2 ``client.keys``), ``mget``, ``mput`` (``EtcdMap[k]``, v2),
``v3get``, ``v3put``, ``v3cas`` (``etcdmap.v3`` ``kv``), ``v3mput`` (``EtcdMap[k] = v``, v3),
``mirror`` (``EtcdMap.mirror()`` of ``--keys`` keys, closed at once) and ``todict``
(``to_dict()`` of the same tree); ``rawget``, ``rawput``, ``rawcas`` are the v2 calls on raw
``http.client`` (the suite's floor, :class:`tests.benchmarks.contenders.HttpClientKV`).
``--endpoint`` uses a running etcd.

Modes: ``cpu`` prints the client CPU (``process_time``) per call; ``cprofile`` prints the
cProfile table (tottime); ``loop`` only runs the calls (for callgrind, whose instruction
counts, unlike wall-clock time, do not depend on what else runs on the machine). The
server's work is in another process and is not counted.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable

from ._harness import server_url

__all__ = ["main"]

CALLS = ("get", "put", "cas", "mget", "mput", "v3get", "v3put", "v3cas", "v3mput", "mirror",
         "todict", "rawget", "rawput", "rawcas")


def _fill(url: str, prefix: str, keys: int) -> None:
    from .tree import fill, tree_items  # noqa: PLC0415

    fill(url, tree_items(prefix, keys), threads=8)


def _call(name: str, url: str, keys: int) -> tuple[Callable[[int], object], Callable[[], None]]:
    """The operation (given its sequence number) and what closes its client."""
    import etcdmap  # noqa: PLC0415
    import etcdmap.v3  # noqa: PLC0415

    if name.startswith("raw"):
        from .contenders import HttpClientKV  # noqa: PLC0415

        raw = HttpClientKV(url)
        raw.put("/p/k", "v" * 32)
        raw.put("/p/c", "0")
        if name == "rawget":
            return lambda i: raw.get("/p/k"), raw.close
        if name == "rawput":
            return lambda i: raw.put("/p/k", "v" * 32), raw.close
        return lambda i: raw.cas("/p/c", str(i + 1), str(i)), raw.close
    if name.startswith("v3"):
        c3 = etcdmap.v3.Client(url)
        kv = c3.kv
        kv.put("/p/k", "v" * 32)
        kv.put("/p/c", "0")
        if name == "v3get":
            return lambda i: kv.get("/p/k"), c3.close
        if name == "v3put":
            return lambda i: kv.put("/p/k", "v" * 32), c3.close
        if name == "v3cas":
            compare, op = etcdmap.v3.Compare, etcdmap.v3.Op
            return (lambda i: kv.txn([compare.value("/p/c", "==", str(i))],
                                     [op.put("/p/c", str(i + 1))])), c3.close
        m3 = etcdmap.connect(url, "/m3", api="v3")
        m3["k"] = "v"
        return (lambda i: m3.__setitem__("k", "v" * 32)), m3.close
    c = etcdmap.Client(url)
    c.keys.set("/p/k", "v" * 32)
    c.keys.set("/p/c", "0")
    if name == "get":
        return lambda i: c.keys.get("/p/k"), c.close
    if name == "put":
        return lambda i: c.keys.set("/p/k", "v" * 32), c.close
    if name == "cas":
        return lambda i: c.keys.set("/p/c", str(i + 1), prev_value=str(i)), c.close
    m = etcdmap.EtcdMap(c, "/p")
    if name == "mget":
        return lambda i: m["k"], c.close
    if name == "mput":
        return lambda i: m.__setitem__("k", "v" * 32), c.close
    _fill(url, "/tree", keys)
    tree = etcdmap.EtcdMap(c, "/tree")
    if name == "todict":
        return lambda i: tree.to_dict(), c.close

    def load(_i: int) -> None:
        with tree.mirror():
            pass

    return load, c.close


def main(argv: list[str] | None = None) -> int:
    """Run one call ``--ops`` times in the chosen mode."""
    ap = argparse.ArgumentParser(prog="python -m tests.benchmarks.profile", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("call", choices=CALLS)
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--keys", type=int, default=100_000, help="tree size (mirror, todict)")
    ap.add_argument("--mode", choices=("cpu", "cprofile", "loop"), default="cpu")
    ap.add_argument("--endpoint")
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args(argv)
    with server_url(args.endpoint) as url:
        op, close = _call(args.call, url, args.keys)
        try:
            for i in range(min(args.ops, 200)):  # warm up code paths and connections
                op(i)
            start = min(args.ops, 200)  # CAS sequence numbers continue the warm-up's

            def run() -> None:
                for i in range(start, start + args.ops):
                    op(i)

            if args.mode == "cprofile":
                prof = cProfile.Profile()
                prof.runcall(run)
                pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(args.top)
            else:
                used, began = time.process_time(), time.perf_counter()
                run()
                cpu = (time.process_time() - used) / args.ops * 1e6
                wall = (time.perf_counter() - began) / args.ops * 1e6
                print(f"{args.call}: client CPU {cpu:.1f} us/op, wall {wall:.1f} us/op "
                      f"({args.ops} ops)")
        finally:
            close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
