"""etcdmap.v3 over the shared transport: failover, no duplicate non-idempotent writes, and
answers etcd never sends (from scripted loopback servers), next to a real etcd."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from etcdmap.errors import AmbiguousResultError, ClusterError, InvalidResponseError
from etcdmap.http.transport import disable_curl_debug, enable_curl_debug
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client, Compare, Op

if TYPE_CHECKING:
    from tests.conftest import TLSFiles


class Scripted:
    """A loopback HTTP server that reads each request whole, then answers ``reply`` (raw
    bytes) or, when ``reply`` is empty, closes the connection without answering."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply = reply
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                self.requests.append(head.split(b"\r\n")[0])
                if self.reply:
                    conn.sendall(self.reply)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def dropper() -> Iterator[Scripted]:
    server = Scripted()
    yield server
    server.close()


def _client(first: str, etcd_url: str) -> Client:
    c = Client([first, etcd_url], timeout=5.0)
    c.transport.pin(first)
    return c


def test_reads_and_plain_puts_fail_over_after_a_dropped_answer(
    dropper: Scripted, etcd_url: str, etcd_prefix: str
) -> None:
    with _client(dropper.url, etcd_url) as c:
        c.kv.put(etcd_prefix, "v")  # dropped by the first member, re-sent to etcd
        c.transport.pin(dropper.url)
        assert c.kv.get(etcd_prefix) == b"v"
    assert [r.split()[1] for r in dropper.requests] == [b"/v3/kv/put", b"/v3/kv/range"]


@pytest.mark.parametrize(
    "call",
    [
        lambda c, k: c.kv.txn([Compare.version(k, "==", 0)], [Op.put(k, "once")]),
        lambda c, k: c.kv.txn([], [Op.put(k, "once")]),
        lambda c, k: c.kv.put(k, "once", prev_kv=True),
        lambda c, k: c.kv.delete(k, prev_kv=True),
        lambda c, k: c.lease.grant(30),
        lambda c, k: c.auth.user_add(k.strip("/"), "pw"),
        lambda c, k: c.members.add("http://127.0.0.1:1"),
    ],
)
def test_non_idempotent_calls_are_never_sent_twice(
    dropper: Scripted, etcd_url: str, etcd_prefix: str, call: object
) -> None:
    with _client(dropper.url, etcd_url) as c:
        with pytest.raises(AmbiguousResultError, match="not re-sent"):
            call(c, etcd_prefix)  # type: ignore[operator]
        assert c.kv.get(etcd_prefix) is None  # the real member never got it
    assert len(dropper.requests) == 1


def test_read_only_txn_is_retried(dropper: Scripted, etcd_url: str, etcd_prefix: str) -> None:
    with _client(dropper.url, etcd_url) as c:
        assert c.kv.txn([Compare.version(etcd_prefix, "==", 0)], [Op.get(etcd_prefix)]).succeeded


def _http(status: str, body: bytes) -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


@pytest.mark.parametrize(
    "reply",
    [
        _http("404 Not Found", b"404 page not found\n"),
        _http("200 OK", b"<html>"),
        _http("200 OK", b"[]"),
        _http("200 OK", b'{"header":{"revision":"not int"}}'),
        _http("200 OK", b'{"kvs":[{"key":"not base64!"}]}'),
        _http("400 Bad Request", b"oops!"),
    ],
)
def test_answers_that_are_not_v3_are_invalid_responses(reply: bytes) -> None:
    server = Scripted(reply)
    try:
        with Client(server.url, timeout=2.0) as c, pytest.raises(InvalidResponseError) as info:
            c.kv.range("k")
        assert "not an etcd v3 gateway answer" in str(info.value)
    finally:
        server.close()


def test_a_refused_endpoint_fails_over_even_for_writes(etcd_url: str, etcd_prefix: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # closed below: nothing listens
    with _client(dead, etcd_url) as c:
        assert c.kv.txn([Compare.version(etcd_prefix, "==", 0)], [Op.put(etcd_prefix, "x")]).succeeded
    with Client(dead, timeout=2.0) as only_dead, pytest.raises(ClusterError):
        only_dead.kv.range("k")


def test_curl_debug_shows_v3_calls_and_hides_the_password(
    etcd_url: str, etcd_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    enable_curl_debug()
    try:
        # auth is off on the shared server: authenticate says so and the client goes on
        with Client(etcd_url, username="someone", password="s3cret-pw") as c:
            c.kv.put(etcd_prefix, "v")
            assert c.auth.token is None
    finally:
        disable_curl_debug()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"cURL Command: curl -X POST {etcd_url}/v3/auth/authenticate")
    assert '"password":"***"' in lines[0] and "s3cret-pw" not in "".join(lines)
    assert lines[1].startswith(f"cURL Command: curl -X POST {etcd_url}/v3/kv/put")
    assert "-H 'Content-Type: application/json'" in lines[1]


def test_tls_with_a_client_certificate(tls_files: TLSFiles, etcd_prefix: str) -> None:
    with EtcdServer(
        enable_v2=False, cert_file=tls_files.server_cert, key_file=tls_files.server_key,
        trusted_ca_file=tls_files.ca, client_cert_auth=True,
        probe_cert=(tls_files.client_cert, tls_files.client_key),
    ) as server:
        assert server.client_url.startswith("https://")
        cert = (tls_files.client_cert, tls_files.client_key)
        with Client(server.client_url, verify=tls_files.ca, cert=cert) as c:
            rev = c.kv.put(etcd_prefix, "over tls").header.revision
            assert c.kv.get(etcd_prefix) == b"over tls"
            event = next(iter(c.watch(etcd_prefix, start_revision=rev, read_timeout=5)))
            assert event.kv.value == b"over tls"
        with Client(server.client_url, verify=tls_files.ca, timeout=2.0) as no_cert, \
                pytest.raises(ClusterError):
            no_cert.kv.range("k")
