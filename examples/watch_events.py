"""Subscribe to changes: blinker signals from a background watch, and a live mirror.

What it shows:

1. connect receivers to :mod:`etcdmap.signals` for one map (``sender=m``); receivers defined
   inside a function need ``weak=False`` (blinker holds receivers weakly by default);
2. ``m.watch()`` runs a daemon thread that sends ``changed`` for every event plus
   ``created`` / ``updated`` / ``deleted`` / ``expired``, in index order;
3. ``m.mirror()`` is a local copy kept current by its own watch; ``wait_for(m.index)`` gives
   read-your-writes.

Run it against your etcd with ``ETCDMAP_ENDPOINTS=http://127.0.0.1:2379 python
examples/watch_events.py``; without the variable it starts a throwaway etcd (the ``server``
extra). It works under a unique prefix, removes it at the end and exits 0.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from typing import Any

from etcdmap import signals
from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import local_endpoints
from etcdmap.v2.client import Client


def main() -> int:
    """Watch a directory, write a few keys, print what the receivers saw."""
    prefix = f"/examples/watch-{uuid.uuid4().hex[:8]}"
    with local_endpoints() as urls, Client(urls) as client:
        m = EtcdMap(client, prefix)
        seen: list[str] = []
        done = threading.Event()

        def on_change(sender: EtcdMap, **event: Any) -> None:
            # Runs in the watch thread, once per event, in index order.
            line = f"{event['action']:<16} {event['key']:<12} {event['value']!r}"
            if event["prev_value"] is not None:
                line += f" (was {event['prev_value']!r})"
            print(f"  [{event['index']}] {line}")
            seen.append(event["key"])
            if event["key"] == "done":
                done.set()

        def on_deleted(sender: EtcdMap, **event: Any) -> None:
            kind = "directory" if event["dir"] else "key"
            print(f"  -> {kind} {event['key']!r} is gone")

        # weak=False: these receivers are local functions (blinker holds receivers weakly).
        signals.changed.connect(on_change, sender=m, weak=False)
        signals.deleted.connect(on_deleted, sender=m, weak=False)
        try:
            print(f"watching {prefix}:")
            with m.watch():
                m["greeting"] = "hello"
                m["greeting"] = "hello, etcd"
                m["db"] = {"host": "localhost", "port": "5432"}
                m.compare_and_swap("greeting", "bye", prev_value="hello, etcd")
                del m["db"]
                m["done"] = "yes"
                if not done.wait(10):  # or: watch.wait_for(m.index)
                    print("the watch did not deliver every event in time")
                    return 1

            with m.mirror() as live:
                m["counter"] = "1"
                live.wait_for(m.index)  # read-your-writes
                print(f"mirror at index {live.index}: {live.to_dict()}")
        finally:
            signals.changed.disconnect(on_change, sender=m)
            signals.deleted.disconnect(on_deleted, sender=m)
            with contextlib.suppress(KeyError):
                client.keys.delete(prefix, recursive=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
