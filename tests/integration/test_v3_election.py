"""client.election() on etcd's election service (real etcd 3.5): campaign, proclaim, leader,
resign, the next candidate taking over, observers, a campaign timeout that leaves nothing,
a leader that loses its lease."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from etcdmap import signals
from etcdmap.errors import DeadlineExceeded, LeadershipLost, LockLost, LockTimeout
from etcdmap.v3 import Client, Election


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url) as c:
        yield c


def _candidates(v3: Client, name: str) -> list[str]:
    return [kv.key_text for kv in v3.kv.range(name + "/", prefix=True).kvs]


def test_campaign_proclaim_resign(v3: Client, etcd_prefix: str) -> None:
    e = v3.election(etcd_prefix, ttl=10)
    assert e.leader() is None and not e.is_leader
    assert e.campaign("node-1") is e
    assert e.is_leader and e.leader() == b"node-1"
    assert e.key == f"{etcd_prefix}/{e.lease:x}" and _candidates(v3, etcd_prefix) == [e.key]
    assert v3.kv.range(e.key).kvs[0].create_revision == e.revision
    e.proclaim("node-1 (draining)")
    assert e.leader() == b"node-1 (draining)"
    lease = e.lease
    e.resign()
    assert not e.is_leader and e.key is None and e.leader() is None
    assert v3.lease.time_to_live(lease).ttl == -1
    e.resign()  # not leading: nothing to do


def test_the_next_candidate_leads_after_a_resign_and_observers_see_it(
        v3: Client, etcd_prefix: str) -> None:
    first = v3.election(etcd_prefix, ttl=10).campaign("a")
    seen: list[bytes] = []
    observer = first.observe(read_timeout=5)
    got_three = threading.Event()

    def watch() -> None:
        for value in observer:
            seen.append(value)
            if len(seen) == 3:
                got_three.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    second = v3.election(etcd_prefix, ttl=10)
    campaigning = threading.Thread(target=second.campaign, args=("b",), daemon=True)
    campaigning.start()
    campaigning.join(0.5)
    assert campaigning.is_alive()  # waits while "a" leads
    assert len(_candidates(v3, etcd_prefix)) == 2
    first.proclaim("a2")
    first.resign()
    campaigning.join(10)
    assert not campaigning.is_alive() and second.is_leader
    assert got_three.wait(10), seen
    assert seen == [b"a", b"a2", b"b"]
    observer.close()
    reader.join(5)
    assert not reader.is_alive()  # close() ends the iteration
    with second:
        assert second.leader() == b"b"
    assert second.leader() is None  # leaving the with resigned


def test_a_campaign_timeout_withdraws_the_candidacy(v3: Client, etcd_prefix: str) -> None:
    with v3.election(etcd_prefix, ttl=10).campaign("leader") as leading:
        leases = set(v3.lease.leases())
        with pytest.raises(LockTimeout, match="was not won within 0.5 s") as info:
            v3.election(etcd_prefix, ttl=10).campaign("hopeful", timeout=0.5)
        assert isinstance(info.value, DeadlineExceeded)
        assert _candidates(v3, etcd_prefix) == [leading.key]
        assert set(v3.lease.leases()) - leases == set()
        assert leading.leader() == b"leader"


def test_a_leader_that_loses_its_lease_learns_it(v3: Client, etcd_prefix: str) -> None:
    e = v3.election(etcd_prefix, ttl=3).campaign("me")
    fired = threading.Event()
    errors: list[object] = []

    def on_lost(sender: object, **payload: object) -> None:
        errors.append(payload["error"])
        fired.set()

    signals.lock_lost.connect(on_lost, sender=e, weak=False)
    try:
        v3.lease.revoke(e.lease)
        assert fired.wait(5)
    finally:
        signals.lock_lost.disconnect(on_lost, sender=e)
    assert e.lost and not e.is_leader and isinstance(e.error, LeadershipLost)
    assert errors == [e.error] and isinstance(e.error, LockLost)
    with pytest.raises(LeadershipLost):
        e.proclaim("still me?")
    with pytest.raises(LeadershipLost):
        e.resign()
    assert e.lost and e.leader() is None  # the loss stays readable after the resign
    with e.campaign("again"):  # a new campaign starts afresh
        assert not e.lost and e.is_leader and e.leader() == b"again"


def test_proclaim_after_the_key_went_is_leadership_lost(v3: Client, etcd_prefix: str) -> None:
    e = v3.election(etcd_prefix, ttl=10).campaign("me")
    v3.kv.delete(e.key or "")
    with pytest.raises(LeadershipLost, match="its key went while leading"):
        e.proclaim("again")
    with pytest.raises(LeadershipLost):
        e.resign()


def test_observe_waits_for_a_first_leader(v3: Client, etcd_prefix: str) -> None:
    with v3.election(etcd_prefix).observe(read_timeout=0.5) as observer:
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(next(observer)), daemon=True)
        reader.start()
        reader.join(1.2)  # silent past two read timeouts: reopened, nothing invented
        assert reader.is_alive() and got == []
        with v3.election(etcd_prefix, ttl=10).campaign("first"):
            reader.join(5)
            assert got == [b"first"]


def test_bad_input(v3: Client, etcd_prefix: str) -> None:
    with pytest.raises(ValueError, match="the election name must not be empty"):
        v3.election("")
    with pytest.raises(ValueError, match="ttl must be 1 to"):
        v3.election("x", ttl=-1)
    e: Election = v3.election(etcd_prefix, ttl=10)
    with pytest.raises(TypeError, match="value must be str or bytes"):
        e.campaign(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout must be positive"):
        e.campaign("x", timeout=0)
    with pytest.raises(RuntimeError, match="does not lead"):
        e.proclaim("x")
    with pytest.raises(ValueError, match="read_timeout must be a positive"):
        e.observe(read_timeout=0)
    with e.campaign("x"), pytest.raises(RuntimeError, match="already leads"):
        e.campaign("y")
