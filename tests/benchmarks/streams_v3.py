"""v3 streams at scale (issue 23): every watch of a client on one WebSocket per member, every
lease keep-alive on one more. The client's endpoint is the counting relay (:mod:`._relay`):
``requests/s`` counts HTTP requests (member checks, reads), ``messages/s`` the WebSocket
messages the client sent (progress probes; keep-alive renewals).

- ``idle 1000 v3 watches``: threads and fds over the baseline, requests/s and messages/s in a
  quiet window, time until every watch is live;
- ``200 kept-alive keys (v3)``: threads, requests/s, renewals/s over a window of several TTLs;
- ``2000-put burst over the WebSocket``: 20 watched maps x 100 puts from 8 writer threads;
  events/s from the first put to the last event, and how many were missed (must be 0).
"""

from __future__ import annotations

import os
import threading
import time

from ._harness import Result, Target
from .hub import IDLE_WINDOW, RelayProcess, deliver_burst, live

__all__ = ["run_v3_streams", "streams_targets"]


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _idle_watches(url: str, root: str, n: int) -> Result:
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415
    from etcdmap.v3 import Client  # noqa: PLC0415

    relay = RelayProcess(url)
    threads0, fds0 = threading.active_count(), _fds()
    try:
        with Client(relay.url, request_timeout=2.0) as client:
            started = time.monotonic()
            watches = [EtcdMap(client, f"{root}/v3idle/d{i}").watch() for i in range(n)]
            try:
                live(watches)
                ready = time.monotonic() - started
                time.sleep(1.0)  # let the start-up traffic end
                mux = client.backend.streams.watches()
                (_, r0, _), (s0, _) = relay.counts(), mux.messages
                time.sleep(IDLE_WINDOW)  # the measured quiet window
                (_, r1, open_), (s1, _) = relay.counts(), mux.messages
                threads, fds = threading.active_count() - threads0, _fds() - fds0
                mode = watches[0].mode
            finally:
                for w in watches:
                    w.stop()
    finally:
        relay.close()
    reqs_s, msgs_s = (r1 - r0) / IDLE_WINDOW, (s1 - s0) / IDLE_WINDOW
    res = Result(f"idle {n} v3 watches, 1 client", "etcdmap", reqs_s, "requests/s", ratios=False)
    res.extra = {"threads": threads, "fds": fds, "requests_per_s": reqs_s,
                 "ws_messages_per_s": msgs_s, "open_connections": open_,
                 "start_s": round(ready, 2)}
    res.note = (f"{mode}: threads +{threads}, fds +{fds}, requests {reqs_s:.2f}/s, WebSocket "
                f"messages {msgs_s:.2f}/s, {open_} relayed connections, live in {ready:.1f} s")
    return res


def _kept_keys(url: str, root: str, n: int = 200, ttl: int = 3) -> Result:
    from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415
    from etcdmap.v3 import Client  # noqa: PLC0415

    relay = RelayProcess(url)
    try:
        with Client(relay.url, request_timeout=2.0) as client:
            m = EtcdMap(client, f"{root}/v3keep")
            for i in range(n):
                m.set(f"k{i}", "v", ttl=ttl)
            threads0 = threading.active_count()
            keeps = [m.keep_alive(f"k{i}", ttl).start() for i in range(n)]
            try:
                stream = client.backend.streams.leases()
                window = 3 * ttl
                (_, r0, _), n0 = relay.counts(), stream.renewals
                time.sleep(window)  # several TTLs: only the renewals keep the keys
                (_, r1, _), n1 = relay.counts(), stream.renewals
                threads = threading.active_count() - threads0
                alive = sum(ka.alive for ka in keeps) if len(m) == n else -1
            finally:
                for ka in keeps:
                    ka.stop()
    finally:
        relay.close()
    reqs_s, renew_s = (r1 - r0) / window, (n1 - n0) / window
    res = Result(f"{n} kept-alive keys (v3, TTL {ttl} s)", "etcdmap", renew_s, "renewals/s",
                 ratios=False)
    res.extra = {"threads": threads, "requests_per_s": reqs_s, "renewals_per_s": renew_s,
                 "alive": alive}
    res.note = (f"{stream.mode}: threads +{threads}, HTTP requests {reqs_s:.1f}/s, "
                f"renewals {renew_s:.1f}/s, {alive}/{n} alive")
    return res


def _burst(url: str, root: str, maps: int = 20, puts: int = 100) -> Result:
    from etcdmap.v3 import Client  # noqa: PLC0415

    total = maps * puts
    with Client(url) as client, Client(url) as writer:
        delivered, rate, mode = deliver_burst(client, lambda k: writer.kv.put(k, "v"),
                                              f"{root}/v3burst", maps, puts)
    res = Result(f"{total}-put burst over the WebSocket", "etcdmap", rate, "events/s",
                 ratios=False)
    res.extra = {"delivered": delivered, "missed": total - delivered}
    res.note = f"{mode}: delivered {delivered}/{total}, missed {total - delivered}"
    return res


def run_v3_streams(url: str, root: str, *, quick: bool) -> list[Result]:
    """The v3 stream workloads on one member (see the module docstring)."""
    return [_idle_watches(url, root, 300 if quick else 1000), _kept_keys(url, root),
            _burst(url, root)]


def streams_targets(results: list[Result]) -> list[Target]:
    """Issue 23's targets: 1,000 watched v3 maps <= 16 fds and <= 8 threads, 200 kept-alive
    keys <= 8 threads, a burst with 0 missed."""
    targets: list[Target] = []
    for r in results:
        x = r.extra
        if r.workload.startswith("idle 1000 v3"):
            targets += [Target("1,000 idle v3 watches: <= 16 fds", f"{x['fds']:.0f}",
                               x["fds"] <= 16),
                        Target("1,000 idle v3 watches: <= 8 threads", f"{x['threads']:.0f}",
                               x["threads"] <= 8)]
        elif r.workload.startswith("200 kept-alive keys (v3"):
            targets += [Target("200 kept-alive v3 keys: <= 8 threads", f"{x['threads']:.0f}",
                               x["threads"] <= 8),
                        Target("200 kept-alive v3 keys: all alive", f"{x['alive']:.0f}",
                               x["alive"] == 200)]
        elif r.workload.endswith("burst over the WebSocket"):
            targets.append(Target("v3 WebSocket burst: 0 missed", f"{x['missed']:.0f} missed",
                                  x["missed"] == 0))
    return targets
