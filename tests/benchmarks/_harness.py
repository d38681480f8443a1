"""Timing, statistics and reporting for the benchmark suite (no etcd, no contenders here).

The method: every workload runs its contenders **round-robin** (round 1: A, B, C; round 2:
B, C, A; ...), so slow drift of the machine (other processes, CPU frequency, etcd's own
compaction) hits every contender alike. A contender's rate is the **median of its per-round
rates**; its p50/p99 latencies come from every timed operation of every round.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

__all__ = ["Result", "Target", "percentile", "render_table", "round_robin", "server_url",
           "write_json"]

PYTHON_ETCD = "python-etcd"
HTTP_CLIENT = "http.client"
ETCDMAP = "etcdmap"


@dataclass
class Result:
    """One contender's numbers in one workload.

    :ivar workload: the workload's label, e.g. ``"GET 1 thread"``.
    :ivar contender: ``"etcdmap"``, ``"python-etcd"``, ``"http.client"`` or a variant label.
    :ivar rate: operations (or events, or reads) per second: the median of the per-round rates.
    :ivar unit: what ``rate`` counts, e.g. ``"ops/s"``.
    :ivar p50_ms: median latency of one operation, in milliseconds (``None``: not timed per op).
    :ivar p99_ms: 99th percentile latency, in milliseconds.
    :ivar note: free text for the table (e.g. ``"missed 0/2000"``).
    :ivar rounds: the per-round rates, for the JSON file.
    :ivar extra: workload-specific numbers for the JSON file (e.g. ``{"missed": 0}``).
    """

    workload: str
    contender: str
    rate: float
    unit: str = "ops/s"
    p50_ms: float | None = None
    p99_ms: float | None = None
    note: str = ""
    rounds: list[float] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)
    ratios: bool = True
    """Whether the table shows rate ratios for this row (not for latency-only workloads)."""


@dataclass
class Target:
    """One pass/fail target of the issue, evaluated on numbers from the same run."""

    name: str
    measured: str
    passed: bool


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values, nearest-rank; 0.0 when empty."""
    if not sorted_values:
        return 0.0
    rank = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


Op = Callable[[int], object]
"""One timed operation; it gets the operation's sequence number."""


def round_robin(
    workload: str,
    contenders: Sequence[tuple[str, Op]],
    *,
    rounds: int,
    ops: int,
    unit: str = "ops/s",
    setup: Callable[[str], None] | None = None,
) -> list[Result]:
    """Time ``ops`` calls of every contender's operation, ``rounds`` times, interleaved.

    :param workload: the label for the table.
    :param contenders: ``(name, op)`` pairs; ``op(i)`` performs operation number ``i``.
    :param rounds: how many rounds; the order of contenders rotates each round.
    :param ops: operations per contender per round.
    :param unit: what the rate counts.
    :param setup: called with the contender's name before each of its rounds (not timed).
    :returns: one :class:`Result` per contender, in the order given.
    """
    latencies: dict[str, list[float]] = {name: [] for name, _ in contenders}
    rates: dict[str, list[float]] = {name: [] for name, _ in contenders}
    cpu: dict[str, list[float]] = {name: [] for name, _ in contenders}
    seq = dict.fromkeys(latencies, 0)
    clock = time.perf_counter
    for r in range(rounds):
        order = [*contenders[r % len(contenders) :], *contenders[: r % len(contenders)]]
        for name, op in order:
            if setup is not None:
                setup(name)
            lat = latencies[name]
            base = seq[name]
            used = time.process_time()
            start = clock()
            prev = start
            for i in range(base, base + ops):
                op(i)
                now = clock()
                lat.append(now - prev)
                prev = now
            cpu[name].append((time.process_time() - used) / ops)
            rates[name].append(ops / (prev - start))
            seq[name] = base + ops
    results = [_result(workload, name, rates[name], latencies[name], unit)
               for name, _ in contenders]
    for res in results:  # the client's own CPU per operation (the server is another process)
        res.extra["cpu_us"] = round(statistics.median(cpu[res.contender]) * 1e6, 1)
        res.note = f"client CPU {res.extra['cpu_us']:.0f} us/op"
    return results


def _result(workload: str, name: str, rates: list[float], lat: list[float], unit: str) -> Result:
    lat.sort()
    return Result(
        workload,
        name,
        statistics.median(rates),
        unit,
        percentile(lat, 0.50) * 1e3,
        percentile(lat, 0.99) * 1e3,
        rounds=[round(x, 1) for x in rates],
    )


def result_from_samples(
    workload: str, name: str, rates: list[float], latencies: list[float], unit: str = "ops/s"
) -> Result:
    """Build a :class:`Result` from per-round rates and per-op latencies (seconds)."""
    return _result(workload, name, rates, list(latencies), unit)


def _fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def _fmt_ms(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def render_table(results: Sequence[Result], targets: Sequence[Target], header: str) -> str:
    """The human table: one line per result, ratios to python-etcd and http.client, targets.

    Ratios are rate ratios (higher is faster) against the contender of the same workload.
    """
    by_wl: dict[str, dict[str, Result]] = {}
    for res in results:
        by_wl.setdefault(res.workload, {})[res.contender] = res
    cols = ("workload", "contender", "rate", "unit", "p50 ms", "p99 ms", "/py-etcd", "/http")
    rows: list[tuple[str, ...]] = []
    for wl, group in by_wl.items():
        pe, hc = group.get(PYTHON_ETCD), group.get(HTTP_CLIENT)
        first = True
        for res in group.values():
            rows.append(
                (
                    wl if first else "",
                    res.contender,
                    _fmt_rate(res.rate),
                    res.unit,
                    _fmt_ms(res.p50_ms),
                    _fmt_ms(res.p99_ms),
                    _ratio(res, pe),
                    _ratio(res, hc),
                    res.note,
                )
            )
            first = False
    notes = [r[-1] for r in rows]
    rows = [r[:-1] for r in rows]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    right = {2, 4, 5, 6, 7}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [header, "", line(cols), line(["-" * w for w in widths])]
    previous = None
    indent = " " * (widths[0] + 4)
    for r, note in zip(rows, notes, strict=True):
        if r[0] and previous is not None:
            out.append("")
        out.append(line(r))
        if note:
            out.append(f"{indent}({note})")
        previous = r
    if targets:
        tw = max(len(t.name) for t in targets)
        mw = max(len(t.measured) for t in targets)
        out += ["", "Targets (same run):"]
        out += [
            f"  {t.name.ljust(tw)}  {t.measured.rjust(mw)}  {'PASS' if t.passed else 'FAIL'}"
            for t in targets
        ]
        passed = sum(t.passed for t in targets)
        out.append(f"  {passed}/{len(targets)} targets pass")
    return "\n".join(out)


def _ratio(res: Result, ref: Result | None) -> str:
    if ref is None or ref is res or ref.rate <= 0 or ref.unit != res.unit or not res.ratios:
        return ""
    return f"{res.rate / ref.rate:.2f}x"


def write_json(
    path: str, meta: dict[str, object], results: Sequence[Result], targets: Sequence[Target]
) -> None:
    """Write the run's metadata, results and targets as JSON to ``path``."""
    doc = {
        "meta": meta,
        "results": [asdict(r) for r in results],
        "targets": [asdict(t) for t in targets],
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")


@contextlib.contextmanager
def server_url(endpoint: str | None) -> Iterator[str]:
    """``endpoint`` when given, else the URL of a fresh etcd started for the block."""
    if endpoint:
        yield endpoint
        return
    from etcdmap.testing import EtcdServer  # noqa: PLC0415

    with EtcdServer() as server:
        yield server.client_url
