"""Watch history loss: a subscriber blocks while more than 1,000 events happen, so etcd
drops the watch stream and the 1,000-event history no longer reaches back.

What it proves: the watch notices, re-reads the subtree, sends ``resynced`` (and the
differences as ordinary signals), and the mirror equals the store at the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from relhelp import report

from etcdmap import signals
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client

pytestmark = pytest.mark.slow

EVENTS = 1_500
VALUE = "v" * 16_384  # big events fill the socket buffers, so etcd's stream really overflows


@pytest.fixture
def client(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=10.0) as c:
        yield c


def test_blocked_subscriber_is_resynced(client: Client, etcd_prefix: str) -> None:
    emap = EtcdMap(client, etcd_prefix)
    emap["seed"] = "0"
    emap["doomed"] = "x"
    gate = threading.Event()
    blocked = threading.Event()
    resyncs: list[dict[str, Any]] = []
    changes: list[str] = []

    def block(sender: object, **event: Any) -> None:
        changes.append(event["key"])
        if not gate.is_set():
            blocked.set()
            gate.wait(60)

    def on_resync(sender: object, **info: Any) -> None:
        resyncs.append(info)

    with EtcdMap(client, etcd_prefix).mirror() as mirror:
        signals.changed.connect(block, sender=mirror)
        signals.resynced.connect(on_resync, sender=mirror)
        try:
            emap["first"] = "1"  # the subscriber blocks on this event
            assert blocked.wait(10)
            started = time.monotonic()
            for i in range(EVENTS):
                emap[f"k{i % 300:03d}"] = f"{i}:{VALUE}"
            del emap["doomed"]
            writing = time.monotonic() - started
            gate.set()
            released = time.monotonic()
            assert mirror.wait_for(emap.index, timeout=30.0), "the mirror never caught up"
            caught_up = time.monotonic() - released
        finally:
            gate.set()
            signals.changed.disconnect(block, sender=mirror)
            signals.resynced.disconnect(on_resync, sender=mirror)
        assert mirror.to_dict() == emap.to_dict()
        assert "doomed" not in mirror
    assert resyncs, "more than 1,000 events were missed but no resynced signal came"
    assert mirror.watch is not None and mirror.watch.resyncs >= 1
    report(
        "history loss (blocked subscriber)", events=EVENTS, write_s=writing,
        caught_up_s=caught_up, resyncs=len(resyncs), signals_after_block=len(changes),
    )
