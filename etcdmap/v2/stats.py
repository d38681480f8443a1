"""Statistics (``/v2/stats/*``) and ``/v2/machines``; ``/version`` and ``/health``, which
both APIs share, are in :mod:`etcdmap.http.probes` (re-exported here).

The ``parse_*`` functions are pure (JSON or bytes in, models out); :class:`StatsAPI` and the
:func:`version`, :func:`health` and :func:`machines` functions send the requests. The client
exposes them as ``client.stats``, ``client.version()``, ``client.health()`` and
``client.machines()``. Every call takes ``timeout=`` (default: the client's). Everything here
is thread-safe (no state besides the transport).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from etcdmap.errors import (
    EtcdMapError,
    InvalidResponseError,
    NoLeaderEndpointError,
)
from etcdmap.http import probes
from etcdmap.http.budget import Budget
from etcdmap.http.probes import checked, health, parse_health, parse_version
from etcdmap.http.transport import DEFAULT, CallTimeout, Transport
from etcdmap.v2.members import MembersAPI, decode_json
from etcdmap.v2.models import FollowerStats, LeaderStats, SelfStats, StoreStats, Versions
from etcdmap.v2.wire import parse_expiration

__all__ = [
    "StatsAPI",
    "health",
    "machines",
    "parse_health",
    "parse_leader_stats",
    "parse_machines",
    "parse_self_stats",
    "parse_store_stats",
    "parse_version",
    "version",
]

# camelCase JSON field -> StoreStats field
_STORE_FIELDS: Mapping[str, str] = {
    "getsSuccess": "gets_success",
    "getsFail": "gets_fail",
    "setsSuccess": "sets_success",
    "setsFail": "sets_fail",
    "deleteSuccess": "delete_success",
    "deleteFail": "delete_fail",
    "updateSuccess": "update_success",
    "updateFail": "update_fail",
    "createSuccess": "create_success",
    "createFail": "create_fail",
    "compareAndSwapSuccess": "compare_and_swap_success",
    "compareAndSwapFail": "compare_and_swap_fail",
    "compareAndDeleteSuccess": "compare_and_delete_success",
    "compareAndDeleteFail": "compare_and_delete_fail",
    "expireCount": "expire_count",
    "watchers": "watchers",
}


# --------------------------------------------------------------------------- pure parsing


def _obj(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise InvalidResponseError(f"{what}: expected a JSON object, got {value!r}")
    return value


def _str(obj: Mapping[str, object], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _int(obj: Mapping[str, object], key: str) -> int:
    value = obj.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _float(obj: Mapping[str, object], key: str) -> float | None:
    value = obj.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _time(obj: Mapping[str, object], key: str) -> datetime | None:
    value = obj.get(key)
    if not isinstance(value, str):
        return None
    try:
        return parse_expiration(value)
    except ValueError:
        return None


def parse_self_stats(obj: object) -> SelfStats:
    """Build :class:`SelfStats` from ``/v2/stats/self`` JSON.

    :raises InvalidResponseError: not an object with ``id`` and ``state``.
    """
    data = _obj(obj, "stats/self")
    if not isinstance(data.get("id"), str) or not isinstance(data.get("state"), str):
        raise InvalidResponseError(f"stats/self: no id/state in {data!r}")
    leader_info = data.get("leaderInfo")
    info: dict[str, object] = leader_info if isinstance(leader_info, dict) else {}
    return SelfStats(
        name=_str(data, "name"),
        id=_str(data, "id"),
        state=_str(data, "state"),
        start_time=_str(data, "startTime"),
        leader=_str(info, "leader"),
        leader_uptime=_str(info, "uptime"),
        leader_start_time=_time(info, "startTime"),
        recv_append_request_count=_int(data, "recvAppendRequestCnt"),
        send_append_request_count=_int(data, "sendAppendRequestCnt"),
        recv_pkg_rate=_float(data, "recvPkgRate"),
        recv_bandwidth_rate=_float(data, "recvBandwidthRate"),
        send_pkg_rate=_float(data, "sendPkgRate"),
        send_bandwidth_rate=_float(data, "sendBandwidthRate"),
    )


def parse_leader_stats(obj: object) -> LeaderStats:
    """Build :class:`LeaderStats` from ``/v2/stats/leader`` JSON.

    :raises InvalidResponseError: not an object with a ``leader`` id.
    """
    data = _obj(obj, "stats/leader")
    if not isinstance(data.get("leader"), str):
        raise InvalidResponseError(f"stats/leader: no leader in {data!r}")
    followers: dict[str, FollowerStats] = {}
    raw = data.get("followers")
    for fid, fobj in (raw if isinstance(raw, dict) else {}).items():
        follower = _obj(fobj, f"stats/leader follower {fid}")
        lat_raw, counts_raw = follower.get("latency"), follower.get("counts")
        lat: dict[str, object] = lat_raw if isinstance(lat_raw, dict) else {}
        counts: dict[str, object] = counts_raw if isinstance(counts_raw, dict) else {}
        followers[str(fid)] = FollowerStats(
            latency_current=_float(lat, "current") or 0.0,
            latency_average=_float(lat, "average") or 0.0,
            latency_stddev=_float(lat, "standardDeviation") or 0.0,
            latency_min=_float(lat, "minimum") or 0.0,
            latency_max=_float(lat, "maximum") or 0.0,
            fail=_int(counts, "fail"),
            success=_int(counts, "success"),
        )
    return LeaderStats(leader=_str(data, "leader"), followers=followers)


def parse_store_stats(obj: object) -> StoreStats:
    """Build :class:`StoreStats` from ``/v2/stats/store`` JSON (missing counters are 0).

    :raises InvalidResponseError: not an object.
    """
    data = _obj(obj, "stats/store")
    return StoreStats(**{field: _int(data, key) for key, field in _STORE_FIELDS.items()})


def parse_machines(body: bytes) -> list[str]:
    """Parse ``/v2/machines``: client URLs joined with ``", "``."""
    text = body.decode("utf-8", "replace")
    return [url.strip() for url in text.split(",") if url.strip()]


# --------------------------------------------------------------------------- requests


def version(transport: Transport, *, timeout: CallTimeout = DEFAULT) -> Versions:
    """``GET /version`` on any member: see :func:`etcdmap.http.probes.version`."""
    return probes.version(transport, timeout=timeout)


def machines(transport: Transport, *, timeout: CallTimeout = DEFAULT) -> list[str]:
    """``GET /v2/machines``: every member's client URLs, as the member answering sees them.

    :param timeout: the call's deadline (default: the transport's).
    :raises InvalidResponseError: an error answer.
    """
    result = transport.request("GET", "/v2/machines", timeout=timeout)
    return parse_machines(checked(result, "/v2/machines").body)


class StatsAPI:
    """``client.stats``: ``/v2/stats/self``, ``/leader`` and ``/store``. Thread-safe.

    Stats are per member: ``self()`` and ``store()`` describe the member that answers (the
    pinned one unless ``endpoint`` is given).

    :param transport: the client's transport.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _get(self, path: str, endpoint: str | None, timeout: CallTimeout) -> object:
        result = self._transport.request("GET", path, endpoint=endpoint, timeout=timeout)
        return decode_json(checked(result, path))

    def self(self, *, endpoint: str | None = None, timeout: CallTimeout = DEFAULT) -> SelfStats:
        """Raft state of one member.

        :param endpoint: ask this endpoint (default: the pinned one, with failover).
        :param timeout: the call's deadline (default: the client's).
        :raises InvalidResponseError: an error answer or not etcd.
        """
        return parse_self_stats(self._get("/v2/stats/self", endpoint, timeout))

    def store(self, *, endpoint: str | None = None, timeout: CallTimeout = DEFAULT) -> StoreStats:
        """v2 store counters of one member (gets count per member, writes cluster-wide).

        :param endpoint: ask this endpoint (default: the pinned one, with failover).
        :param timeout: the call's deadline (default: the client's).
        :raises InvalidResponseError: an error answer or not etcd.
        """
        return parse_store_stats(self._get("/v2/stats/store", endpoint, timeout))

    def leader(self, *, timeout: CallTimeout = DEFAULT) -> LeaderStats:
        """Follower latencies and counts, as the leader sees them.

        Only the leader serves this (others answer 403 "not current leader"), so when the
        member asked is a follower, the leader is looked up and asked directly.

        :param timeout: the whole call's deadline (default: the client's).
        :raises NoLeaderEndpointError: the leader could not be found or did not answer.
        """
        budget = Budget(timeout, self._transport.timeout)
        result = self._transport.request("GET", "/v2/stats/leader", timeout=budget.left())
        if result.status == 403:
            try:
                leader = MembersAPI(self._transport).leader(timeout=budget.left())
            except EtcdMapError as exc:
                raise NoLeaderEndpointError(
                    f"stats/leader is served by the leader only ({result.endpoint} is a "
                    f"follower) and the leader could not be found: {exc}"
                ) from exc
            if not leader.client_urls:
                raise NoLeaderEndpointError(
                    f"stats/leader is served by the leader only; leader {leader.id} "
                    "publishes no client URL"
                )
            try:
                result = self._transport.request(
                    "GET", "/v2/stats/leader", endpoint=leader.client_urls[0],
                    timeout=budget.left(),
                )
            except EtcdMapError as exc:
                raise NoLeaderEndpointError(
                    f"stats/leader: the leader {leader.client_urls[0]} did not answer: {exc}"
                ) from exc
            if result.status == 403:
                raise NoLeaderEndpointError(
                    "stats/leader: leadership moved while asking; try again"
                )
        return parse_leader_stats(decode_json(checked(result, "/v2/stats/leader")))
