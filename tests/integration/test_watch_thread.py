"""The watch thread against real etcd: bursts, lost history, floods and failing members."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from etcdmap import signals
from etcdmap.errors import EtcdMapError
from etcdmap.mapping.emap import EtcdMap
from etcdmap.mapping.mirror import watch_map
from etcdmap.testing import EtcdCluster
from etcdmap.v2.client import Client


class Log:
    """Everything one sender's watch reported, plus a model of the state it implies."""

    def __init__(self, sender: object, on_event: Callable[[], object] | None = None) -> None:
        self.sender = sender
        self.indexes: list[int] = []
        self.resyncs: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self.state: dict[str, Any] = {}
        self.cond = threading.Condition()
        self.on_event = on_event
        self._connected = [
            (signals.changed, self._changed), (signals.created, self._written),
            (signals.updated, self._written), (signals.deleted, self._removed),
            (signals.expired, self._removed), (signals.resynced, self._resynced),
            (signals.watch_error, self._error),
        ]
        for sig, rx in self._connected:
            sig.connect(rx, sender=sender)

    def _changed(self, _sender: object, **kw: Any) -> None:
        if self.on_event is not None:
            self.on_event()
        if kw["action"] != "resync":
            with self.cond:
                self.indexes.append(kw["index"])

    def _written(self, _sender: object, **kw: Any) -> None:
        if not kw["dir"]:
            with self.cond:
                self.state[kw["key"]] = kw["value"]
                self.cond.notify_all()

    def _removed(self, _sender: object, **kw: Any) -> None:
        key = kw["key"]
        with self.cond:
            for k in [k for k in self.state if k == key or k.startswith(key + "/")]:
                del self.state[k]
            self.cond.notify_all()

    def _resynced(self, _sender: object, **kw: Any) -> None:
        with self.cond:
            self.resyncs.append(kw)
            self.cond.notify_all()

    def _error(self, _sender: object, **kw: Any) -> None:
        self.errors.append(kw["error"])

    def wait(self, pred: Callable[[], bool], timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(pred, timeout)

    def close(self) -> None:
        for sig, rx in self._connected:
            sig.disconnect(rx, sender=self.sender)


def flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def write_all(client: Client, items: list[tuple[str, str]], threads: int = 8) -> list[int]:
    """Write ``(key, value)`` pairs from several threads; return the writes' indexes."""
    indexes: list[int] = []
    lock = threading.Lock()

    def worker(part: list[tuple[str, str]]) -> None:
        for key, value in part:
            index = client.keys.set(key, value).index
            with lock:
                indexes.append(index)

    workers = [threading.Thread(target=worker, args=(items[i::threads],))
               for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(60)
    return sorted(indexes)


def test_burst_every_index_once_in_order(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    log = Log(m)
    try:
        with m.watch() as w:
            start = time.perf_counter()
            written = write_all(client, [(f"{etcd_prefix}/k{i}", str(i)) for i in range(2000)])
            assert log.wait(lambda: len(log.indexes) >= 2000, 20)
            elapsed = time.perf_counter() - start
            assert w.running
    finally:
        log.close()
    assert log.indexes == written  # every write exactly once, in index order
    assert log.resyncs == []
    print(f"2000-write burst: {2000 / elapsed:.0f} events/s delivered (writer-bound)")


def test_after_index_replays_history(client: Client, etcd_prefix: str) -> None:
    first = client.keys.set(f"{etcd_prefix}/a", "1").index
    client.keys.set(f"{etcd_prefix}/b", "2")
    client.keys.delete(f"{etcd_prefix}/a")
    m = EtcdMap(client, etcd_prefix)
    log = Log(m)
    try:
        with m.watch(after_index=first - 1):
            assert log.wait(lambda: len(log.indexes) >= 3, 10)
    finally:
        log.close()
    assert log.indexes == [first, first + 1, first + 2]
    assert log.state == {"b": "2"}


def test_history_loss_resyncs_to_the_true_state(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    m["doomed"] = "x"
    m["kept"] = "y"
    release = threading.Event()
    log = Log(m, on_event=lambda: release.wait(30))
    log.state = flat(m.to_dict())  # the state at m.index, where the watch starts
    try:
        with m.watch(after_index=m.index):
            client.keys.delete(f"{etcd_prefix}/doomed")  # its receiver blocks the watch
            # Big values overflow the stream's buffers (etcd then drops the stream; ~5 MB
            # still arrive through the socket buffers), and far more than 1,000 events follow.
            big = "v" * 8192
            write_all(client, [(f"{etcd_prefix}/n{i}", big) for i in range(2500)])
            release.set()
            assert log.wait(lambda: bool(log.resyncs), 25), "no resynced after lost history"
            truth = flat(m.to_dict())
            assert log.wait(lambda: log.state == truth, 10)
    finally:
        release.set()
        log.close()
    resync = log.resyncs[0]
    assert set(resync) == {"index", "created", "updated", "deleted", "reason"}
    assert resync["created"] > 0 and resync["index"] >= max(log.indexes)


def test_a_stream_dropped_by_etcd_is_noticed_right_after_the_burst(
    client: Client, etcd_prefix: str
) -> None:
    m = EtcdMap(client, etcd_prefix)
    release = threading.Event()
    log = Log(m, on_event=lambda: release.wait(30))
    try:
        # A 30 s idle timeout: within this test only the prober can notice the dropped stream.
        with watch_map(m, idle_timeout=30.0) as w:
            first = client.keys.set(f"{etcd_prefix}/first", "x").index  # blocks the watch
            # 600 x 16 KB overflow the socket buffers and the 100-event buffer (etcd drops
            # the stream silently) while staying within etcd's 1,000-event history.
            big = "v" * 16384
            written = [first, *write_all(client, [(f"{etcd_prefix}/n{i}", big)
                                                  for i in range(600)])]
            release.set()
            assert log.wait(lambda: len(log.indexes) >= len(written), 10)
            assert w.dropped >= 1, "the stream was not dropped: the test proves nothing"
            assert w.running
    finally:
        release.set()
        log.close()
    assert log.indexes == written  # every event exactly once, in order (the probe's too)
    assert log.resyncs == []


def test_flood_gaps_are_covered_by_resynced(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    slow = threading.Event()
    slow.set()

    def throttle() -> None:
        if slow.is_set():
            time.sleep(0.002)  # a slow subscriber: the flood outruns it

    log = Log(m, on_event=throttle)
    written: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            key = f"{etcd_prefix}/w{n}/k{i % 50}"
            resp = client.keys.delete(key) if i % 7 == 6 and i > 50 else client.keys.set(
                key, f"{i}" + "x" * 4000)
            with lock:
                written.append(resp.index)
            i += 1

    try:
        with m.watch() as w, m.mirror() as live:
            writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
            for t in writers:
                t.start()
            stop.wait(3)
            stop.set()
            for t in writers:
                t.join(10)
            slow.clear()  # let the subscriber catch up quickly
            last = max(written)
            assert log.wait(lambda: bool(log.indexes) and (
                max(log.indexes) >= last or any(r["index"] >= last for r in log.resyncs)), 25)
            truth = flat(m.to_dict())
            assert log.wait(lambda: log.state == truth, 10)
            assert w.running
            assert live.wait_for(last, 20)
            assert flat(live.to_dict()) == truth
    finally:
        stop.set()
        log.close()
    seen = set(log.indexes)
    assert len(seen) == len(log.indexes)  # no duplicates
    assert log.indexes == sorted(log.indexes)  # in order (resyncs only ever move forward)
    covered = [r["index"] for r in log.resyncs]
    print(f"flood: {len(written)} writes, {len(seen)} events, {len(covered)} resyncs")
    for index in written:
        assert index in seen or any(index <= c for c in covered), f"index {index} lost"


# ---------------------------------------------------------------------- failover (3 members)


def _failover(cluster: EtcdCluster, prefix: str, fault: str) -> None:
    urls = cluster.client_urls
    with Client(urls, request_timeout=1.0) as wc, Client(urls, request_timeout=1.0) as c:
        m = EtcdMap(wc, prefix)
        log = Log(m)
        written: list[int] = []
        stop = threading.Event()

        def writer() -> None:
            i = 0
            while not stop.is_set():
                try:
                    written.append(c.keys.set(f"{prefix}/k{i % 100}", str(i)).index)
                except EtcdMapError:
                    continue  # a member is down or an election runs: try again
                i += 1
                stop.wait(0.002)

        victim = None
        try:
            with m.watch() as w:
                t = threading.Thread(target=writer)
                t.start()
                assert log.wait(lambda: len(log.indexes) >= 20, 10)
                endpoint = w.endpoint
                victim = next(s for s in cluster.members if s.client_url == endpoint)
                victim.kill() if fault == "kill" else victim.stop()
                target = len(written) + 50  # events written after the fault, delivered
                assert log.wait(lambda: len(log.indexes) >= target, 20)
                stop.set()
                t.join(10)
                last = max(written)
                assert log.wait(lambda: max(log.indexes) >= last, 15)
                assert w.endpoint != endpoint
        finally:
            stop.set()
            log.close()
            if victim is not None:
                if fault == "kill":
                    victim.restart()
                else:
                    victim.cont()
        assert log.resyncs == []
        assert len(set(log.indexes)) == len(log.indexes)  # nothing twice
        assert set(written) <= set(log.indexes)  # nothing lost


@pytest.mark.cluster
def test_failover_when_the_watched_member_is_killed(
    etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    _failover(etcd_cluster, etcd_prefix, "kill")


@pytest.mark.cluster
def test_failover_when_the_watched_member_is_stopped(
    etcd_cluster: EtcdCluster, etcd_prefix: str
) -> None:
    _failover(etcd_cluster, etcd_prefix, "stop")
