"""Key/value request workloads: GET, PUT, CAS, delete+recreate (1 thread), GET/PUT (8 threads).

Every contender works on its own keys (``<root>/<contender>/...``) so no contender's writes
change what another one reads; the keys and values have the same sizes for all of them.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence

from ._harness import Result, result_from_samples, round_robin
from .contenders import KV

__all__ = ["run_kv", "run_threaded"]

KEYS = 100
VALUE = "v" * 32


def _k(root: str, kv: KV, family: str, i: int) -> str:
    return f"{root}/{kv.name}/{family}/k{i % KEYS}"


def _prepare(contenders: Sequence[KV], root: str, families: Sequence[str]) -> None:
    for kv in contenders:
        for family in families:
            for i in range(KEYS):
                kv.put(_k(root, kv, family, i), VALUE)


def run_kv(
    contenders: Sequence[KV],
    root: str,
    *,
    rounds: int,
    ops: int,
    facade: KV | None = None,
) -> list[Result]:
    """The single-threaded workloads; each contender's keys are prepared first (not timed).

    :param facade: an extra contender (``EtcdMap[k]``) for the GET and PUT workloads only.
    """
    _prepare(contenders, root, ("get", "dr"))
    if facade is not None:
        _prepare([facade], root, ("get",))
    for kv in contenders:
        kv.put(_k(root, kv, "cas", 0), "0")
    results: list[Result] = []

    def getter(kv: KV) -> Callable[[int], object]:
        keys = [_k(root, kv, "get", i) for i in range(KEYS)]
        get = kv.get
        return lambda i: get(keys[i % KEYS])

    def putter(kv: KV) -> Callable[[int], object]:
        keys = [_k(root, kv, "put", i) for i in range(KEYS)]
        put = kv.put
        return lambda i: put(keys[i % KEYS], VALUE)

    def swapper(kv: KV) -> Callable[[int], object]:
        key = _k(root, kv, "cas", 0)
        cas = kv.cas
        # operation i swaps str(i) -> str(i + 1); the sequence numbers of round_robin are
        # contiguous per contender, so every swap's prevValue is the value just written.
        return lambda i: cas(key, str(i + 1), str(i))

    def recreator(kv: KV) -> Callable[[int], object]:
        keys = [_k(root, kv, "dr", i) for i in range(KEYS)]
        delete, create = kv.delete, kv.create

        def op(i: int) -> None:
            key = keys[i % KEYS]
            delete(key)
            create(key, VALUE)

        return op

    for label, make in (
        ("GET 1 thread", getter),
        ("PUT 1 thread", putter),
        ("CAS 1 thread", swapper),
        ("delete+create 1 thread", recreator),
    ):
        n = ops // 2 if make is recreator else ops
        group = list(contenders)
        if facade is not None and make in (getter, putter):
            group.insert(1, facade)
        results += round_robin(label, [(kv.name, make(kv)) for kv in group], rounds=rounds, ops=n)
    return results


def run_threaded(
    contenders: Sequence[KV], root: str, *, rounds: int, ops: int, threads: int = 8
) -> list[Result]:
    """GET and PUT from ``threads`` threads sharing one client per contender.

    A round starts all threads on a barrier and ends when the last one finishes; the rate
    is all operations of the round over that wall time.
    """
    _prepare(contenders, root, ("get",))
    results: list[Result] = []
    for family in ("get", "put"):
        rates: dict[str, list[float]] = {kv.name: [] for kv in contenders}
        lats: dict[str, list[float]] = {kv.name: [] for kv in contenders}
        cpu: dict[str, list[float]] = {kv.name: [] for kv in contenders}
        for r in range(rounds):
            order = [*contenders[r % len(contenders) :], *contenders[: r % len(contenders)]]
            for kv in order:
                used = time.process_time()
                elapsed, lat = _threaded_round(kv, root, family, ops, threads)
                cpu[kv.name].append((time.process_time() - used) / ops)
                rates[kv.name].append(ops / elapsed)
                lats[kv.name] += lat
        for kv in contenders:
            res = result_from_samples(
                f"{family.upper()} {threads} threads", kv.name, rates[kv.name], lats[kv.name]
            )
            res.extra["cpu_us"] = round(statistics.median(cpu[kv.name]) * 1e6, 1)
            res.note = f"client CPU {res.extra['cpu_us']:.0f} us/op (all threads)"
            results.append(res)
    return results


def _threaded_round(
    kv: KV, root: str, family: str, ops: int, threads: int
) -> tuple[float, list[float]]:
    per = ops // threads
    barrier = threading.Barrier(threads + 1)
    lat: list[float] = []
    errors: list[BaseException] = []
    clock = time.perf_counter

    def work(t: int) -> None:
        keys = [_k(root, kv, "get" if family == "get" else f"put{t}", i) for i in range(KEYS)]
        op: Callable[[str], object] = kv.get if family == "get" else (lambda k: kv.put(k, VALUE))
        mine: list[float] = []
        barrier.wait()
        try:
            prev = clock()
            for i in range(per):
                op(keys[(i * 7 + t) % KEYS])
                now = clock()
                mine.append(now - prev)
                prev = now
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        lat.extend(mine)

    workers = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    start = clock()
    for w in workers:
        w.join(60)
    elapsed = clock() - start
    if errors:
        raise RuntimeError(f"{kv.name}: {errors[0]!r}") from errors[0]
    return elapsed, lat
