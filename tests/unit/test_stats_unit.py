"""Pure parsing of /v2/stats/*, /version, /health (3.4 and 3.5 bodies) and /v2/machines."""

from __future__ import annotations

import pytest

from etcdmap.errors import InvalidResponseError
from etcdmap.v2.models import FollowerStats, Health, StoreStats, Versions
from etcdmap.v2.stats import (
    parse_health,
    parse_leader_stats,
    parse_machines,
    parse_self_stats,
    parse_store_stats,
    parse_version,
)

SELF_LEADER = {
    "name": "infra1",
    "id": "bdae9bbc11dd390d",
    "state": "StateLeader",
    "startTime": "2026-11-24T08:20:24.932483442Z",
    "leaderInfo": {
        "leader": "bdae9bbc11dd390d",
        "uptime": "4m5.274956287s",
        "startTime": "2026-11-24T08:20:25.333353971Z",
    },
    "recvAppendRequestCnt": 0,
    "sendAppendRequestCnt": 17,
    "sendPkgRate": 2.5,
    "sendBandwidthRate": 120.75,
}


def test_self_stats_of_a_leader() -> None:
    s = parse_self_stats(SELF_LEADER)
    assert (s.name, s.id, s.state) == ("infra1", "bdae9bbc11dd390d", "StateLeader")
    assert s.leader == "bdae9bbc11dd390d" and s.leader_uptime == "4m5.274956287s"
    assert s.start_time.startswith("2026-11-24T08:20:24")
    assert s.send_append_request_count == 17 and s.recv_append_request_count == 0
    assert s.send_pkg_rate == 2.5 and s.send_bandwidth_rate == 120.75
    # omitempty: a leader sends no recv rates
    assert s.recv_pkg_rate is None and s.recv_bandwidth_rate is None


def test_self_stats_rejects_garbage() -> None:
    with pytest.raises(InvalidResponseError):
        parse_self_stats({"name": "x"})
    with pytest.raises(InvalidResponseError):
        parse_self_stats([])


def test_leader_stats_with_followers() -> None:
    body = {
        "leader": "a",
        "followers": {
            "b": {
                "latency": {
                    "current": 0.5,
                    "average": 1.25,
                    "standardDeviation": 0.1,
                    "minimum": 0.2,
                    "maximum": 3,
                },
                "counts": {"fail": 1, "success": 99},
            }
        },
    }
    stats = parse_leader_stats(body)
    assert stats.leader == "a"
    assert stats.followers == {"b": FollowerStats(0.5, 1.25, 0.1, 0.2, 3.0, 1, 99)}
    assert parse_leader_stats({"leader": "a", "followers": {}}).followers == {}
    with pytest.raises(InvalidResponseError):
        parse_leader_stats({"message": "not current leader"})


def test_store_stats_maps_every_counter() -> None:
    keys = [
        "getsSuccess", "getsFail", "setsSuccess", "setsFail", "deleteSuccess", "deleteFail",
        "updateSuccess", "updateFail", "createSuccess", "createFail", "compareAndSwapSuccess",
        "compareAndSwapFail", "compareAndDeleteSuccess", "compareAndDeleteFail", "expireCount",
        "watchers",
    ]  # fmt: skip
    stats = parse_store_stats({k: i + 1 for i, k in enumerate(keys)})
    assert stats == StoreStats(*range(1, 17))
    assert parse_store_stats({}) == StoreStats()


def test_version_json_and_legacy_text() -> None:
    assert parse_version(b'{"etcdserver":"3.5.1","etcdcluster":"3.5.0"}') == Versions(
        "3.5.1", "3.5.0"
    )
    assert parse_version(b'{"etcdserver":"3.4.23","etcdcluster":"not_decided"}').cluster == (
        "not_decided"
    )
    assert parse_version(b"etcd 2.0.12") == Versions("2.0.12", "")
    for bad in (b"<html>", b"", b'{"x": 1}'):
        with pytest.raises(InvalidResponseError):
            parse_version(bad)


@pytest.mark.parametrize(
    ("status", "body", "healthy", "reason"),
    [
        (200, b'{"health":"true","reason":""}', True, ""),  # 3.5
        (200, b'{"health":"true"}', True, ""),  # 3.4
        (503, b'{"health":"false","reason":"RAFT NO LEADER"}\n', False, "RAFT NO LEADER"),
        (503, b'{"health":"false"}\n', False, "member reported unhealthy (HTTP 503)"),  # 3.4
        (200, b'{"health":"false","reason":"ALARM NOSPACE"}', False, "ALARM NOSPACE"),
        (503, b"Service Unavailable", False, "HTTP 503: Service Unavailable"),
    ],
)
def test_health_bodies(status: int, body: bytes, healthy: bool, reason: str) -> None:
    h = parse_health(status, body, "http://e:1")
    assert h == Health(healthy, reason, "http://e:1")
    assert bool(h) is healthy


def test_health_200_that_is_not_etcd() -> None:
    with pytest.raises(InvalidResponseError):
        parse_health(200, b"<html>ok</html>")


def test_machines() -> None:
    assert parse_machines(b"http://127.0.0.1:2379, http://10.0.0.2:2379") == [
        "http://127.0.0.1:2379",
        "http://10.0.0.2:2379",
    ]
    assert parse_machines(b"") == []
