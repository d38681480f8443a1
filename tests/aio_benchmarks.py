"""Benchmark of issue 27: 500 concurrent PUTs, then 500 concurrent GETs, through ONE async
client, against the async etcd v3 clients that install and import here, and against the
blocking client driven by a thread pool -- all against one freshly started etcd 3.5.

Run: ``python -m tests.aio_benchmarks [--rounds N]`` (the contenders that are not installed
are listed as skipped; ``pip install aetcd etcd3aio async-etcd3gw etcd-client-py``). Each
round runs every contender in turn (round-robin, so that machine drift hits all alike); the
table gives the median over the rounds of operations per second (wall clock) and of the
process's CPU time per operation (user + system, every thread: gRPC's and Rust's I/O threads
count). etcd runs in another process.

Contenders:

- ``etcdmap.aio`` -- ``etcdmap.aio.v3.Client`` ``kv.put``/``kv.range`` (HTTP/JSON gateway,
  at most 64 connections per member), and the same through ``AsyncEtcdMap.set``/``get``;
- ``aetcd`` 1.0 and ``etcd3aio`` 0.3 (gRPC, ``grpc.aio``), ``async-etcd3gw`` 0.8 (the
  gateway over aiohttp), ``etcd-client-py`` 0.5 (gRPC in Rust, tokio);
- ``etcdmap.v3 + threads`` -- the blocking ``etcdmap.v3.Client`` shared by a pool of 32
  threads (``loop.run_in_executor``).

Installed but left out when they fail (the table says why): ``etcd3aio`` 0.3 imports its
generated code as a top-level ``etcd.api`` package, which python-etcd's regular ``etcd``
package (installed here for the compat suite) shadows; ``etcd-client-py`` 0.5.1 fails inside
its own ``connect()`` (``module 'etcd_client' has no attribute '_trigger_shutdown'``). Not
installed: ``etcd3-async-client`` (it writes a top-level ``etcd`` package over python-etcd's
files), ``aioetcd3`` (2020; generated for protobuf 3), ``aio-etcd``/``aioetcd`` (etcd v2
only), ``python-etcd3-async`` and ``etcd-sdk-python`` (one early release each).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from etcdmap.testing import EtcdServer

N = 500
Op = Callable[[int], Awaitable[Any]]
Contender = Callable[[str], contextlib.AbstractAsyncContextManager[tuple[Op, Op]]]


@contextlib.asynccontextmanager
async def etcdmap_kv(url: str) -> AsyncIterator[tuple[Op, Op]]:
    import etcdmap.aio  # noqa: PLC0415

    async with etcdmap.aio.v3.Client(url) as c:
        yield (lambda i: c.kv.put(f"/b/k{i}", "v" * 32)), (lambda i: c.kv.range(f"/b/k{i}"))


@contextlib.asynccontextmanager
async def etcdmap_map(url: str) -> AsyncIterator[tuple[Op, Op]]:
    import etcdmap.aio  # noqa: PLC0415

    async with await etcdmap.aio.connect(url, "/bm", api="v3") as m:
        yield (lambda i: m.set(f"k{i}", "v" * 32)), (lambda i: m.get(f"k{i}"))


@contextlib.asynccontextmanager
async def etcdmap_threads(url: str) -> AsyncIterator[tuple[Op, Op]]:
    import etcdmap.v3  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    with etcdmap.v3.Client(url) as c, ThreadPoolExecutor(32) as pool:
        yield ((lambda i: loop.run_in_executor(pool, c.kv.put, f"/b/k{i}", "v" * 32)),
               (lambda i: loop.run_in_executor(pool, c.kv.range, f"/b/k{i}")))


@contextlib.asynccontextmanager
async def aetcd_client(url: str) -> AsyncIterator[tuple[Op, Op]]:
    import aetcd  # noqa: PLC0415

    host, port = url.rsplit("//", 1)[1].split(":")
    async with aetcd.Client(host=host, port=int(port)) as c:
        yield ((lambda i: c.put(f"/b/k{i}".encode(), b"v" * 32)),
               (lambda i: c.get(f"/b/k{i}".encode())))


@contextlib.asynccontextmanager
async def etcd3aio_client(url: str) -> AsyncIterator[tuple[Op, Op]]:
    import etcd3aio  # noqa: PLC0415

    c = etcd3aio.Etcd3Client([url.rsplit("//", 1)[1]])
    await c.connect()
    try:
        kv = c.kv
        assert kv is not None
        yield (lambda i: kv.put(f"/b/k{i}", b"v" * 32)), (lambda i: kv.get(f"/b/k{i}"))
    finally:
        await c.close()


@contextlib.asynccontextmanager
async def etcd3gw_client(url: str) -> AsyncIterator[tuple[Op, Op]]:
    from async_etcd3gw import AsyncEtcd3Client  # noqa: PLC0415

    host, port = url.rsplit("//", 1)[1].split(":")
    c = AsyncEtcd3Client(host=host, port=int(port))
    try:
        yield (lambda i: c.put(f"/b/k{i}", "v" * 32)), (lambda i: c.get(f"/b/k{i}"))
    finally:
        await c.close()


@contextlib.asynccontextmanager
async def rust_client(url: str) -> AsyncIterator[tuple[Op, Op]]:
    from etcd_client.etcd_client import Client  # noqa: PLC0415

    async with Client([url]).connect() as c:
        yield ((lambda i: c.put(f"/b/k{i}".encode(), b"v" * 32)),
               (lambda i: c.get(f"/b/k{i}".encode())))


CONTENDERS: dict[str, Contender] = {
    "etcdmap.aio kv": etcdmap_kv,
    "etcdmap.aio AsyncEtcdMap": etcdmap_map,
    "etcdmap.v3 + 32 threads": etcdmap_threads,
    "aetcd (gRPC)": aetcd_client,
    "etcd3aio (gRPC)": etcd3aio_client,
    "async-etcd3gw (gateway)": etcd3gw_client,
    "etcd-client-py (Rust gRPC)": rust_client,
}


async def one_round(url: str, make: Contender) -> dict[str, tuple[float, float]]:
    """One contender: 500 concurrent PUTs, then 500 concurrent GETs.

    :returns: per operation: (operations per second, CPU microseconds per operation).
    """
    out = {}
    async with make(url) as (put, get):
        await put(N)  # connected, warm
        for name, op in (("PUT", put), ("GET", get)):
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(op(i) for i in range(N)))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            out[name] = (N / wall, cpu / N * 1e6)
    return out


async def main(rounds: int) -> None:
    with EtcdServer(enable_v2=False) as server:
        url = server.client_url
        results: dict[str, dict[str, list[tuple[float, float]]]] = {}
        skipped = {}
        for name, make in CONTENDERS.items():
            try:
                await one_round(url, make)  # warm-up; a contender that fails is left out
            except Exception as exc:  # noqa: BLE001 - reported, with its reason
                skipped[name] = f"{type(exc).__name__}: {exc}"
        for _ in range(rounds):
            for name, make in CONTENDERS.items():
                if name in skipped:
                    continue
                for op, numbers in (await one_round(url, make)).items():
                    results.setdefault(name, {}).setdefault(op, []).append(numbers)
        load = os.getloadavg()
        print(f"# {N} concurrent operations, median of {rounds} rounds; load average "
              f"{load[0]:.2f} {load[1]:.2f} on {os.cpu_count()} CPUs; Python "
              f"{sys.version.split()[0]}")
        print(f"{'contender':30} {'PUT ops/s':>10} {'CPU us/op':>10} {'GET ops/s':>10} "
              f"{'CPU us/op':>10}")
        for name, ops in results.items():
            cells = []
            for op in ("PUT", "GET"):
                cells += [statistics.median(r[0] for r in ops[op]),
                          statistics.median(r[1] for r in ops[op])]
            print(f"{name:30} {cells[0]:10.0f} {cells[1]:10.0f} {cells[2]:10.0f} "
                  f"{cells[3]:10.0f}")
        for name, why in skipped.items():
            print(f"{name:30} skipped: {why}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
