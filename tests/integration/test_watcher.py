"""The low-level Watcher against a real etcd: index semantics, expiry, refresh, 401, close."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from etcdmap.errors import DeadlineExceeded, EventIndexCleared
from etcdmap.v2.client import Client
from etcdmap.v2.watcher import Watcher, WatcherClosed


@pytest.fixture
def client(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=10.0) as c:
        yield c


def _later(delay: float, fn: object) -> threading.Timer:
    timer = threading.Timer(delay, fn)  # type: ignore[arg-type]
    timer.start()
    return timer


def test_after_index_replays_history(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/k"
    first = client.keys.set(key, "1").index
    second = client.keys.set(key, "2").index
    w = client.keys.watcher(key, after_index=first)
    assert w.wait_index == first + 1
    event = w.next(timeout=5)
    assert event.action == "set"
    assert event.node is not None
    assert (event.node.value, event.node.modified_index) == ("2", second)
    assert event.prev_node is not None and event.prev_node.value == "1"
    assert w.wait_index == second + 1
    with pytest.raises(DeadlineExceeded):
        w.next(timeout=0.3)


def test_after_index_zero_means_from_now(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/k"
    client.keys.set(key, "old")
    w = client.keys.watcher(key)
    timer = _later(0.3, lambda: client.keys.set(key, "new"))
    event = w.next(timeout=5)
    timer.join()
    assert event.node is not None and event.node.value == "new"
    assert event.index < event.node.modified_index  # X-Etcd-Index is the watch's start index


def test_no_event_lost_between_polls(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/k"
    w = client.keys.watcher(key, poll_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        w.next(timeout=0.5)
    assert 0.4 < time.monotonic() - started < 2.0
    assert w.wait_index > 0  # fixed by the first poll's X-Etcd-Index
    client.keys.set(key, "a")  # written while nobody polls
    client.keys.set(key, "b")
    values = [w.next(timeout=5).node.value for _ in range(2)]  # type: ignore[union-attr]
    assert values == ["a", "b"]


def test_recursive_watch_and_iteration(client: Client, etcd_prefix: str) -> None:
    base = client.keys.set(etcd_prefix + "/d/a", "1").index
    client.keys.set(etcd_prefix + "/d/b/c", "2")
    client.keys.delete(etcd_prefix + "/d/a")
    w = client.keys.watcher(etcd_prefix + "/d", after_index=base - 1, recursive=True)
    seen = []
    for event in w:
        assert event.node is not None
        seen.append((event.action, event.node.key))
        if len(seen) == 3:
            break
    assert seen == [
        ("set", etcd_prefix + "/d/a"),
        ("set", etcd_prefix + "/d/b/c"),
        ("delete", etcd_prefix + "/d/a"),
    ]
    flat = client.keys.watcher(etcd_prefix + "/d", after_index=base - 1)
    with pytest.raises(DeadlineExceeded):
        flat.next(timeout=0.3)  # children do not match a non-recursive watch


def test_ttl_expiry_is_seen_as_expire(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/ephemeral"
    index = client.keys.set(key, "v", ttl=1).index
    event = client.keys.watcher(key, after_index=index).next(timeout=10)
    assert event.action == "expire"
    assert event.node is not None and event.node.key == key
    assert event.prev_node is not None and event.prev_node.value == "v"


def test_refresh_does_not_fire_the_watch(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/r"
    index = client.keys.set(key, "v", ttl=30).index
    w = client.keys.watcher(key, after_index=index)
    client.keys.refresh(key, 60)
    with pytest.raises(DeadlineExceeded):
        w.next(timeout=0.5)
    client.keys.set(key, "changed")
    event = w.next(timeout=5)
    assert event.node is not None and event.node.value == "changed"


def test_event_index_cleared(client: Client, etcd_prefix: str) -> None:
    key = etcd_prefix + "/old"
    start = client.keys.set(key, "v").index
    for i in range(1010):  # push the first write out of etcd's 1,000-event history
        client.keys.set(etcd_prefix + "/filler", str(i))
    w = client.keys.watcher(key, after_index=start - 1)
    with pytest.raises(EventIndexCleared) as info:
        w.next(timeout=5)
    assert info.value.code == 401
    assert info.value.index >= start + 1010
    assert "cleared" in info.value.cause
    assert w.wait_index == start  # unchanged: the caller decides how to resync
    resync = client.keys.watcher(key, after_index=info.value.index)
    with pytest.raises(DeadlineExceeded):
        resync.next(timeout=0.3)


def test_close_from_another_thread(client: Client, etcd_prefix: str) -> None:
    w = client.keys.watcher(etcd_prefix + "/quiet")
    timer = _later(0.3, w.close)
    started = time.monotonic()
    with pytest.raises(WatcherClosed):
        w.next(timeout=10)
    timer.join()
    assert time.monotonic() - started < 3
    assert list(w) == []


def test_watcher_arguments_are_checked(client: Client, etcd_prefix: str) -> None:
    with pytest.raises(ValueError):
        client.keys.watcher(etcd_prefix, after_index=-1)
    with pytest.raises(TypeError):
        client.keys.watcher(etcd_prefix, after_index="3")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.keys.watcher(etcd_prefix, poll_timeout=0)
    assert isinstance(client.keys.watcher(etcd_prefix), Watcher)
    assert "wait_index=0" in repr(client.keys.watcher(etcd_prefix))
