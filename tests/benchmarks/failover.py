"""Failover latency when the pinned member is frozen with SIGSTOP (3-member cluster).

A frozen member accepts TCP connections (the kernel does that) but never answers, which is
the case a plain connect timeout does not catch. Per trial: one GET pins a member, the member
is SIGSTOPped, then ``gets`` GETs are timed one by one; the member is SIGCONTed and the next
trial starts once it answers again. The first GET after the freeze pays ``request_timeout``
and moves to a live member; the p99 over all GETs is compared to ``request_timeout``.

python-etcd gets the same treatment with ``read_timeout`` set to the same value and
``allow_reconnect=True`` (shown for comparison; it has no target).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from ._harness import Result, result_from_samples
from .contenders import HttpClientKV, python_etcd_available

__all__ = ["run_failover"]


def _wait_answers(url: str, cap: float = 20.0) -> None:
    """Wait until ``url`` answers a GET again after SIGCONT."""
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        kv = HttpClientKV(url)
        try:
            if kv.request("GET", "/health")[0] == 200:
                return
        except OSError:
            time.sleep(0.05)
        finally:
            kv.close()
    raise RuntimeError(f"{url} did not come back after SIGCONT")


def _trials(
    cluster: Any,
    get: Any,
    pinned: Any,
    *,
    trials: int,
    gets: int,
) -> tuple[list[float], list[float]]:
    members = {m.client_url.rstrip("/"): m for m in cluster.members}
    lat: list[float] = []
    rates: list[float] = []
    for _ in range(trials):
        get()
        member = members[pinned().rstrip("/")]
        member.stop()
        try:
            start = prev = time.perf_counter()
            for _ in range(gets):
                get()
                now = time.perf_counter()
                lat.append(now - prev)
                prev = now
            rates.append(gets / (prev - start))
        finally:
            member.cont()
        _wait_answers(member.client_url)
    return rates, lat


def run_failover(*, request_timeout: float, trials: int, gets: int) -> list[Result]:
    """Start a 3-member cluster, run the trials for etcdmap (and python-etcd), stop it."""
    from etcdmap.testing import EtcdCluster  # noqa: PLC0415
    from etcdmap.v2.client import Client  # noqa: PLC0415

    label = f"SIGSTOP failover {request_timeout:g} s"
    results: list[Result] = []
    with EtcdCluster(3) as cluster:
        urls = [m.client_url for m in cluster.members]
        key = "/bench-failover"
        HttpClientKV(urls[0]).put(key, "v")
        with Client(urls, request_timeout=request_timeout, timeout=10.0) as client:
            rates, lat = _trials(
                cluster,
                lambda: client.keys.get(key),
                lambda: client.transport.pinned,
                trials=trials,
                gets=gets,
            )
        results.append(result_from_samples(label, "etcdmap", rates, lat, "GETs/s"))
        if python_etcd_available():
            import etcd  # noqa: PLC0415

            hosts = tuple((urlsplit(u).hostname, urlsplit(u).port) for u in urls)
            pe = etcd.Client(
                host=hosts, protocol="http", allow_reconnect=True, read_timeout=request_timeout
            )
            rates, lat = _trials(
                cluster,
                lambda: pe.read(key),
                lambda: pe.base_uri,
                trials=trials,
                gets=gets,
            )
            results.append(result_from_samples(label, "python-etcd", rates, lat, "GETs/s"))
    for r in results:
        r.ratios = False
        r.note = f"p99 = {r.p99_ms / 1e3 / request_timeout:.2f} x request_timeout"  # type: ignore[operator]
    return results
