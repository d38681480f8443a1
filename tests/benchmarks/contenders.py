"""The three contenders behind one small interface: etcdmap, python-etcd and raw http.client.

Each contender does the same work per operation: send the request over a kept-alive
connection, read the whole answer, parse the JSON and return the value the caller asked for
(or check the write succeeded). python-etcd is optional: without it, its rows are skipped.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

__all__ = [
    "KV", "EtcdMapKV", "EtcdmapKV", "EtcdmapStockKV", "HttpClientKV", "PythonEtcdKV", "make_contenders",
]


class KV:
    """What a key/value workload needs from a contender."""

    name = "?"

    def get(self, key: str) -> str | None:
        raise NotImplementedError

    def put(self, key: str, value: str) -> None:
        raise NotImplementedError

    def cas(self, key: str, new: str, prev: str) -> None:
        """Compare-and-swap on the value; raises if the swap did not happen."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def create(self, key: str, value: str) -> None:
        """Create a key that must not exist (``prevExist=false``)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


class HttpClientKV(KV):
    """Raw :mod:`http.client`: one kept-alive connection per thread, no library on top.

    This is the floor for a Python client: build the URL, send, read, ``json.loads``.
    http.client connections are not thread-safe, so each thread gets its own.
    """

    name = "http.client"

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 2379
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _conn(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=10)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        """Send one request and return ``(status, body)``; reconnects once on a dropped socket."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn = self._conn()
        try:
            conn.request(method, path, body, headers)
            resp = conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            conn.close()
            conn.request(method, path, body, headers)
            resp = conn.getresponse()
        return resp.status, resp.read()

    def _call(self, method: str, key: str, form: dict[str, str] | None = None) -> Any:
        body_text = urlencode(form) if form else None
        status, body = self.request(method, "/v2/keys" + quote(key), body_text)
        doc = json.loads(body)
        if status >= 400:
            raise RuntimeError(f"{method} {key}: {status} {doc}")
        return doc

    def get(self, key: str) -> str | None:
        value: str | None = self._call("GET", key)["node"].get("value")
        return value

    def put(self, key: str, value: str) -> None:
        self._call("PUT", key, {"value": value})

    def cas(self, key: str, new: str, prev: str) -> None:
        self._call("PUT", key, {"value": new, "prevValue": prev})

    def delete(self, key: str) -> None:
        self._call("DELETE", key)

    def create(self, key: str, value: str) -> None:
        self._call("PUT", key, {"value": value, "prevExist": "false"})

    def get_json(self, path: str) -> Any:
        """GET ``path`` and return the parsed JSON body."""
        return json.loads(self.request("GET", path)[1])

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


class PythonEtcdKV(KV):
    """python-etcd 0.4.5 (``etcd.Client``): urllib3 pool shared by every thread."""

    name = "python-etcd"

    def __init__(self, url: str) -> None:
        import etcd  # noqa: PLC0415 (optional: the bench extra)

        parts = urlsplit(url)
        self.etcd = etcd
        self.client = etcd.Client(
            host=parts.hostname, port=parts.port, protocol="http", allow_reconnect=False
        )

    def get(self, key: str) -> str | None:
        value: str | None = self.client.read(key).value
        return value

    def put(self, key: str, value: str) -> None:
        self.client.write(key, value)

    def cas(self, key: str, new: str, prev: str) -> None:
        self.client.write(key, new, prevValue=prev)

    def delete(self, key: str) -> None:
        self.client.delete(key)

    def create(self, key: str, value: str) -> None:
        self.client.write(key, value, prevExist=False)

    def close(self) -> None:
        self.client.http.clear()


class EtcdmapKV(KV):
    """etcdmap's client layer: ``Client(...).keys``."""

    name = "etcdmap"

    def __init__(self, url: str, **options: Any) -> None:
        from etcdmap.v2.client import Client  # noqa: PLC0415

        self.client = Client(url, **options)
        keys = self.client.keys
        self._get = keys.get
        self._set = keys.set
        self._delete = keys.delete
        self._create = keys.create

    def get(self, key: str) -> str | None:
        node = self._get(key).node
        return None if node is None else node.value

    def put(self, key: str, value: str) -> None:
        self._set(key, value)

    def cas(self, key: str, new: str, prev: str) -> None:
        self._set(key, new, prev_value=prev)

    def delete(self, key: str) -> None:
        self._delete(key)

    def create(self, key: str, value: str) -> None:
        self._create(key, value)

    def close(self) -> None:
        self.client.close()


class EtcdmapStockKV(EtcdmapKV):
    """etcdmap's client layer on a plain ``requests.Session()`` (requests' ``HTTPAdapter``)."""

    name = "etcdmap-stock"

    def __init__(self, url: str, **options: Any) -> None:
        import requests  # noqa: PLC0415

        super().__init__(url, session=requests.Session(), **options)


class EtcdMapKV(KV):
    """etcdmap's façade: ``EtcdMap(client, dir)[name]`` (one map per directory, made once)."""

    name = "EtcdMap"

    def __init__(self, client: Any) -> None:
        from etcdmap.mapping.emap import EtcdMap  # noqa: PLC0415

        self._client = client
        self._make = EtcdMap
        self._maps: dict[str, Any] = {}

    def _split(self, key: str) -> tuple[Any, str]:
        path, _, name = key.rpartition("/")
        m = self._maps.get(path)
        if m is None:
            m = self._maps[path] = self._make(self._client, path)
        return m, name

    def get(self, key: str) -> str | None:
        m, name = self._split(key)
        value: str | None = m[name]
        return value

    def put(self, key: str, value: str) -> None:
        m, name = self._split(key)
        m[name] = value

    def cas(self, key: str, new: str, prev: str) -> None:
        m, name = self._split(key)
        if not m.compare_and_swap(name, new, prev_value=prev):
            raise RuntimeError(f"compare_and_swap failed on {key}")

    def delete(self, key: str) -> None:
        m, name = self._split(key)
        del m[name]

    def create(self, key: str, value: str) -> None:
        m, name = self._split(key)
        m.create(name, value)


def python_etcd_available() -> bool:
    """Whether python-etcd (the ``bench`` extra) can be imported."""
    try:
        import etcd  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def make_contenders(url: str) -> list[KV]:
    """etcdmap (default and on a plain ``requests.Session()``), python-etcd (when installed)
    and http.client, all on ``url``."""
    makers: list[Callable[[str], KV]] = [EtcdmapKV, EtcdmapStockKV]
    if python_etcd_available():
        makers.append(PythonEtcdKV)
    makers.append(HttpClientKV)
    return [make(url) for make in makers]
