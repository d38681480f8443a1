"""Statistics (``/v2/stats/*``), ``/version``, ``/health`` and ``/v2/machines``.

The ``parse_*`` functions are pure (JSON or bytes in, models out); :class:`StatsAPI` and the
:func:`version`, :func:`health` and :func:`machines` functions send the requests. The client
exposes them as ``client.stats``, ``client.version()``, ``client.health()`` and
``client.machines()``. Everything here is thread-safe (no state besides the transport).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from etcdmap.errors import (
    ClusterError,
    EtcdMapError,
    InvalidResponseError,
    NoLeaderEndpointError,
)
from etcdmap.http.transport import DEFAULT, CallTimeout, HTTPResult, ServerError, Transport
from etcdmap.v2.members import MembersAPI, decode_json, error_message
from etcdmap.v2.models import FollowerStats, Health, LeaderStats, SelfStats, StoreStats, Versions
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


def parse_version(body: bytes) -> Versions:
    """Parse ``/version``: ``{"etcdserver": "3.5.1", "etcdcluster": "3.5.0"}``.

    etcd 2.0 answered plain text ``etcd 2.0.12``; that gives ``Versions("2.0.12", "")``.

    :raises InvalidResponseError: anything else.
    """
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("etcd ") and "{" not in text:
        return Versions(server=text.removeprefix("etcd ").strip(), cluster="")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidResponseError(
            f"/version answered {text[:120]!r}: probably not an etcd server"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("etcdserver"), str):
        raise InvalidResponseError(f"/version answered {text[:120]!r}: probably not etcd")
    return Versions(server=data["etcdserver"], cluster=_str(data, "etcdcluster"))


def parse_health(status: int, body: bytes, endpoint: str = "") -> Health:
    """Parse a ``/health`` answer (200 or 503) of etcd 3.4 or 3.5.

    3.5 sends ``{"health": "true", "reason": ""}``; 3.4 ``{"health": "true"}`` and no reason.
    An unhealthy member answers 503 with the same JSON as ``text/plain``.

    :param status: the HTTP status.
    :param body: the body.
    :param endpoint: the endpoint that answered, copied into the result.
    :returns: the health; a 503 is unhealthy even if the body is unreadable.
    :raises InvalidResponseError: a 200 whose body is not etcd's health JSON.
    """
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("health"), str | bool):
        flag = data["health"]
        healthy = (flag is True or flag == "true") and status == 200
        reason = _str(data, "reason")
        if not healthy and not reason:
            reason = f"member reported unhealthy (HTTP {status})"
        return Health(healthy=healthy, reason="" if healthy else reason, endpoint=endpoint)
    if status == 200:
        raise InvalidResponseError(
            f"/health answered {error_message(body)!r}: probably not an etcd server", endpoint
        )
    return Health(False, f"HTTP {status}: {error_message(body)}", endpoint)


def parse_machines(body: bytes) -> list[str]:
    """Parse ``/v2/machines``: client URLs joined with ``", "``."""
    text = body.decode("utf-8", "replace")
    return [url.strip() for url in text.split(",") if url.strip()]


# --------------------------------------------------------------------------- requests


def _ok(result: HTTPResult, what: str) -> HTTPResult:
    if result.status != 200:
        raise InvalidResponseError(
            f"{what} answered HTTP {result.status}: {error_message(result.body)}",
            result.endpoint,
        )
    return result


def version(transport: Transport) -> Versions:
    """``GET /version`` on any member (with failover).

    :raises InvalidResponseError: not an etcd answer.
    """
    result = _ok(transport.request("GET", "/version"), "/version")
    return parse_version(result.body)


def machines(transport: Transport) -> list[str]:
    """``GET /v2/machines``: every member's client URLs, as the member answering sees them.

    :raises InvalidResponseError: an error answer.
    """
    return parse_machines(_ok(transport.request("GET", "/v2/machines"), "/v2/machines").body)


def health(
    transport: Transport,
    *,
    endpoint: str | None = None,
    serializable: bool = False,
    timeout: CallTimeout = DEFAULT,
) -> Health:
    """``GET /health``: the cluster's health as one member sees it.

    The pinned endpoint is asked first, then the others in turn until one *answers*: an
    answer of 503 (no leader, alarm, quorum read failed) is the result, unhealthy, and is not
    a reason to ask another member. Only when no member answers at all is the result
    unhealthy with the connection errors as the reason; this never raises for an unhealthy
    or unreachable cluster.

    :param endpoint: ask exactly this endpoint.
    :param serializable: let the member answer without checking with the leader.
    :param timeout: per endpoint (default: the client's ``timeout``).
    :returns: the :class:`~etcdmap.v2.models.Health`.
    :raises InvalidResponseError: a member answered 200 with something that is not etcd's.
    """
    params = [("serializable", "true")] if serializable else None
    if endpoint is not None:
        candidates = [endpoint]
    else:
        pinned = transport.pinned
        candidates = [pinned, *(ep for ep in transport.endpoints if ep != pinned)]
    failures: list[str] = []
    for ep in candidates:
        try:
            result = transport.request(
                "GET", "/health", params=params, endpoint=ep, timeout=timeout
            )
        except ClusterError as exc:
            answered = _answer_in(exc)
            if answered is not None:
                return parse_health(answered[0], answered[1], ep)
            failures.append(f"{ep}: {exc}")
            continue
        except (EtcdMapError, OSError) as exc:
            failures.append(f"{ep}: {exc}")
            continue
        return parse_health(result.status, result.body, result.endpoint or ep)
    return Health(False, "no endpoint answered: " + "; ".join(failures), "")


def _answer_in(exc: ClusterError) -> tuple[int, bytes] | None:
    """The 5xx answer the transport failed over from, if there was one."""
    for _, err in exc.errors:
        if isinstance(err, ServerError):
            return err.status, err.body
    return None


class StatsAPI:
    """``client.stats``: ``/v2/stats/self``, ``/leader`` and ``/store``. Thread-safe.

    Stats are per member: ``self()`` and ``store()`` describe the member that answers (the
    pinned one unless ``endpoint`` is given).

    :param transport: the client's transport.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _get(self, path: str, endpoint: str | None) -> object:
        result = self._transport.request("GET", path, endpoint=endpoint)
        return decode_json(_ok(result, path))

    def self(self, *, endpoint: str | None = None) -> SelfStats:
        """Raft state of one member.

        :param endpoint: ask this endpoint (default: the pinned one, with failover).
        :raises InvalidResponseError: an error answer or not etcd.
        """
        return parse_self_stats(self._get("/v2/stats/self", endpoint))

    def store(self, *, endpoint: str | None = None) -> StoreStats:
        """v2 store counters of one member (gets count per member, writes cluster-wide).

        :param endpoint: ask this endpoint (default: the pinned one, with failover).
        :raises InvalidResponseError: an error answer or not etcd.
        """
        return parse_store_stats(self._get("/v2/stats/store", endpoint))

    def leader(self) -> LeaderStats:
        """Follower latencies and counts, as the leader sees them.

        Only the leader serves this (others answer 403 "not current leader"), so when the
        member asked is a follower, the leader is looked up and asked directly.

        :raises NoLeaderEndpointError: the leader could not be found or did not answer.
        """
        result = self._transport.request("GET", "/v2/stats/leader")
        if result.status == 403:
            try:
                leader = MembersAPI(self._transport).leader()
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
                    "GET", "/v2/stats/leader", endpoint=leader.client_urls[0]
                )
            except EtcdMapError as exc:
                raise NoLeaderEndpointError(
                    f"stats/leader: the leader {leader.client_urls[0]} did not answer: {exc}"
                ) from exc
            if result.status == 403:
                raise NoLeaderEndpointError(
                    "stats/leader: leadership moved while asking; try again"
                )
        return parse_leader_stats(decode_json(_ok(result, "/v2/stats/leader")))
