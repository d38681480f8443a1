"""Application configuration in etcd: a typed model, seeded defaults, live reload.

The pattern (needs ``pip install 'etcdmap[typed]'``):

1. the application declares its settings as a **pydantic model** (a dataclass works too),
   with defaults;
2. ``m.bind(AppConfig, seed=True)`` writes each default that an operator has not set yet
   (atomically, create-if-absent: etcd stays the source of truth), then keeps
   ``cfg.current`` — a validated ``AppConfig`` — current through a live mirror: reads are
   attribute lookups, never network calls, and ``"5432"`` in etcd is ``5432`` in Python;
3. a receiver of ``signals.config_changed`` reacts to changes (here: re-applies the log
   level), in the mirror's watch thread; a bad value (``workers = "many"``) is rejected:
   the last valid configuration stays in use, ``cfg.error`` says what is wrong.

Run it against your etcd with ``ETCDMAP_ENDPOINTS=http://127.0.0.1:2379 python
examples/config_store.py``; without the variable it starts a throwaway etcd (the ``server``
extra). It works under a unique prefix and removes it at the end.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from pydantic import BaseModel

from etcdmap import signals
from etcdmap.mapping.emap import EtcdMap
from etcdmap.testing import local_endpoints
from etcdmap.v2.client import Client


class Database(BaseModel):
    host: str = "localhost"
    port: int = 5432


class AppConfig(BaseModel):
    log_level: str = "INFO"
    workers: int = 4
    db: Database = Database()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    log = logging.getLogger("config_store")
    prefix = f"/example-config-{uuid.uuid4().hex[:8]}"
    with local_endpoints(announce=False) as endpoints, Client(endpoints) as client:
        config = EtcdMap(client, prefix)
        try:
            # An operator set one value before the application first started.
            config["workers"] = "16"
            with config.bind(AppConfig, seed=True) as cfg:
                print("effective config:", cfg.current)
                assert cfg.current.workers == 16  # the operator's value won over the default
                assert cfg.current.db.port == 5432  # the default filled the gap (an int)
                print("seeded defaults:", ["/".join(path) for path in cfg.seeded])

                def on_changed(sender: Any, **event: Any) -> None:
                    # Runs in the mirror's watch thread, once per valid change.
                    if "log_level" in event["changed"]:
                        logging.getLogger().setLevel(event["current"].log_level)
                        log.warning("log level is now %s", event["current"].log_level)

                signals.config_changed.connect(on_changed, sender=cfg, weak=False)
                try:
                    # Somewhere else, an operator changes the log level...
                    config["log_level"] = "DEBUG"
                    # ...and the running application picks it up without a restart.
                    if not cfg.wait_for(config.index, timeout=5.0):
                        raise SystemExit("the change did not arrive within 5 s")
                    assert cfg.current.log_level == "DEBUG"
                    assert logging.getLogger().level == logging.DEBUG

                    # A typo is rejected; the application keeps its last valid settings.
                    config["workers"] = "many"
                    cfg.wait_for(config.index, timeout=5.0)
                    assert cfg.current.workers == 16 and cfg.error is not None
                    # etcdmap logged the error once (logger "etcdmap.typed"): name the field only
                    print("rejected:", ", ".join(cfg.error.fields))
                    config["workers"] = "32"  # the fix clears the error
                    cfg.wait_for(config.index, timeout=5.0)
                    assert cfg.error is None and cfg.current.workers == 32
                    print("config now:", cfg.current)
                finally:
                    signals.config_changed.disconnect(on_changed, sender=cfg)
        finally:
            client.keys.delete(prefix, recursive=True)


if __name__ == "__main__":
    main()
