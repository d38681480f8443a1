"""Run the etcdmap benchmark suite: etcdmap vs python-etcd vs raw http.client on one etcd.

Usage (from the repository root; ``python tests/benchmarks/run.py`` works too)::

    pip install -e '.[bench]'
    python -m tests.benchmarks [--quick] [--json bench-results.json] [--only kv,tree,...]

It starts a fresh etcd (and, for the failover workload, a 3-member cluster) with
:mod:`etcdmap.testing`, runs every workload with the contenders interleaved round by round
(7 rounds, median), prints the table with PASS/FAIL per target and writes the numbers as
JSON. A full run takes about a minute on 2 cores, ``--quick`` about 25 s.

Workload families: ``kv`` (GET, PUT, CAS, delete+create, 1 thread), ``threads`` (GET and PUT,
8 threads sharing one client), ``tree`` (``to_dict`` of 1,000 and 10,000 keys), ``mirror``
(``mirror[k]`` reads), ``mirrorload`` (loading ``mirror()`` of 100,000 keys vs ``to_dict()``
of the same tree), ``watch`` (a 2,000-write burst: events/s and missed events),
``failover`` (GETs right after SIGSTOP of the pinned member of a 3-member cluster), ``hub``
(watches at scale through a counting relay: 100 and 1,000 idle watches, 100 maps x 20 writes,
a blocked receiver, SIGSTOP under 100 watches, a mirror on a partitioned member), ``v3``
(GET, PUT, CAS on the v3 API, 1 thread: etcdmap.v3 vs cslab-etcd3 (gRPC), etcd3gw, raw
http.client and the gateway floor -- a plain socket that does not parse -- on the gateway),
``v3watch`` (a 2,000-put burst under a v3 prefix watch) and ``v3streams`` (1,000 idle v3
watches and 200 kept-alive v3 keys on one client, a 2,000-put burst over the watch WebSocket).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import secrets
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python tests/benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "tests.benchmarks"  # noqa: A001

from ._harness import (
    HTTP_CLIENT,
    PYTHON_ETCD,
    Result,
    Target,
    render_table,
    server_url,
    write_json,
)
from .contenders import EtcdMapKV, EtcdmapKV, make_contenders
from .contenders_v3 import make_v3_contenders
from .failover import run_failover
from .hub import run_hub
from .hub_faults import IDLE, run_hub_faults
from .kv import run_kv, run_threaded
from .mirror import LOAD_KEYS, run_mirror, run_mirror_load
from .streams_v3 import run_v3_streams, streams_targets
from .tree import run_tree
from .v3 import run_v3_kv, run_v3_watch
from .watch import run_watch

FAMILIES = ("kv", "threads", "tree", "mirror", "mirrorload", "watch", "failover", "hub", "v3",
            "v3watch", "v3streams")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _etcd_version(url: str) -> str:
    from .contenders import HttpClientKV  # noqa: PLC0415

    kv = HttpClientKV(url)
    try:
        return str(kv.get_json("/version").get("etcdserver", "?"))
    finally:
        kv.close()


def _find(results: Sequence[Result], workload: str, contender: str) -> Result | None:
    for r in results:
        if r.workload == workload and r.contender == contender:
            return r
    return None


def _floor(results: Sequence[Result], workload: str) -> str:
    """What the gateway leaves a client for the 0.85x target: the floor's rate over gRPC's,
    and the time per call over the floor's that 0.85x allows, beside etcdmap's."""
    em3, grpc = _find(results, workload, "etcdmap.v3"), _find(results, workload, "cslab-etcd3")
    floor = _find(results, workload, "gateway floor")
    if em3 is None or grpc is None or floor is None:
        return ""
    allowed = 1e6 / (0.85 * grpc.rate) - 1e6 / floor.rate  # us per call above the floor
    used = 1e6 / em3.rate - 1e6 / floor.rate
    return (f" (gateway floor {floor.rate / grpc.rate:.2f}x: 0.85x leaves {allowed:.0f} us/call"
            f" over it, etcdmap.v3 takes {used:.0f})")


def evaluate(results: Sequence[Result], request_timeout: float) -> list[Target]:
    """The issue's targets, computed from this run's results (absent workloads are skipped)."""
    targets: list[Target] = []

    def ratio(workload: str, goal: float) -> None:
        em, pe = _find(results, workload, "etcdmap"), _find(results, workload, PYTHON_ETCD)
        if em is None:
            return
        if pe is None:
            targets.append(Target(f"{workload}: >= {goal}x python-etcd", "no python-etcd", False))
            return
        x = em.rate / pe.rate
        floor = _find(results, workload, HTTP_CLIENT)
        raw = f" (raw http.client: {floor.rate / pe.rate:.2f}x)" if floor is not None else ""
        targets.append(Target(f"{workload}: >= {goal}x python-etcd", f"{x:.2f}x{raw}", x >= goal))

    # issue 24's targets: v2 vs python-etcd, v3 vs cslab-etcd3 (gRPC), mirror load vs to_dict
    for wl, goal in (("GET 1 thread", 1.5), ("PUT 1 thread", 1.3), ("CAS 1 thread", 1.3),
                     ("GET 8 threads", 2.3), ("PUT 8 threads", 1.8)):
        ratio(wl, goal)
    for wl in ("v3 GET 1 thread", "v3 PUT 1 thread", "v3 CAS 1 thread"):
        em3, grpc = _find(results, wl, "etcdmap.v3"), _find(results, wl, "cslab-etcd3")
        if em3 is not None and grpc is not None:
            x = em3.rate / grpc.rate
            targets.append(Target(f"{wl}: >= 0.85x cslab-etcd3", f"{x:.2f}x{_floor(results, wl)}",
                                  x >= 0.85))
    for r in results:
        if r.workload.startswith("mirror load") and r.contender == "mirror()":
            td = _find(results, r.workload, "to_dict()")
            if td is not None:
                x = td.rate / r.rate  # time ratio: the mirror's load over to_dict()'s
                targets.append(Target(f"{r.workload}: time <= 1.5x to_dict()", f"{x:.2f}x",
                                      x <= 1.5))
    get1, raw1 = _find(results, "GET 1 thread", "etcdmap"), _find(results, "GET 1 thread",
                                                                   HTTP_CLIENT)
    if get1 is not None and raw1 is not None and "cpu_us" in get1.extra:
        mine, raw = get1.extra["cpu_us"], raw1.extra.get("cpu_us", 0.0)
        targets.append(Target("GET 1 thread: client CPU <= raw http.client's",
                              f"{mine:.0f} vs {raw:.0f} us/op", mine <= raw))
    em = _find(results, "to_dict 10,000 keys", "etcdmap")
    pe = _find(results, "to_dict 10,000 keys", PYTHON_ETCD)
    if em is not None and pe is not None:
        x = pe.rate / em.rate  # time ratio: etcdmap's time over python-etcd's
        targets.append(
            Target("to_dict 10,000 keys: time <= 0.6x python-etcd", f"{x:.2f}x", x <= 0.6)
        )
    mirror = _find(results, "mirror reads", "mirror[k]")
    if mirror is not None:
        targets.append(
            Target("mirror[k] >= 1,000,000 reads/s", f"{mirror.rate:,.0f}/s", mirror.rate >= 1e6)
        )
    for r in results:
        if r.workload.startswith("watch") and r.contender == "etcdmap":
            missed = r.extra.get("missed_worst", -1)
            targets.append(Target("watch burst: 0 missed", f"{missed:.0f} missed", missed == 0))
            targets.append(
                Target("watch burst: >= 5,000 events/s", f"{r.rate:,.0f}/s", r.rate >= 5000)
            )
        if r.workload.startswith("v3 watch") and r.contender == "etcdmap.v3":
            missed = r.extra.get("missed_worst", -1)
            targets.append(Target("v3 watch burst: 0 missed", f"{missed:.0f} missed", missed == 0))
        if r.workload.startswith("SIGSTOP") and r.contender == "etcdmap":
            p99 = (r.p99_ms or 0.0) / 1e3
            targets.append(
                Target(
                    f"SIGSTOP failover p99 <= 1.2 x {request_timeout:g} s",
                    f"{p99:.3f} s",
                    p99 <= 1.2 * request_timeout,
                )
            )
    targets += _hub_targets(results, request_timeout)
    targets += streams_targets(list(results))
    return targets


def _hub_targets(results: Sequence[Result], request_timeout: float) -> list[Target]:
    """Issue 15's targets (watches at scale)."""
    targets: list[Target] = []
    for r in results:
        x = r.extra
        if r.workload.startswith("idle 100 "):
            targets += [
                Target("100 idle watches: <= 8 client threads", f"{x['threads']:.0f}",
                       x["threads"] <= 8),
                Target("100 idle watches: <= 0.2 new connections/s",
                       f"{x['new_connections_per_s']:.2f}/s", x["new_connections_per_s"] <= 0.2),
                Target("100 idle watches: <= 3 requests/s", f"{x['requests_per_s']:.2f}/s",
                       x["requests_per_s"] <= 3),
            ]
        elif r.workload.startswith("100 maps"):
            targets.append(Target("100 maps x 20 writes: every event delivered",
                                  f"{x['missed']:.0f} missed", x["missed"] == 0))
        elif r.workload.startswith("blocked receiver"):
            targets.append(Target("blocked receiver: other map delayed < 100 ms",
                                  f"{x['delay_ms']:.1f} ms", x["delay_ms"] < 100))
        elif r.workload.endswith("on a SIGSTOPped member"):
            budget = request_timeout + IDLE
            targets.append(Target(f"SIGSTOP under 100 watches: all moved <= {budget:g} s",
                                  f"{x['moved_s']:.2f} s", x["moved_s"] <= budget))
    return targets


def _run_v3(
    family: Callable[[str, Callable[[], list[Result]]], None], url: str, root: str, *,
    rounds: int, quick: bool,
) -> None:
    """The v3 families, on their own contenders (those that do not import are left out)."""
    contenders, skipped = make_v3_contenders(url)
    for name, why in skipped.items():
        print(f"  v3 contender {name} left out: {why}", file=sys.stderr)
    try:
        family("v3", lambda: run_v3_kv(contenders, root, rounds=rounds, ops=100 if quick else 200))
        family("v3watch", lambda: run_v3_watch(contenders, url, root, rounds=1 if quick else 3))
    finally:
        for kv in contenders:
            kv.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the chosen workloads, print the table, write the JSON file."""
    ap = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--quick", action="store_true", help="3 rounds, fewer ops (~25 s)")
    ap.add_argument("--json", default="bench-results.json", help="where to write the results")
    ap.add_argument(
        "--only",
        default=",".join(FAMILIES),
        help=f"comma-separated workload families: {','.join(FAMILIES)}",
    )
    ap.add_argument("--endpoint", help="use this running etcd instead of starting one")
    ap.add_argument("--check", action="store_true", help="exit with status 1 if a target fails")
    ap.add_argument(
        "--request-timeout",
        type=float,
        default=0.5,
        help="request_timeout for the failover workload (seconds)",
    )
    args = ap.parse_args(argv)
    only = {f.strip() for f in args.only.split(",") if f.strip()}
    unknown = only - set(FAMILIES)
    if unknown:
        ap.error(f"unknown workload families: {', '.join(sorted(unknown))}")
    q = args.quick
    rounds = 3 if q else 7
    began = time.monotonic()
    results: list[Result] = []
    root = f"/bench-{secrets.token_hex(4)}"
    timings: dict[str, float] = {}

    errors: dict[str, str] = {}

    def family(name: str, run: Callable[[], list[Result]]) -> None:
        """Run one workload family; a failure is reported and the other families still run."""
        if name not in only:
            return
        t0 = time.monotonic()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            results.extend(run())
        except Exception as exc:  # report it, keep the other families' numbers
            traceback.print_exc()
            errors[name] = f"{type(exc).__name__}: {exc}"
        timings[name] = round(timings.get(name, 0.0) + time.monotonic() - t0, 1)
        print(f"  {name}: {timings[name]} s", file=sys.stderr, flush=True)

    with server_url(args.endpoint) as url:
        etcd_version = _etcd_version(url)
        contenders = make_contenders(url)
        em = next(kv for kv in contenders if isinstance(kv, EtcdmapKV))
        try:
            for kv in contenders:  # warm up connections and code paths
                kv.put(f"{root}/warm", "1")
                kv.get(f"{root}/warm")
            facade = EtcdMapKV(em.client)
            family(
                "kv",
                lambda: run_kv(
                    contenders, root, rounds=rounds, ops=150 if q else 400, facade=facade
                ),
            )
            family(
                "threads",
                lambda: run_threaded(contenders, root, rounds=rounds, ops=400 if q else 1200),
            )
            family(
                "tree",
                # one call per contender per round, 3x the rounds: the finest interleaving
                lambda: run_tree(
                    contenders, url, root, sizes=(1000, 10000), rounds=3 * rounds, reps=1
                ),
            )
            family(
                "mirror",
                lambda: run_mirror(em, url, root, rounds=rounds, reads=100_000 if q else 300_000),
            )
            family(
                "mirrorload",
                lambda: run_mirror_load(em, url, root, keys=LOAD_KEYS, rounds=3 * rounds),
            )
            family("watch", lambda: run_watch(contenders, url, root, rounds=1 if q else 3))
            family("hub", lambda: run_hub(url, root, quick=q))
            family("v3streams", lambda: run_v3_streams(url, root, quick=q))
        finally:
            for kv in contenders:
                kv.close()
        if only & {"v3", "v3watch"}:
            _run_v3(family, url, root, rounds=rounds, quick=q)
    family(
        "failover",
        lambda: run_failover(request_timeout=args.request_timeout, trials=3 if q else 6, gets=20),
    )
    family("hub", lambda: run_hub_faults(request_timeout=args.request_timeout))
    elapsed = time.monotonic() - began
    targets = evaluate(results, args.request_timeout)
    targets += [Target(f"{name} workloads ran", "error", False) for name in errors]
    meta: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "mode": "quick" if q else "full",
        "rounds": rounds,
        "elapsed_s": round(elapsed, 1),
        "family_s": timings,
        "errors": errors,
        "etcd": etcd_version,
        "python": platform.python_version(),
        "cpu": _cpu(),
        "cpus": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "versions": {d: _version(d) for d in ("etcdmap", "python-etcd", "requests", "urllib3",
                                              "cslab-etcd3", "etcd3gw", "grpcio", "protobuf")},
    }
    v = meta["versions"]
    assert isinstance(v, dict)
    header = (
        f"etcdmap {v['etcdmap']} benchmarks ({meta['mode']}, {rounds} rounds, median; "
        f"{elapsed:.0f} s) - etcd {etcd_version} on loopback, 1 member (failover: 3)\n"
        f"Python {meta['python']}, {meta['cpu']}, {meta['cpus']} CPUs, {meta['os']}; "
        f"python-etcd {v['python-etcd']}, requests {v['requests']}, urllib3 {v['urllib3']}"
    )
    if only & {"v3", "v3watch"}:
        header += (f"\nv3: cslab-etcd3 {v['cslab-etcd3']} (grpcio {v['grpcio']}, protobuf "
                   f"{v['protobuf']}), etcd3gw {v['etcd3gw']}")
    print(render_table(results, targets, header))
    for name, text in errors.items():
        print(f"\n{name} failed: {text}")
    write_json(args.json, meta, results, targets)
    print(f"\nresults written to {args.json}")
    return 1 if args.check and not all(t.passed for t in targets) else 0


if __name__ == "__main__":
    raise SystemExit(main())
