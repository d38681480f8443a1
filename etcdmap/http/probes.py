"""``/version`` and ``/health``: endpoints of every etcd member whatever API it serves (they
are not v2 APIs; both clients offer them as ``version()`` and ``health()``).

The ``parse_*`` functions are pure; :func:`version` and :func:`health` send the requests
through a client's transport. Everything here is thread-safe.
"""

from __future__ import annotations

import json

from etcdmap.errors import ClusterError, EtcdMapError, InvalidResponseError
from etcdmap.http.answers import HTTPResult, ServerError
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.http.transport import Transport
from etcdmap.models import Health, Versions

__all__ = [
    "checked",
    "error_message",
    "health",
    "parse_health",
    "parse_version",
    "snippet",
    "version",
]


def snippet(body: bytes, limit: int = 120) -> str:
    """The start of a body as text, for error messages."""
    text = body.decode("utf-8", "replace").strip()
    return text if len(text) <= limit else text[:limit] + "..."


def error_message(body: bytes) -> str:
    """The ``message`` of an error body ``{"message": ...}``, or the text of any other body."""
    try:
        obj = json.loads(body)
    except ValueError:
        return snippet(body)
    if isinstance(obj, dict) and isinstance(obj.get("message"), str):
        return str(obj["message"])
    return snippet(body)


def _text(obj: dict[str, object], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


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
    return Versions(server=data["etcdserver"], cluster=_text(data, "etcdcluster"))


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
        reason = _text(data, "reason")
        if not healthy and not reason:
            reason = f"member reported unhealthy (HTTP {status})"
        return Health(healthy=healthy, reason="" if healthy else reason, endpoint=endpoint)
    if status == 200:
        raise InvalidResponseError(
            f"/health answered {error_message(body)!r}: probably not an etcd server", endpoint
        )
    return Health(False, f"HTTP {status}: {error_message(body)}", endpoint)


def checked(result: HTTPResult, what: str) -> HTTPResult:
    """``result`` when it is a 200.

    :raises InvalidResponseError: any other status (with the body's message).
    """
    if result.status != 200:
        raise InvalidResponseError(
            f"{what} answered HTTP {result.status}: {error_message(result.body)}",
            result.endpoint,
        )
    return result


def version(transport: Transport, *, timeout: CallTimeout = DEFAULT) -> Versions:
    """``GET /version`` on any member (with failover).

    :param timeout: the call's deadline (default: the transport's).
    :raises InvalidResponseError: not an etcd answer.
    """
    result = checked(transport.request("GET", "/version", timeout=timeout), "/version")
    return parse_version(result.body)


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
    :returns: the :class:`~etcdmap.models.Health`.
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
