"""etcdmap.v3 on a real 3-member etcd 3.5 cluster: members, status, and watches that survive
the loss (SIGKILL) or freeze (SIGSTOP) of the member they stream from, losing nothing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from etcdmap.testing import EtcdCluster, EtcdServer
from etcdmap.v3 import Client, Event, MemberAddResponse
from etcdmap.v3 import errors as e

WAIT = 20.0


@pytest.fixture
def v3(etcd_cluster: EtcdCluster) -> Iterator[Client]:
    with Client(etcd_cluster.client_urls, timeout=5.0, request_timeout=2.0) as c:
        yield c


def _free_peer_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_members_list_matches_the_cluster(v3: Client, etcd_cluster: EtcdCluster) -> None:
    members = v3.members.list(linearizable=True).members
    assert sorted(u for m in members for u in m.client_urls) == sorted(etcd_cluster.client_urls)
    assert all(m.name and m.id and not m.is_learner for m in members)


def test_status_of_each_member_agrees_on_one_leader(v3: Client, etcd_cluster: EtcdCluster) -> None:
    statuses = [v3.status(endpoint=url) for url in etcd_cluster.client_urls]
    leaders = {s.leader for s in statuses}
    assert len(leaders) == 1 and leaders != {0}
    assert sum(s.is_leader for s in statuses) == 1
    assert all(s.version.startswith("3.") and s.db_size > 0 for s in statuses)
    assert len({s.header.member_id for s in statuses}) == 3


def _add_learner(v3: Client, url: str) -> MemberAddResponse:
    """Add a learner; etcd refuses member changes (unapplied) until the leader has been
    connected to a quorum for ~5 s, so a freshly started cluster is waited for."""
    pause = threading.Event()
    for _ in range(80):
        try:
            return v3.members.add(url, learner=True)
        except e.UnhealthyCluster:
            pause.wait(0.25)
    raise AssertionError("the cluster stayed unhealthy for member changes")


def test_learner_add_update_promote_remove(v3: Client) -> None:
    url = _free_peer_url()
    added = _add_learner(v3, url)
    try:
        assert added.member.is_learner and added.member.peer_urls == (url,)
        assert added.member.id in {m.id for m in added.members}
        with pytest.raises(e.MemberExistsV3):
            v3.members.add(url, learner=True)
        with pytest.raises(e.FailedPrecondition, match="learner"):
            v3.members.promote(added.member.id)  # never started: not in sync
        moved = _free_peer_url()
        updated = v3.members.update(added.member.id, [moved])
        assert {m.id: m.peer_urls for m in updated.members}[added.member.id] == (moved,)
    finally:
        after = v3.members.remove(added.member.id)
    assert added.member.id not in {m.id for m in after.members}
    with pytest.raises(e.MemberNotFoundV3):
        v3.members.remove(added.member.id)
    with pytest.raises(ValueError):
        v3.members.add("notaurl")


def _victim(cluster: EtcdCluster, url: str) -> EtcdServer:
    return next(m for m in cluster.members if m.client_url == url)


def _watch_through_fault(
    cluster: EtcdCluster, fault: Callable[[EtcdServer], None], *, n: int = 300
) -> tuple[list[Event], int]:
    """Watch a prefix from one member, write ``n`` keys through the others, apply ``fault``
    to the watched member after a third of the events; return what the watcher saw."""
    prefix = f"fault-{threading.get_ident()}-{id(fault)}/"
    victim = cluster.members[0]
    others = [m.client_url for m in cluster.members[1:]]
    watcher_client = Client(cluster.client_urls, timeout=5.0, request_timeout=1.0)
    watcher_client.transport.pin(victim.client_url)
    writer = Client(others, timeout=10.0)
    start = writer.kv.put(prefix + "start", "").header.revision
    watcher = watcher_client.watch(prefix, prefix=True, start_revision=start + 1, read_timeout=1.0)
    got: list[Event] = []
    errors: list[BaseException] = []
    third = threading.Event()

    def read() -> None:
        try:
            for ev in watcher:
                got.append(ev)
                if len(got) == n // 3:
                    third.set()
                if len(got) == n:
                    return
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            third.set()

    def write() -> None:
        for i in range(n):
            writer.kv.put(f"{prefix}{i:04d}", str(i))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    writing = threading.Thread(target=write, daemon=True)
    writing.start()
    try:
        assert third.wait(WAIT), "the watch saw nothing"
        assert _victim(cluster, victim.client_url) is victim
        fault(victim)
        writing.join(WAIT)
        reader.join(WAIT)
        assert not errors, errors
        assert not writing.is_alive() and not reader.is_alive(), f"got {len(got)} of {n}"
        assert watcher.endpoint != victim.client_url
        return got, watcher.reopens
    finally:
        watcher.close()
        watcher_client.close()
        writer.close()


def _assert_exactly_once(got: list[Event], n: int) -> None:
    assert [ev.kv.value for ev in got] == [str(i).encode() for i in range(n)]
    revs = [ev.revision for ev in got]
    assert revs == sorted(set(revs))


def test_watch_survives_kill_of_its_member(etcd_cluster: EtcdCluster) -> None:
    got, reopens = _watch_through_fault(etcd_cluster, EtcdServer.kill)
    _assert_exactly_once(got, 300)
    assert reopens >= 1


def test_watch_survives_sigstop_of_its_member(etcd_cluster: EtcdCluster) -> None:
    stopped: list[EtcdServer] = []

    def freeze(member: EtcdServer) -> None:
        member.stop()
        stopped.append(member)

    try:
        got, reopens = _watch_through_fault(etcd_cluster, freeze)
    finally:
        for member in stopped:
            member.cont()
    _assert_exactly_once(got, 300)
    assert reopens >= 1
