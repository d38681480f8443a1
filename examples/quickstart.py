"""etcdmap quick start: etcd as a dict — nested config, compare-and-swap, TTLs, watch, mirror.

Run it with ``python examples/quickstart.py``. With ``ETCDMAP_ENDPOINTS`` set (comma-separated
client URLs of an etcd 2.3-3.5 with the v2 API enabled) it uses that cluster; otherwise it
starts a throwaway local etcd through :mod:`etcdmap.testing` (``pip install 'etcdmap[server]'``).
Everything it writes lives under one fresh directory, deleted at the end.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

import etcdmap
from etcdmap import signals
from etcdmap.testing import local_endpoints


def tour(client: etcdmap.Client, root: str) -> bool:
    """Walk through the mapping API under ``root``; returns True when every check held."""
    config = etcdmap.EtcdMap(client, root)

    # 1. A key write and read, through the client layer and through the map.
    client.keys.set(f"{root}/greeting", "hello, etcd")
    print(f"{root}/greeting = {config['greeting']!r}")

    # 2. Nested dicts become directories; directories read back as live nested maps.
    config["db"] = {"host": "db1.internal", "port": "5432", "pool": {"size": "10"}}
    config["db"]["pool"]["size"] = "20"  # writes through a nested view persist
    print("db:", config["db"].to_dict())
    assert config.to_dict()["db"] == {
        "host": "db1.internal",
        "port": "5432",
        "pool": {"size": "20"},
    }

    # 3. Atomic helpers: setdefault creates only if absent; CAS loops never lose an update.
    owner = config.setdefault("owner", "quickstart")
    config["counter"] = "0"
    for _ in range(3):
        while True:
            seen = config["counter"]
            if config.compare_and_swap("counter", str(int(seen) + 1), prev_value=seen):
                break
    print(f"owner={owner!r} counter={config['counter']!r}")

    # 4. TTLs: a key that expires unless it is kept alive.
    config.set("session", "alive", ttl=30)
    print("session ttl:", config.ttl("session"), "s")

    # 5. Signals from a watch, and a live mirror that reads at dict speed.
    seen_events: list[tuple[str, str]] = []

    def on_change(sender: Any, **event: Any) -> None:
        seen_events.append((event["action"], event["key"]))

    signals.changed.connect(on_change, sender=config, weak=False)
    with config.watch() as watch, config.mirror() as live:
        config["feature_flags"] = {"dark_mode": "on"}
        del config["session"]
        watch.wait_for(config.index, timeout=10)
        live.wait_for(timeout=10)
        print("events:", seen_events)
        print("mirror:", live["feature_flags"]["dark_mode"], "at index", live.index)
        mirrored = live.to_dict() == config.to_dict()
    signals.changed.disconnect(on_change, sender=config)

    # 6. Any JSON value with a codec (a dict still becomes a directory of JSON values).
    settings = etcdmap.EtcdMap(client, f"{root}/settings", codec="json")
    settings["retries"] = [1, 2, 5]
    settings["ratio"] = 0.25
    print("json:", settings.to_dict())

    ok = (
        config["greeting"] == "hello, etcd"
        and config["counter"] == "3"
        and "session" not in config
        and mirrored
        and ("delete", "session") in seen_events
        and settings["retries"] == [1, 2, 5]
    )
    config.clear()
    return ok


def main() -> int:
    """Run the quick start; returns the process exit status."""
    root = f"/etcdmap-quickstart/{uuid.uuid4().hex[:8]}"
    with local_endpoints() as urls, etcdmap.Client(urls) as client:
        ok = tour(client, root)
        client.keys.delete(root, recursive=True)
    print("quick start", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
