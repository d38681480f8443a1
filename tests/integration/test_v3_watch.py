"""etcdmap.v3 watches against a real etcd 3.5: events, prev_kv, prefixes, bursts, history,
compaction, progress notifications, idle reopen and close."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import pytest

from etcdmap.errors import EventIndexCleared
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client, Event, Op, Watcher, WatchResponse
from etcdmap.v3 import errors as e

WAIT = 10.0


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=5.0) as c:
        yield c


@pytest.fixture(scope="module")
def progress_server() -> Iterator[EtcdServer]:
    """A v3-only server that sends progress notifications every 300 ms."""
    args = ["--experimental-watch-progress-notify-interval=300ms"]
    with EtcdServer(enable_v2=False, extra_args=args) as server:
        yield server


class Collector:
    """Iterates a watcher in a thread and hands events to the test through a queue."""

    def __init__(self, watcher: Watcher, *, responses: bool = False) -> None:
        self.watcher = watcher
        self.items: queue.Queue[Event | WatchResponse | BaseException] = queue.Queue()
        self.created = threading.Event()
        self._responses = responses
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for msg in self.watcher.responses():
                if msg.created:
                    self.created.set()
                if self._responses:
                    self.items.put(msg)
                for ev in msg.events:
                    self.items.put(ev)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.items.put(exc)
        finally:
            self.created.set()

    def take(self, n: int) -> list[Event]:
        out: list[Event] = []
        while len(out) < n:
            item = self.items.get(timeout=WAIT)
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, Event):
                out.append(item)
        return out

    def close(self) -> None:
        self.watcher.close()
        self.thread.join(WAIT)
        assert not self.thread.is_alive()


def started(watcher: Watcher, **kw: bool) -> Collector:
    col = Collector(watcher, **kw)
    assert col.created.wait(WAIT)
    return col


def test_put_update_delete_with_prev_kv(v3: Client, etcd_prefix: str) -> None:
    col = started(v3.watch(etcd_prefix, prev_kv=True))
    try:
        v3.kv.put(etcd_prefix, "1")
        v3.kv.put(etcd_prefix, b"\x00\xff")
        v3.kv.delete(etcd_prefix)
        put, update, delete = col.take(3)
        assert (put.type, put.kv.value, put.kv.version, put.prev_kv) == ("PUT", b"1", 1, None)
        assert update.kv.value == b"\x00\xff" and update.prev_kv is not None
        assert update.prev_kv.value == b"1"
        assert delete.type == "DELETE" and delete.prev_kv is not None
        assert delete.prev_kv.value == b"\x00\xff" and delete.kv.key_text == etcd_prefix
        assert col.watcher.revision == delete.revision
    finally:
        col.close()


def test_prefix_watch_sees_only_its_prefix_and_txn_events_share_a_revision(
    v3: Client, etcd_prefix: str
) -> None:
    col = started(v3.watch(f"{etcd_prefix}/", prefix=True, filters=["NODELETE"]))
    try:
        v3.kv.put(f"{etcd_prefix}0", "sibling")
        v3.kv.txn([], [Op.put(f"{etcd_prefix}/a", "1"), Op.put(f"{etcd_prefix}/b", "2")])
        v3.kv.delete(f"{etcd_prefix}/a")  # filtered out
        v3.kv.put(f"{etcd_prefix}/c", "3")
        a, b, c = col.take(3)
        assert [ev.kv.key_text[-1] for ev in (a, b, c)] == ["a", "b", "c"]
        assert a.revision == b.revision < c.revision
        assert col.items.empty()
    finally:
        col.close()


def test_burst_of_puts_misses_nothing(v3: Client, etcd_prefix: str) -> None:
    n = 2000
    col = started(v3.watch(f"{etcd_prefix}/", prefix=True))
    try:
        for i in range(n):
            v3.kv.put(f"{etcd_prefix}/{i % 10}", str(i))
        got = col.take(n)
        assert [ev.kv.value for ev in got] == [str(i).encode() for i in range(n)]
        revs = [ev.revision for ev in got]
        assert revs == sorted(set(revs))  # no duplicate, in order
    finally:
        col.close()


def test_history_replay_from_a_start_revision(v3: Client, etcd_prefix: str) -> None:
    first = v3.kv.put(f"{etcd_prefix}/k", "0").header.revision
    for i in range(1, 50):
        v3.kv.put(f"{etcd_prefix}/k", str(i))
    col = Collector(v3.watch(f"{etcd_prefix}/", prefix=True, start_revision=first + 10))
    try:
        got = col.take(40)
        assert [ev.kv.value for ev in got] == [str(i).encode() for i in range(10, 50)]
    finally:
        col.close()


def test_compacted_start_revision_raises_with_the_compact_revision(
    progress_server: EtcdServer,
) -> None:
    with Client(progress_server.client_url) as c:
        old = c.kv.put("wc/k", "0").header.revision
        now = c.kv.put("wc/k", "1").header.revision
        c.kv.compact(now)
        watcher = c.watch("wc/", prefix=True, start_revision=old, read_timeout=5)
        with pytest.raises(e.RevisionCompacted) as info:
            next(iter(watcher))
        assert info.value.compact_revision == now
        assert isinstance(info.value, EventIndexCleared)
        assert watcher.endpoint is None  # the stream was released
        # the documented recovery: re-read, watch from the read's revision + 1
        state = c.kv.range("wc/", prefix=True)
        col = started(c.watch("wc/", prefix=True, start_revision=state.header.revision + 1))
        try:
            c.kv.put("wc/k", "2")
            assert col.take(1)[0].kv.value == b"2"
        finally:
            col.close()


def test_progress_notifications_advance_the_revision(progress_server: EtcdServer) -> None:
    with Client(progress_server.client_url) as c:
        rev = c.kv.put("other/key", "x").header.revision
        col = started(c.watch("quiet/", prefix=True, progress_notify=True), responses=True)
        try:
            while True:
                item = col.items.get(timeout=WAIT)
                assert isinstance(item, WatchResponse)
                if item.is_progress:
                    break
            assert item.header.revision >= rev and col.watcher.revision >= rev
        finally:
            col.close()


def test_an_idle_stream_is_reopened_without_losing_events(v3: Client, etcd_prefix: str) -> None:
    col = started(v3.watch(etcd_prefix, read_timeout=0.3))
    try:
        tick = threading.Event()
        for _ in range(200):  # up to 10 s; the server sends nothing while idle
            if col.watcher.reopens >= 2:
                break
            tick.wait(0.05)
        assert col.watcher.reopens >= 2 and col.thread.is_alive()
        v3.kv.put(etcd_prefix, "after idle")
        assert col.take(1)[0].kv.value == b"after idle"
    finally:
        col.close()


def test_close_from_another_thread_ends_iteration(v3: Client, etcd_prefix: str) -> None:
    col = started(v3.watch(etcd_prefix))
    col.close()  # asserts the thread ended
    assert col.watcher.closed and col.items.empty()


def test_bad_watch_arguments(v3: Client) -> None:
    with pytest.raises(e.KeyNotProvided):
        v3.watch("")
    with pytest.raises(TypeError):
        v3.watch("k", prev_kv=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="filters"):
        v3.watch("k", filters=["NOPE"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="read_timeout"):
        v3.watch("k", read_timeout=0)
    with pytest.raises(ValueError, match="start_revision"):
        v3.watch("k", start_revision=-1)
