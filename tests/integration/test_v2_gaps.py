"""Issue 12's v2 gaps against a real etcd: raft headers, the leader's start time, a role with
its permissions in one request, and ``copy()`` of a map and a mirror.

(Members with several peer URLs and etcd's refusals of member writes need a cluster:
tests/integration/test_member_writes.py.)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from etcdmap.http.transport import disable_curl_debug, enable_curl_debug
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client


def _raft_headers(url: str) -> tuple[int, int]:
    """``X-Raft-Index`` and ``X-Raft-Term`` as etcd sends them on a plain GET."""
    r = requests.get(f"{url}/v2/keys/", timeout=5)
    return int(r.headers["X-Raft-Index"]), int(r.headers["X-Raft-Term"])


def test_raft_headers_on_every_keys_answer(
    client: Client, etcd_url: str, etcd_prefix: str
) -> None:
    before_index, term = _raft_headers(etcd_url)
    written = client.keys.set(f"{etcd_prefix}/k", "v")
    read = client.keys.get(f"{etcd_prefix}/k")
    deleted = client.keys.delete(f"{etcd_prefix}/k")
    after_index, _ = _raft_headers(etcd_url)
    for r in (written, read, deleted):
        assert isinstance(r.raft_index, int) and isinstance(r.raft_term, int)
        assert r.raft_term == term  # one server, no election meanwhile
        assert before_index <= r.raft_index <= after_index
    assert written.raft_index is not None and deleted.raft_index is not None
    assert written.raft_index < deleted.raft_index  # each write is a raft entry


def test_watch_events_carry_the_raft_headers_of_their_answer(
    client: Client, etcd_prefix: str
) -> None:
    first = client.keys.set(f"{etcd_prefix}/w", "1")
    w = client.keys.watcher(f"{etcd_prefix}/w", after_index=first.index - 1)
    try:
        event = w.next(timeout=5)
    finally:
        w.close()
    assert event.node is not None and event.node.value == "1"
    # A watch answer from history is a keys answer too: etcd sends the headers on it.
    assert event.raft_term == first.raft_term


def test_self_stats_leader_start_time(client: Client) -> None:
    stats = client.stats.self()
    started = stats.leader_start_time
    assert isinstance(started, datetime)
    assert started.tzinfo is not None and started.utcoffset() == timedelta(0)
    now = datetime.now(timezone.utc)
    assert now - timedelta(days=1) < started <= now + timedelta(seconds=5)
    raw = requests.get(f"{client.endpoints[0]}/v2/stats/self", timeout=5).json()
    text = raw["leaderInfo"]["startTime"]  # e.g. 2026-11-29T20:07:51.77666616Z (nanoseconds)
    assert text.endswith("Z")
    whole, _, frac = text[:-1].partition(".")
    assert started.strftime("%Y-%m-%dT%H:%M:%S") == whole
    assert started.microsecond == int(frac[:6].ljust(6, "0"))


def test_role_with_permissions_in_one_request(
    client: Client, etcd_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "r" + etcd_prefix.replace("/", "-")
    capsys.readouterr()
    enable_curl_debug()
    try:
        role = client.roles.add(name, read=[f"{etcd_prefix}/*", "/shared"], write=f"{etcd_prefix}/*")
    finally:
        disable_curl_debug()
    try:
        curls = [line for line in capsys.readouterr().err.splitlines() if "curl" in line]
        assert len(curls) == 1 and "-X PUT" in curls[0], curls  # one request, permissions in it
        assert role.name == name
        assert sorted(role.read) == sorted([f"{etcd_prefix}/*", "/shared"])
        assert role.write == (f"{etcd_prefix}/*",)
        assert client.roles.get(name) == role  # what etcd stored
    finally:
        client.roles.remove(name)


def test_role_add_rejects_bad_patterns_before_sending(client: Client, etcd_prefix: str) -> None:
    name = "bad" + etcd_prefix.replace("/", "-")
    with pytest.raises(ValueError, match="read key patterns must be non-empty strings"):
        client.roles.add(name, read=["/ok", ""])
    with pytest.raises(ValueError, match="write key patterns"):
        client.roles.add(name, write=[7])  # type: ignore[list-item]
    assert name not in client.roles.list()


def test_role_add_without_permissions_is_unchanged(client: Client, etcd_prefix: str) -> None:
    name = "plain" + etcd_prefix.replace("/", "-")
    try:
        assert client.roles.add(name).read == ()
        assert client.roles.get(name).write == ()
    finally:
        client.roles.remove(name)


def test_map_copy_is_a_plain_nested_snapshot(m: EtcdMap) -> None:
    m["db"] = {"host": "db1", "port": "5432"}
    m["name"] = "app"
    snap = m.copy()
    assert type(snap) is dict and type(snap["db"]) is dict
    assert snap == {"db": {"host": "db1", "port": "5432"}, "name": "app"} == m.to_dict()
    snap["db"]["host"] = "changed"  # a snapshot: neither etcd nor the map changes
    m["name"] = "other"
    assert m["db"]["host"] == "db1" and snap["name"] == "app"
    assert m["db"].copy() == {"host": "db1", "port": "5432"}  # views too


def test_map_copy_of_a_missing_directory_is_empty(client: Client, etcd_prefix: str) -> None:
    assert EtcdMap(client, f"{etcd_prefix}/nothing").copy() == {}


def test_mirror_copy(m: EtcdMap) -> None:
    m["db"] = {"host": "db1"}
    with m.mirror() as live:
        snap = live.copy()
        assert type(snap) is dict and snap == {"db": {"host": "db1"}}
        m["db"]["host"] = "db2"
        live.wait_for()
        assert snap == {"db": {"host": "db1"}}  # unchanged: a copy
        assert live.copy() == {"db": {"host": "db2"}} and live["db"].copy() == {"host": "db2"}
