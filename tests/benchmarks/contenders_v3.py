"""The v3 contenders behind the :class:`~.contenders.KV` interface: etcdmap.v3, cslab-etcd3,
etcd3gw and raw http.client on the gateway.

- ``etcdmap.v3``: :class:`etcdmap.v3.Client` (the HTTP/JSON gateway, requests + etcdmap's
  adapter).
- ``cslab-etcd3`` 0.12.1: the ``etcd3`` API over **gRPC** (a maintained fork of etcd3 0.12,
  whose generated protobuf code imports with a current protobuf; etcd3 0.12.0 itself fails
  with ``TypeError: Descriptors cannot be created directly`` under protobuf 4+).
- ``etcd3gw`` 2.7.0: OpenStack's client for the same HTTP/JSON gateway (requests).
- ``http.client``: a raw kept-alive connection posting the gateway's JSON: the floor of a
  Python HTTP client.
- ``gateway floor``: a plain socket that sends the request's bytes (formatted with one f-string)
  and reads the answer only until its ``Content-Length`` is in (no JSON, no parsing): what the
  gateway itself allows a client that does (almost) no work. What is left of a target's time
  over this row is all a client may spend per call.

Each operation sends one request, waits for the answer and checks it (a CAS or create that
did not apply raises). The optional ones are skipped when not installed (the ``bench`` extra).
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from .contenders import KV

__all__ = ["CslabEtcd3KV", "EtcdmapV3KV", "Etcd3gwKV", "GatewayFloorKV", "HttpClientV3KV",
           "make_v3_contenders"]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class EtcdmapV3KV(KV):
    """``etcdmap.v3.Client(url).kv``."""

    name = "etcdmap.v3"

    def __init__(self, url: str) -> None:
        from etcdmap.v3 import Client, Compare, Op  # noqa: PLC0415

        self.client = Client(url)
        self._kv = self.client.kv
        self._compare, self._op = Compare, Op

    def get(self, key: str) -> str | None:
        value = self._kv.get(key)
        return None if value is None else value.decode()

    def put(self, key: str, value: str) -> None:
        self._kv.put(key, value)

    def cas(self, key: str, new: str, prev: str) -> None:
        r = self._kv.txn([self._compare.value(key, "==", prev)], [self._op.put(key, new)])
        if not r.succeeded:
            raise RuntimeError(f"CAS failed on {key}")

    def delete(self, key: str) -> None:
        self._kv.delete(key)

    def create(self, key: str, value: str) -> None:
        r = self._kv.txn([self._compare.create(key, "==", 0)], [self._op.put(key, value)])
        if not r.succeeded:
            raise RuntimeError(f"create failed on {key}")

    def close(self) -> None:
        self.client.close()


class CslabEtcd3KV(KV):
    """cslab-etcd3 (``import etcd3``): gRPC, one channel."""

    name = "cslab-etcd3"

    def __init__(self, url: str) -> None:
        import etcd3  # noqa: PLC0415 (optional: the bench extra)

        parts = urlsplit(url)
        self.client = etcd3.client(host=parts.hostname, port=parts.port)

    def get(self, key: str) -> str | None:
        value, _meta = self.client.get(key)
        return None if value is None else value.decode()

    def put(self, key: str, value: str) -> None:
        self.client.put(key, value)

    def cas(self, key: str, new: str, prev: str) -> None:
        if not self.client.replace(key, prev, new):
            raise RuntimeError(f"CAS failed on {key}")

    def delete(self, key: str) -> None:
        self.client.delete(key)

    def create(self, key: str, value: str) -> None:
        if not self.client.put_if_not_exists(key, value):
            raise RuntimeError(f"create failed on {key}")

    def close(self) -> None:
        self.client.close()


class Etcd3gwKV(KV):
    """etcd3gw (``etcd3gw.client.Etcd3Client``): the HTTP/JSON gateway through requests."""

    name = "etcd3gw"

    def __init__(self, url: str) -> None:
        from etcd3gw.client import Etcd3Client  # noqa: PLC0415 (optional: the bench extra)

        parts = urlsplit(url)
        self.client = Etcd3Client(host=parts.hostname, port=parts.port, api_path="/v3/")

    def get(self, key: str) -> str | None:
        values = self.client.get(key)
        return values[0].decode() if values else None

    def put(self, key: str, value: str) -> None:
        self.client.put(key, value)

    def cas(self, key: str, new: str, prev: str) -> None:
        if not self.client.replace(key, prev, new):
            raise RuntimeError(f"CAS failed on {key}")

    def delete(self, key: str) -> None:
        self.client.delete(key)

    def create(self, key: str, value: str) -> None:
        if not self.client.create(key, value):
            raise RuntimeError(f"create failed on {key}")

    def close(self) -> None:
        self.client.session.close()


class HttpClientV3KV(KV):
    """Raw :mod:`http.client` on the gateway: build the JSON, POST, read, ``json.loads``.

    Single-threaded use only (one connection).
    """

    name = "http.client"

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 2379,
                                                timeout=10)

    def call(self, path: str, body: dict[str, Any]) -> Any:
        """POST ``body`` to ``path`` and return the parsed answer (raises on an error status)."""
        self._conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = self._conn.getresponse()
        doc = json.loads(resp.read())
        if resp.status >= 400:
            raise RuntimeError(f"{path}: {resp.status} {doc}")
        return doc

    def get(self, key: str) -> str | None:
        kvs = self.call("/v3/kv/range", {"key": _b64(key)}).get("kvs")
        return base64.b64decode(kvs[0].get("value", "")).decode() if kvs else None

    def put(self, key: str, value: str) -> None:
        self.call("/v3/kv/put", {"key": _b64(key), "value": _b64(value)})

    def _txn(self, key: str, compare: dict[str, Any], value: str) -> bool:
        body = {"compare": [{"key": _b64(key), **compare}],
                "success": [{"request_put": {"key": _b64(key), "value": _b64(value)}}]}
        return bool(self.call("/v3/kv/txn", body).get("succeeded"))

    def cas(self, key: str, new: str, prev: str) -> None:
        if not self._txn(key, {"target": "VALUE", "result": "EQUAL", "value": _b64(prev)}, new):
            raise RuntimeError(f"CAS failed on {key}")

    def delete(self, key: str) -> None:
        self.call("/v3/kv/deleterange", {"key": _b64(key)})

    def create(self, key: str, value: str) -> None:
        compare = {"target": "CREATE", "result": "EQUAL", "create_revision": "0"}
        if not self._txn(key, compare, value):
            raise RuntimeError(f"create failed on {key}")

    def close(self) -> None:
        self._conn.close()


class GatewayFloorKV(KV):
    """The gateway floor: bytes out, bytes in (see the module docstring). Answers are checked
    only for their status line and, for a txn, ``"succeeded":true``.

    Single-threaded use only (one connection).
    """

    name = "gateway floor"

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 2379
        self._sock = socket.create_connection((host, port), timeout=10)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._head = f"Host: {host}:{port}\r\nContent-Type: application/json\r\nContent-Length: "

    def _post(self, path: str, body: str) -> bytes:
        data = body.encode()
        self._sock.sendall(f"POST {path} HTTP/1.1\r\n{self._head}{len(data)}\r\n\r\n".encode()
                           + data)
        buf = b""
        while True:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise RuntimeError("the gateway closed the connection")
            buf += chunk
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                continue
            at = buf.find(b"Content-Length: ", 0, end)
            if at < 0 or not buf.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{path}: {buf[:200]!r}")
            length = int(buf[at + 16:buf.find(b"\r\n", at)])
            if len(buf) - end - 4 >= length:
                return buf[end + 4:]

    def get(self, key: str) -> str | None:
        self._post("/v3/kv/range", f'{{"key":"{_b64(key)}"}}')
        return None  # not parsed: the floor

    def put(self, key: str, value: str) -> None:
        self._post("/v3/kv/put", f'{{"key":"{_b64(key)}","value":"{_b64(value)}"}}')

    def _txn(self, key: str, compare: str, value: str) -> bool:
        k = _b64(key)
        answer = self._post("/v3/kv/txn", f'{{"compare":[{{"key":"{k}",{compare}}}],'
                            f'"success":[{{"request_put":{{"key":"{k}","value":"{_b64(value)}"}}}}]}}')
        return b'"succeeded":true' in answer

    def cas(self, key: str, new: str, prev: str) -> None:
        if not self._txn(key, f'"target":"VALUE","result":"EQUAL","value":"{_b64(prev)}"', new):
            raise RuntimeError(f"CAS failed on {key}")

    def delete(self, key: str) -> None:
        self._post("/v3/kv/deleterange", f'{{"key":"{_b64(key)}"}}')

    def create(self, key: str, value: str) -> None:
        if not self._txn(key, '"target":"CREATE","result":"EQUAL","create_revision":"0"', value):
            raise RuntimeError(f"create failed on {key}")

    def close(self) -> None:
        self._sock.close()


def make_v3_contenders(url: str) -> tuple[list[KV], dict[str, str]]:
    """etcdmap.v3, cslab-etcd3 and etcd3gw (when they import), http.client and the gateway
    floor, on ``url``.

    :returns: the contenders, and ``{name: why it was left out}`` for the others.
    """
    makers: list[Callable[[str], KV]] = [EtcdmapV3KV, CslabEtcd3KV, Etcd3gwKV, HttpClientV3KV,
                                         GatewayFloorKV]
    contenders: list[KV] = []
    skipped: dict[str, str] = {}
    for make in makers:
        try:
            contenders.append(make(url))
        except ImportError as exc:
            skipped[getattr(make, "name", "?")] = f"not installed ({exc})"
    return contenders, skipped
