"""v3 watches on one WebSocket per member against real etcd: the fallback to one HTTP stream
per watch, a compacted start revision, the pulled change stream (on_error, HistoryLost)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
import requests

from etcdmap import EtcdMap, signals
from etcdmap.backend import Progress
from etcdmap.errors import HistoryLost
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client


def test_a_session_that_cannot_hand_over_its_socket_keeps_a_stream_per_watch(
    etcd_server: EtcdServer, etcd_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []
    caplog.set_level(logging.DEBUG, logger="etcdmap.watch")
    with Client(etcd_server.client_url, session=requests.Session()) as c:
        m = EtcdMap(c, etcd_prefix)

        def on_changed(_sender: Any, **kw: Any) -> None:
            seen.append(kw["key"])

        signals.changed.connect(on_changed, sender=m, weak=False)
        try:
            with m.watch() as w:
                m["a"] = "1"
                m["b"] = "2"
                assert w.wait_for(m.index, 10)
                assert w.mode == "http" and c.backend.watch_mode == "http"
        finally:
            signals.changed.disconnect(on_changed, sender=m)
    assert seen == ["a", "b"]
    assert any("one HTTP stream each" in r.getMessage() for r in caplog.records)


def test_a_compacted_start_revision_is_a_lost_history(
    etcd_server: EtcdServer, etcd_prefix: str
) -> None:
    with Client(etcd_server.client_url) as c:
        first = c.kv.put(f"{etcd_prefix}/k", "1").header.revision
        last = c.kv.put(f"{etcd_prefix}/k", "2").header.revision
        c.kv.compact(last)
        stream = c.backend.changes(etcd_prefix, after=first - 1)
        with pytest.raises(HistoryLost):
            next(iter(stream))
        assert stream.closed


def test_the_pulled_stream_reports_recovered_failures_and_loses_nothing(
    etcd_prefix: str,
) -> None:
    errors: list[BaseException] = []
    with EtcdServer() as server, Client(server.client_url, request_timeout=1.0) as c:
        after = c.kv.put(f"{etcd_prefix}/x", "0").header.revision
        stream = c.backend.changes(etcd_prefix, after=after, on_error=errors.append)
        items = (i for i in stream if not isinstance(i, Progress))
        c.kv.put(f"{etcd_prefix}/x", "1")
        assert next(items).node.value == "1"
        server.restart()  # the member's socket breaks under the watch
        c.kv.put(f"{etcd_prefix}/x", "2")
        assert next(items).node.value == "2"
        stream.close()
        assert list(items) == []
    assert errors and all("WebSocket" in str(e) or "stream" in str(e) for e in errors), errors


def test_a_map_and_its_mirror_resync_after_compaction_while_away(
    etcd_server: EtcdServer, etcd_prefix: str
) -> None:
    resynced = threading.Event()
    with Client(etcd_server.client_url) as c:
        m = EtcdMap(c, etcd_prefix)
        m["a"] = "1"
        old = m.index
        m["a"] = "2"
        m["b"] = "3"
        c.kv.compact(m.index)

        def on_resync(_s: Any, **_kw: Any) -> None:
            resynced.set()

        signals.resynced.connect(on_resync, sender=m, weak=False)
        try:
            with m.watch(after_index=old) as w:
                assert resynced.wait(10)
                assert w.wait_for(m.index, 10)
                assert w.resyncs == 1
        finally:
            signals.resynced.disconnect(on_resync, sender=m)
