"""A separate process that takes a lock, for the lock tests (mutual exclusion between
processes, a killed holder, a SIGSTOPped holder).

``python -m tests.integration.lockworker MODE API URL PATH NAME TTL [N]``

- ``API``: ``v3`` (``v3.Client.lock``), ``map-v3`` or ``map-v2`` (``EtcdMap.lock`` on that API);
- ``MODE`` ``count``: ``N`` times, under the lock, check that no one else is inside (an owner
  key) and add one to a counter (read, then write: lost updates without mutual exclusion);
- ``MODE`` ``hold``: take the lock, print ``held``, wait until the lock says it is lost, print
  ``lost``, whether the ``lock_lost`` signal came, and what leaving the ``with`` raised.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import etcdmap
from etcdmap import signals
from etcdmap.v3 import Client as V3Client


def _store(api: str, url: str, path: str) -> tuple[Any, Callable[[str, float | None], Any],
                                                    Callable[[str], str | None],
                                                    Callable[[str, str], None]]:
    """The client, a lock factory, and get/put of keys below ``path``."""
    if api == "v3":
        v3 = V3Client(url, timeout=10)

        def get3(key: str) -> str | None:
            value = v3.kv.get(f"{path}/{key}")
            return None if value is None else value.decode()

        return (v3, lambda name, ttl: v3.lock(name, ttl=int(ttl or 60)),  # type: ignore[arg-type]
                get3, lambda k, v: v3.kv.put(f"{path}/{k}", v) and None)
    client = V3Client(url, timeout=10) if api == "map-v3" else etcdmap.Client(url, timeout=10)
    m = etcdmap.EtcdMap(client, path)
    return (client, lambda name, ttl: m.lock(name, ttl=int(ttl or 60)), m.get,
            m.__setitem__)


def main(argv: list[str]) -> int:
    mode, api, url, path, name, ttl = argv[:6]
    client, make_lock, get, put = _store(api, url, path)
    with client:
        if mode == "count":
            me = f"{os.getpid()}"
            for _ in range(int(argv[6])):
                lock: AbstractContextManager[Any] = make_lock(name, float(ttl))
                with lock:
                    if get("owner") not in (None, ""):
                        print("overlap", get("owner"), flush=True)
                        return 1
                    put("owner", me)
                    count = int(get("counter") or 0)
                    threading.Event().wait(0.01)
                    put("counter", str(count + 1))
                    put("owner", "")
            return 0
        lk = make_lock(name, float(ttl))
        fired = threading.Event()

        def on_lost(sender: object, **payload: object) -> None:
            fired.set()

        signals.lock_lost.connect(on_lost, sender=lk, weak=False)
        try:
            with lk:
                print("held", lk.key, flush=True)
                pause = threading.Event()
                for _ in range(1200):
                    if lk.lost:
                        break
                    pause.wait(0.05)
                print("lost" if lk.lost else "not-lost", "signal" if fired.wait(5) else
                      "no-signal", flush=True)
        except Exception as exc:  # what leaving the with raised, for the test to check
            print("raised", type(exc).__name__, flush=True)
            return 0
        print("raised nothing", flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
