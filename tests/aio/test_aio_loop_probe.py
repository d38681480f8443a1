"""The event loop is never blocked: under 500 concurrent map calls and 50 open
``changes()`` iterators on a real etcd, no callback of the loop runs longer than 100 ms.

"Blocked" is measured per callback (each ``Handle`` the loop runs), in CPU time of the loop's
thread -- the other processes of a shared machine preempting it do not count -- less the
pauses of Python's cyclic garbage collector, which stops the whole process wherever it
triggers and whose full passes cost in proportion to every object alive (the test process's
included); those pauses are reported apart, and so is the lateness of a 10 ms ticker, which
adds up every callback of a loop iteration and the preemptions.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

import etcdmap.aio
from etcdmap.testing import EtcdServer

T = TypeVar("T")
LIMIT = 0.100


async def _all(call: Callable[[int], Awaitable[T]]) -> list[T]:
    """500 calls at once: started 25 at a time (as requests reach a server: the test's own
    task does not make one long callback of starting 500 tasks), then all awaited."""
    tasks: list[asyncio.Task[T]] = []
    for i in range(500):
        tasks.append(asyncio.ensure_future(call(i)))
        if i % 25 == 24:
            await asyncio.sleep(0)
    return await asyncio.gather(*tasks)


class Probe:
    """Times every callback of the loop (CPU of the loop's thread, less GC pauses)."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.longest = 0.0
        self.gc_longest = 0.0
        self._gc_in_loop = 0.0
        self._gc_start = 0.0

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if threading.get_ident() != self.thread:
            return
        if phase == "start":
            self._gc_start = time.thread_time()
        else:
            took = time.thread_time() - self._gc_start
            self._gc_in_loop += took
            self.gc_longest = max(self.gc_longest, took)

    def timed(self, run: Callable[[Any], None]) -> Callable[[Any], None]:
        def timed_run(handle: Any) -> None:
            gc_before = self._gc_in_loop
            start = time.thread_time()
            run(handle)
            took = time.thread_time() - start - (self._gc_in_loop - gc_before)
            self.longest = max(self.longest, took)

        return timed_run


@pytest.mark.parametrize("api", ["v3", "v2"])
async def test_the_loop_is_never_blocked(etcd_server: EtcdServer, etcd_prefix: str, api: str,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    probe = Probe()
    # asyncio has no public hook around each callback, so the probe wraps the private
    # ``Handle._run``, where every callback of the loop runs (CPython 3.10-3.13). The public
    # ways measure something else: debug mode's ``loop.slow_callback_duration`` times wall
    # clock (preemption and GC pauses included) and slows the loop it measures; a loop whose
    # ``call_soon``/``call_at`` wrap callbacks misses the transports' I/O callbacks, which the
    # selector loop schedules through its private ``_add_reader`` (asyncio/selector_events.py).
    monkeypatch.setattr(asyncio.events.Handle, "_run", probe.timed(asyncio.events.Handle._run))
    gc.callbacks.append(probe.on_gc)
    loop = asyncio.get_running_loop()
    lateness = [0.0]
    stop = asyncio.Event()

    async def ticker() -> None:
        last = loop.time()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = loop.time()
            lateness[0] = max(lateness[0], now - last - 0.01)
            last = now

    try:
        async with await etcdmap.aio.connect(etcd_server.client_url, etcd_prefix,
                                             api=api) as m:  # type: ignore[arg-type]
            watches = [m.changes() for _ in range(50)]
            for w in watches:
                await w.__aenter__()
            tick = asyncio.ensure_future(ticker())
            await _all(lambda i: m.set(f"k{i:03}", str(i)))
            got = await _all(lambda i: m.get(f"k{i:03}"))
            assert got == [str(i) for i in range(500)]
            for w in watches[:2]:  # the watches deliver everything meanwhile
                keys = {(await asyncio.wait_for(w.__anext__(), 20)).key for _ in range(500)}
                assert len(keys) == 500
            stop.set()
            await tick
            for w in watches:
                await w.__aexit__(None, None, None)
    finally:
        gc.callbacks.remove(probe.on_gc)
    with capsys.disabled():
        print(f"\n[{api}] longest callback {probe.longest * 1000:.1f} ms CPU (less GC); "
              f"longest GC pause in the loop {probe.gc_longest * 1000:.0f} ms; ticker up to "
              f"{lateness[0] * 1000:.0f} ms late")
    assert probe.longest < LIMIT
