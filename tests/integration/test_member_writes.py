"""Member writes on real 3-member clusters with etcd's strict reconfiguration check on (the
default): several peer URLs per member, and the 500 answers of a refused change.

etcd answers ``500 {"message":"Internal Server Error"}`` when the check refuses a change: for
5 s after a member (re)connects, or while a member is down. Such a refusal did not apply:
etcdmap raises :class:`MemberChangeRefused` saying so, never "it may have applied".
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from etcdmap.errors import AmbiguousResultError, MemberChangeRefused, MemberError
from etcdmap.testing import EtcdCluster
from etcdmap.v2.client import Client
from etcdmap.v2.member_refusal import new_member_id

CLI = Callable[..., Any]  # the run_cli fixture of tests/integration/conftest.py

pytestmark = pytest.mark.cluster

REFUSED = "etcd refused to add a member with peer URLs"


@pytest.fixture
def client(etcd_cluster: EtcdCluster) -> Iterator[Client]:
    with Client(etcd_cluster.client_urls, timeout=10) as c:
        yield c


def _free_peer_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _add_when_allowed(client: Client, urls: list[str], timeout: float = 20.0) -> tuple[str, int]:
    """Add a member, retrying refusals as the message advises; (id, refusals seen)."""
    deadline = time.monotonic() + timeout
    refused = 0
    while True:
        try:
            return client.members.add(urls).id, refused
        except MemberChangeRefused:
            refused += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)  # a real cluster's 5 s health window, not a unit test


def test_refused_right_after_start_then_retry_works() -> None:
    with EtcdCluster(3) as cluster, Client(cluster.client_urls, timeout=10) as client:
        url = _free_peer_url()
        with pytest.raises(MemberChangeRefused) as info:
            client.members.add(url)  # every member connected less than 5 s ago
        err = info.value
        assert isinstance(err, MemberError) and not isinstance(err, AmbiguousResultError)
        assert err.maybe_applied is False and err.status == 500
        assert err.endpoint in cluster.client_urls
        text = str(err)
        assert text.startswith(f"{REFUSED} {url}: ") and "strict reconfiguration" in text
        assert "retry in a few seconds" in text and "not applied" in text
        assert isinstance(err.__cause__, AmbiguousResultError)  # what the transport saw
        assert err.__cause__.status == 500 and b"Internal Server Error" in err.__cause__.body
        assert all(url not in m.peer_urls for m in client.members.list())  # honest: not applied
        member_id, _ = _add_when_allowed(client, [url])  # "retry in a few seconds" works
        assert any(m.id == member_id and m.peer_urls == (url,) for m in client.members.list())
        client.members.remove(member_id)


def test_add_with_several_peer_urls(client: Client) -> None:
    urls = [_free_peer_url(), _free_peer_url()]
    member_id, _ = _add_when_allowed(client, urls)
    try:
        added = next(m for m in client.members.list() if m.id == member_id)
        assert sorted(added.peer_urls) == sorted(urls) and added.name == ""
        with pytest.raises(ValueError, match="scheme"):
            client.members.add([_free_peer_url(), "10.0.0.9:2380"])  # checked before sending
        with pytest.raises(ValueError, match="at least one peer URL"):
            client.members.add([])
    finally:
        client.members.remove(member_id)
    assert all(m.id != member_id for m in client.members.list())


@pytest.mark.usefixtures("v2_command_set")  # etcdctl v2's member add
def test_cli_member_add_several_peer_urls(run_cli: CLI, etcd_cluster: EtcdCluster) -> None:
    url = ",".join(etcd_cluster.client_urls)
    peers = [_free_peer_url(), _free_peer_url()]
    deadline = time.monotonic() + 20
    while True:
        r = run_cli(url, "member", "add", "two", ",".join(peers))
        if r.code == 0 or REFUSED not in r.err or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert r.code == 0, r.err
    member_id = r.out.split(" with ID ")[1].split()[0]
    try:
        assert f"two={peers[0]}" in r.out and f"two={peers[1]}" in r.out
        listed = run_cli(url, "member", "list").out
        assert f"{member_id}[unstarted]: peerURLs=" in listed
        assert all(p in listed for p in peers)
    finally:
        assert run_cli(url, "member", "remove", member_id).code == 0


@pytest.mark.usefixtures("v2_command_set")  # etcdctl v2's member add
def test_refused_while_a_member_is_down(
    client: Client, run_cli: CLI, etcd_cluster: EtcdCluster
) -> None:
    victim = etcd_cluster.followers()[0]
    victim.kill()  # not connected: etcd refuses every membership change (ErrUnhealthy)
    url = _free_peer_url()
    before = client.members.list()
    with pytest.raises(MemberChangeRefused, match="retry in a few seconds") as info:
        client.members.add(url)
    assert info.value.maybe_applied is False
    assert client.members.list() == before
    pinned = client.transport.pinned  # a live member (the client failed over from the victim)
    live = next(m for m in before if not {victim.client_url, pinned} & set(m.client_urls))
    with pytest.raises(MemberChangeRefused, match=f"etcd refused to remove member {live.id}"):
        client.members.remove(live.id)  # would leave one started member of two: no quorum
    assert client.members.list() == before
    endpoints = ",".join(etcd_cluster.client_urls)
    r = run_cli(endpoints, "member", "add", "late", url)
    assert r.code != 0 and r.out == ""
    assert r.err.startswith(f"Error:  {REFUSED} {url}: ")
    assert "not applied" in r.err and "retry in a few seconds" in r.err
    assert "may or may not" not in r.err


def test_an_add_that_reuses_a_removed_members_id_says_so(client: Client) -> None:
    """Peer URLs added, removed and added again within one second get the removed member's ID
    (etcd derives it from the URLs and the second), which etcd refuses for good."""
    url = _free_peer_url()
    for _ in range(5):  # the three writes must fall within one second of the server's clock
        while time.time() % 1 > 0.3:
            time.sleep(0.05)  # wait for the start of a second
        first, _ = _add_when_allowed(client, [url])
        client.members.remove(first)
        try:
            again = client.members.add(url)
        except MemberChangeRefused as exc:
            message, refused = str(exc), exc
            break
        client.members.remove(again.id)  # the second ticked over in between: once more
    else:
        pytest.fail("no add fell in the second of the one before")
    assert message.startswith(f"{REFUSED} {url}: "), message
    assert '"membership: ID removed"' in message and f"as member {first}," in message
    assert "strict reconfiguration" not in message
    assert refused.maybe_applied is False
    assert all(url not in m.peer_urls for m in client.members.list())
    assert any(new_member_id([url], second) == int(first, 16)  # etcd's ID, ours recomputed
               for second in range(int(time.time()) - 5, int(time.time()) + 1))
