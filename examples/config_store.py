"""Application configuration in etcd: defaults, a live local copy, and reload on change.

The pattern:

1. the application ships **defaults**; ``setdefault`` writes each one only if an operator has
   not set the key already (atomically: ``prevExist=false``), so etcd stays the source of truth;
2. the application reads its settings from a **live mirror** (``m.mirror()``): a local copy
   kept current by a watch, so reads cost a dict lookup and never touch the network;
3. a **signal receiver** reacts to changes (here: re-applies the log level), in the mirror's
   watch thread.

Run it against your etcd with ``ETCDMAP_ENDPOINTS=http://127.0.0.1:2379 python
examples/config_store.py``; without the variable it starts a throwaway etcd (the ``server``
extra). It works under a unique prefix and removes it at the end.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from etcdmap import signals
from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import local_endpoints
from etcdmap.v2.client import Client

DEFAULTS = {
    "log_level": "info",
    "workers": "4",
    "db": {"host": "localhost", "port": "5432"},
}


def seed_defaults(config: EtcdMap, defaults: dict[str, Any]) -> None:
    """Write every default that is not set yet; an operator's value always wins."""
    for key, value in defaults.items():
        if isinstance(value, dict):
            seed_defaults(config.setdefault(key, {}), value)
        else:
            config.setdefault(key, value)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    log = logging.getLogger("config_store")
    prefix = f"/example-config-{uuid.uuid4().hex[:8]}"
    with local_endpoints(announce=False) as endpoints, Client(endpoints) as client:
        config = EtcdMap(client, prefix)
        try:
            # An operator set one value before the application first started.
            config["workers"] = "16"
            seed_defaults(config, DEFAULTS)
            print("effective config:", config.to_dict())
            assert config["workers"] == "16"  # the operator's value won over the default
            assert config["db"]["port"] == "5432"  # the default filled the gap

            reloaded = threading.Event()

            def on_updated(sender: Any, **event: Any) -> None:
                # Runs in the mirror's watch thread, once per change.
                if event["key"] == "log_level":
                    logging.getLogger().setLevel(event["value"].upper())
                    log.warning("log level is now %s", event["value"])
                    reloaded.set()

            with config.mirror() as live:
                signals.updated.connect(on_updated, sender=live, weak=False)
                try:
                    print("workers (local read):", live["workers"])
                    print("db host (local read):", live["db"]["host"])
                    # Somewhere else, an operator changes the log level...
                    written = config.set("log_level", "debug")
                    # ...and the running application picks it up without a restart.
                    if not reloaded.wait(5.0):
                        raise SystemExit("the change did not arrive within 5 s")
                    live.wait_for(written.modified_index)
                    print("log level after reload:", live["log_level"])
                    assert live["log_level"] == "debug"
                finally:
                    signals.updated.disconnect(on_updated, sender=live)
        finally:
            client.keys.delete(prefix, recursive=True)


if __name__ == "__main__":
    main()
