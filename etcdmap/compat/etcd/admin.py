"""The cluster half of python-etcd's :class:`~etcdmap.compat.etcd.client.Client`: machines,
members, leader, stats, versions, and ``api_execute`` (python-etcd's raw request, here
through etcdmap's transport: failover, deadline, auth, quoting).

Thread-safety: thread-safe, as etcdmap's transport is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from etcdmap.compat.etcd.errors import EtcdError, EtcdException, reraise

__all__ = ["Admin", "Answer"]


class Answer:
    """A raw answer of :meth:`Admin.api_execute` (what python-etcd's urllib3 response offered).

    :ivar status: the HTTP status; ``data``: the body (bytes).
    """

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self.status = status
        self.data = data
        self._headers = {k.lower(): v for k, v in headers.items()}

    def getheader(self, name: str, default: str | None = None) -> str | None:
        """One header (case-insensitive)."""
        return self._headers.get(name.lower(), default)

    def getheaders(self) -> dict[str, str]:
        """Every header, lower-cased names."""
        return dict(self._headers)


class Admin:
    """Machines, members, stats and raw requests; mixed into the client, which sets ``_client``."""

    _client: Any
    version_prefix: str
    _version: str | None
    _cluster_version: str | None

    def _timeout(self, timeout: float | None) -> float | None:
        raise NotImplementedError

    def _raw(self, path: str, method: str, params: Mapping[str, Any] | None,
             timeout: float | None, body: Any = None) -> Answer:
        items = [(k, ("true" if v else "false") if isinstance(v, bool) else str(v))
                 for k, v in (params or {}).items() if v is not None]
        form = dict(items) if method in ("PUT", "POST") and body is None else None
        query = items if form is None and body is None else None
        try:
            res = self._client.transport.request(
                method, quote(path, safe="/%"), params=query, form=form, json=body,
                idempotent=method == "GET", timeout=self._timeout(timeout))
        except Exception as exc:
            reraise(exc)
        if res.status not in (200, 201):
            try:
                payload = json.loads(res.body.decode("utf-8"))
            except (ValueError, UnicodeError):
                payload = None
            if not isinstance(payload, dict):
                payload = {"message": "Bad response", "cause": res.body.decode("utf-8", "replace")}
            payload["status"] = res.status
            EtcdError.handle(payload)
        return Answer(res.status, res.headers, res.body)

    def api_execute(self, path: str, method: str, params: Mapping[str, Any] | None = None,
                    timeout: float | None = None) -> Answer:
        """Send one request to ``path`` (e.g. ``/v2/stats/self``) as python-etcd did.

        :raises EtcdException: an error answer (the class of its ``errorCode``).
        :raises EtcdConnectionFailed: no member answered.
        """
        if not path.startswith("/"):
            raise ValueError("Path does not start with /")
        return self._raw(path, method, params, timeout)

    def api_execute_json(self, path: str, method: str, params: Any = None,
                         timeout: float | None = None) -> Answer:
        """:meth:`api_execute` with a JSON body."""
        return self._raw(path, method, None, timeout, body=params if params is not None else {})

    def _json(self, path: str) -> Any:
        try:
            return json.loads(self.api_execute(path, "GET").data.decode("utf-8"))
        except (TypeError, ValueError, UnicodeError) as exc:
            raise EtcdException("Cannot parse json data in the response") from exc

    @property
    def machines(self) -> list[str]:
        """Every member's client URLs (``/v2/machines``).

        :raises EtcdException: no member answered.
        """
        try:
            machines: list[str] = self._client.machines()
        except Exception as exc:
            raise EtcdException("Could not get the list of servers, maybe you provided the "
                                "wrong host(s) to connect to?") from exc
        return machines

    @property
    def members(self) -> dict[str, dict[str, Any]]:
        """The members by ID: ``{"id", "name", "peerURLs", "clientURLs"}``.

        :raises EtcdException: the list could not be read.
        """
        try:
            return {m.id: {"id": m.id, "name": m.name, "peerURLs": list(m.peer_urls),
                           "clientURLs": list(m.client_urls)}
                    for m in self._client.members.list()}
        except Exception as exc:
            raise EtcdException("Could not get the members list, maybe the cluster has gone "
                                "away?") from exc

    @property
    def leader(self) -> dict[str, Any]:
        """The leader's member object.

        :raises EtcdException: it could not be found.
        """
        try:
            leader = self._json(self.version_prefix + "/stats/self")["leaderInfo"]["leader"]
            return self.members[leader]
        except Exception as exc:
            raise EtcdException(f"Cannot get leader data: {exc}") from exc

    @property
    def stats(self) -> dict[str, Any]:
        """This member's ``/v2/stats/self``, as etcd sent it."""
        return dict(self._json(self.version_prefix + "/stats/self"))

    @property
    def leader_stats(self) -> dict[str, Any]:
        """The leader's ``/v2/stats/leader``, as etcd sent it."""
        return dict(self._json(self.version_prefix + "/stats/leader"))

    @property
    def store_stats(self) -> dict[str, Any]:
        """``/v2/stats/store``, as etcd sent it."""
        return dict(self._json(self.version_prefix + "/stats/store"))

    def _set_version_info(self) -> None:
        versions = self._client.version()
        self._version, self._cluster_version = versions.server, versions.cluster

    @property
    def version(self) -> str | None:
        """The server's version (read once)."""
        if not self._version:
            self._set_version_info()
        return self._version

    @property
    def cluster_version(self) -> str | None:
        """The cluster's version (read once)."""
        if not self._cluster_version:
            self._set_version_info()
        return self._cluster_version
