"""Every admin call of both clients takes ``timeout=``: against a loopback peer that never
answers, each call gives up after its own timeout, not the client's (30 s here)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import etcdmap
from etcdmap import v3
from etcdmap.errors import DeadlineExceeded
from etcdmap.models import Permission
from tests.unit.scripted import ScriptedServer

CallOf = Callable[[Any], object]


@pytest.fixture
def silent() -> Iterator[str]:
    """A peer that reads each request and never answers (until the test ends)."""
    done = threading.Event()

    def hang(conn: socket.socket) -> None:
        done.wait(30)

    server = ScriptedServer([hang] * 20)
    try:
        yield server.url
    finally:
        done.set()
        server.close()


V2_CALLS: list[tuple[str, CallOf]] = [
    ("members.list", lambda c: c.members.list(timeout=0.1)),
    ("members.leader", lambda c: c.members.leader(timeout=0.1)),
    ("members.add", lambda c: c.members.add("http://10.0.0.9:2380", timeout=0.1)),
    ("members.remove", lambda c: c.members.remove("8e9e05c52164694d", timeout=0.1)),
    ("members.update", lambda c: c.members.update("8e9e05c52164694d", "http://10.0.0.9:2380",
                                                  timeout=0.1)),
    ("auth.enabled", lambda c: c.auth.enabled(timeout=0.1)),
    ("auth.enable", lambda c: c.auth.enable(timeout=0.1)),
    ("auth.disable", lambda c: c.auth.disable(timeout=0.1)),
    ("users.list", lambda c: c.users.list(timeout=0.1)),
    ("users.get", lambda c: c.users.get("u", timeout=0.1)),
    ("users.add", lambda c: c.users.add("u", "pw", timeout=0.1)),
    ("users.remove", lambda c: c.users.remove("u", timeout=0.1)),
    ("users.grant", lambda c: c.users.grant("u", "r", timeout=0.1)),
    ("users.revoke", lambda c: c.users.revoke("u", "r", timeout=0.1)),
    ("users.change_password", lambda c: c.users.change_password("u", "pw", timeout=0.1)),
    ("roles.list", lambda c: c.roles.list(timeout=0.1)),
    ("roles.get", lambda c: c.roles.get("r", timeout=0.1)),
    ("roles.add", lambda c: c.roles.add("r", timeout=0.1)),
    ("roles.remove", lambda c: c.roles.remove("r", timeout=0.1)),
    ("roles.grant_kv", lambda c: c.roles.grant_kv("r", "/a/*", Permission.READ, timeout=0.1)),
    ("roles.revoke_kv", lambda c: c.roles.revoke_kv("r", "/a/*", Permission.READ, timeout=0.1)),
    ("stats.self", lambda c: c.stats.self(timeout=0.1)),
    ("stats.store", lambda c: c.stats.store(timeout=0.1)),
    ("stats.leader", lambda c: c.stats.leader(timeout=0.1)),
    ("version", lambda c: c.version(timeout=0.1)),
    ("machines", lambda c: c.machines(timeout=0.1)),
]


@pytest.mark.parametrize(("name", "call"), V2_CALLS, ids=[n for n, _ in V2_CALLS])
def test_every_v2_admin_call_takes_timeout(silent: str, name: str, call: CallOf) -> None:
    with etcdmap.Client(silent, timeout=30) as client:
        start = time.monotonic()
        with pytest.raises((DeadlineExceeded, etcdmap.AmbiguousResultError)):
            call(client)
        assert time.monotonic() - start < 5, name


class _Sink:
    """A binary sink for the snapshot call."""

    def write(self, data: bytes) -> int:
        return len(data)


V3_CALLS: list[tuple[str, CallOf]] = [
    ("version", lambda c: c.version(timeout=0.1)),
    ("status", lambda c: c.status(timeout=0.1)),
    ("members.leader", lambda c: c.members.leader(timeout=0.1)),
    ("maintenance.alarms", lambda c: c.maintenance.alarms(timeout=0.1)),
    ("maintenance.disarm", lambda c: c.maintenance.disarm(timeout=0.1)),
    ("maintenance.defragment", lambda c: c.maintenance.defragment(timeout=0.1)),
    ("maintenance.hash", lambda c: c.maintenance.hash(timeout=0.1)),
    ("maintenance.move_leader", lambda c: c.maintenance.move_leader(5, timeout=0.1)),
    ("maintenance.snapshot", lambda c: c.maintenance.snapshot(_Sink(), timeout=0.1)),
]


@pytest.mark.parametrize(("name", "call"), V3_CALLS, ids=[n for n, _ in V3_CALLS])
def test_every_v3_admin_call_takes_timeout(silent: str, name: str, call: CallOf) -> None:
    with v3.Client(silent, timeout=30) as client:
        start = time.monotonic()
        with pytest.raises((DeadlineExceeded, etcdmap.AmbiguousResultError)):
            call(client)
        assert time.monotonic() - start < 5, name


def test_health_never_raises_and_keeps_its_timeout(silent: str) -> None:
    for client in (etcdmap.Client(silent, timeout=30), v3.Client(silent, timeout=30)):
        with client:
            start = time.monotonic()
            assert not client.health(timeout=0.1)
            assert time.monotonic() - start < 5
