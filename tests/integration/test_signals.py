"""Signals from a real watch: one signal per event with the documented payload, per sender."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from etcdmap import signals
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client

NAMES = ("changed", "created", "updated", "deleted", "expired")


class Recorder:
    """Records (signal name, payload) for one sender; waits without sleeping in a loop."""

    def __init__(self, sender: object) -> None:
        self.sender = sender
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()
        self._receivers: list[tuple[Any, Any]] = []
        for name in (*NAMES, "resynced", "watch_error"):
            sig = getattr(signals, name)

            def rx(_sender: object, _name: str = name, **kw: Any) -> None:
                with self.cond:
                    self.got.append((_name, kw))
                    self.cond.notify_all()

            sig.connect(rx, sender=sender, weak=False)
            self._receivers.append((sig, rx))

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[str, dict[str, Any]]]:
        """Wait until ``count`` ``changed`` signals arrived; return everything so far."""
        with self.cond:
            self.cond.wait_for(
                lambda: sum(1 for n, _ in self.got if n == "changed") >= count, timeout
            )
            return list(self.got)

    def specific(self) -> list[tuple[str, dict[str, Any]]]:
        with self.cond:
            return [(n, kw) for n, kw in self.got if n != "changed"]

    def close(self) -> None:
        for sig, rx in self._receivers:
            sig.disconnect(rx, sender=self.sender)


@pytest.fixture
def watched(client: Client, etcd_prefix: str) -> Iterator[tuple[EtcdMap, Recorder]]:
    m = EtcdMap(client, etcd_prefix)
    rec = Recorder(m)
    with m.watch():
        yield m, rec
    rec.close()


def payload(key: str, m: EtcdMap, action: str, value: Any, prev: Any, index: int,
            is_dir: bool = False) -> dict[str, Any]:
    return {"key": key, "path": f"{m.path}/{key}", "action": action, "value": value,
            "prev_value": prev, "index": index, "dir": is_dir}


def test_each_write_fires_changed_and_one_specific_signal(
    watched: tuple[EtcdMap, Recorder], client: Client
) -> None:
    m, rec = watched
    p = m.path
    i1 = client.keys.set(f"{p}/a", "1").index                       # set, new -> created
    i2 = client.keys.set(f"{p}/a", "2").index                       # set, existing -> updated
    i3 = client.keys.create(f"{p}/b", "b").index                    # create -> created
    i4 = client.keys.update(f"{p}/b", "b2").index                   # update -> updated
    i5 = client.keys.set(f"{p}/a", "3", prev_value="2").index       # CAS -> updated
    i6 = client.keys.delete(f"{p}/a", prev_value="3").index         # CAD -> deleted
    i7 = client.keys.delete(f"{p}/b").index                         # delete -> deleted
    got = rec.wait(7)
    assert rec.specific() == [
        ("created", payload("a", m, "set", "1", None, i1)),
        ("updated", payload("a", m, "set", "2", "1", i2)),
        ("created", payload("b", m, "create", "b", None, i3)),
        ("updated", payload("b", m, "update", "b2", "b", i4)),
        ("updated", payload("a", m, "compareAndSwap", "3", "2", i5)),
        ("deleted", payload("a", m, "compareAndDelete", None, "3", i6)),
        ("deleted", payload("b", m, "delete", None, "b2", i7)),
    ]
    changed = [kw for n, kw in got if n == "changed"]
    assert changed == [kw for _, kw in rec.specific()]  # changed fires for every event too


def test_nested_keys_and_directories(watched: tuple[EtcdMap, Recorder], client: Client) -> None:
    m, rec = watched
    p = m.path
    i1 = client.keys.mkdir(f"{p}/d").index
    i2 = client.keys.set(f"{p}/d/e/leaf", "v").index  # the intermediate dir e is implied
    i3 = client.keys.delete(f"{p}/d", recursive=True).index
    rec.wait(3)
    assert rec.specific() == [
        ("created", payload("d", m, "create", None, None, i1, True)),
        ("created", payload("d/e/leaf", m, "set", "v", None, i2)),
        # one event for the directory; everything below it is implied gone
        ("deleted", payload("d", m, "delete", None, None, i3, True)),
    ]


def test_expire(watched: tuple[EtcdMap, Recorder], client: Client) -> None:
    m, rec = watched
    client.keys.set(f"{m.path}/t", "x", ttl=1)
    client.keys.set(f"{m.path}/td", "", dir=True, ttl=1)
    rec.wait(4, timeout=15)
    expired = [(kw["key"], kw["dir"], kw["prev_value"]) for n, kw in rec.specific()
               if n == "expired"]
    assert sorted(expired) == [("t", False, "x"), ("td", True, None)]
    assert all(kw["action"] == "expire" for n, kw in rec.specific() if n == "expired")


def test_values_are_decoded_with_the_map_codec(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix, codec="json")
    rec = Recorder(m)
    try:
        with m.watch():
            m["n"] = [1, 2]
            m["n"] = {"nested": "dict becomes a dir"}
            rec.wait(3)
    finally:
        rec.close()
    specific = rec.specific()
    assert specific[0] == ("created", {**payload("n", m, "set", [1, 2], None,
                                                 specific[0][1]["index"])})
    assert specific[1][0] == "deleted" and specific[1][1]["prev_value"] == [1, 2]


def test_a_value_the_codec_cannot_decode_is_reported_and_kept_raw(
    client: Client, etcd_prefix: str
) -> None:
    m = EtcdMap(client, etcd_prefix, codec="json")
    rec = Recorder(m)
    try:
        with m.watch():
            client.keys.set(f"{etcd_prefix}/bad", "{not json")
            m["good"] = 1
            rec.wait(2)
    finally:
        rec.close()
    values = [(kw["key"], kw["value"]) for n, kw in rec.specific() if n == "created"]
    assert values == [("bad", "{not json"), ("good", 1)]
    errors = [kw for n, kw in rec.got if n == "watch_error"]
    assert len(errors) == 1 and isinstance(errors[0]["error"], ValueError)


def test_receivers_filtered_by_sender_see_only_their_map(
    client: Client, etcd_prefix: str
) -> None:
    a = EtcdMap(client, f"{etcd_prefix}/a")
    b = EtcdMap(client, f"{etcd_prefix}/b")
    rec_a, rec_b = Recorder(a), Recorder(b)
    try:
        with a.watch(), b.watch():
            a["x"] = "1"
            b["y"] = "2"
            b["z"] = "3"
            rec_a.wait(1)
            rec_b.wait(2)
    finally:
        rec_a.close()
        rec_b.close()
    assert [kw["key"] for n, kw in rec_a.specific()] == ["x"]
    assert [kw["key"] for n, kw in rec_b.specific()] == ["y", "z"]


def test_non_recursive_watch_sees_the_directory_only(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, f"{etcd_prefix}/d")
    m["child"] = "1"
    rec = Recorder(m)
    try:
        with m.watch(recursive=False):
            m["child"] = "2"  # below the directory: not reported
            i = client.keys.delete(f"{etcd_prefix}/d", recursive=True).index
            rec.wait(1)
    finally:
        rec.close()
    assert rec.specific() == [("deleted", {"key": "", "path": f"{etcd_prefix}/d",
                                           "action": "delete", "value": None,
                                           "prev_value": None, "index": i, "dir": True})]


def test_watch_starts_after_the_maps_last_read(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    m["before"] = "0"
    assert m.get("before") == "0"  # m.index is now this read's index
    client.keys.set(f"{etcd_prefix}/between", "1")  # between the read and the watch
    rec = Recorder(m)
    try:
        with m.watch():
            m["after"] = "2"
            rec.wait(2)
    finally:
        rec.close()
    assert [kw["key"] for n, kw in rec.specific()] == ["between", "after"]


def test_a_failing_receiver_does_not_stop_the_watch(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    rec = Recorder(m)

    def bad(_sender: object, **kw: Any) -> None:
        raise RuntimeError(f"bug on {kw['key']}")

    signals.created.connect(bad, sender=m, weak=False)
    try:
        with m.watch() as w:
            m["a"] = "1"
            m["b"] = "2"
            rec.wait(2)
            assert w.running
    finally:
        signals.created.disconnect(bad, sender=m)
        rec.close()
    errors = [kw for n, kw in rec.got if n == "watch_error"]
    assert [str(e["error"]) for e in errors] == ["bug on a", "bug on b"]
    assert all(e["signal"] == "created" and e["receiver"] is bad for e in errors)
    assert [n for n, _ in rec.specific() if n == "created"] == ["created", "created"]


def test_watch_wait_for(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    rec = Recorder(m)
    try:
        with m.watch() as w:
            m["a"] = "1"
            assert w.wait_for(m.index, 10)
            assert [kw["key"] for n, kw in rec.specific()] == ["a"]
            client.keys.set(f"{etcd_prefix}-elsewhere", "x")  # no event for this watch
            assert w.wait_for(timeout=10)
            assert w.index >= m.index
    finally:
        rec.close()


def test_stop_is_prompt_and_idempotent(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    w = m.watch()
    before = w.running
    start = time.monotonic()
    w.stop()
    assert time.monotonic() - start < 2.0
    assert (before, w.running) == (True, False)
    w.stop()
    w.join(1)
