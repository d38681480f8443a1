"""Transport against specially configured etcd servers: TLS (with client certificates), v2 off."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from etcdmap.errors import ClusterError, V2DisabledError
from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client


@pytest.fixture(scope="module")
def tls_server(tls_files: Any) -> Iterator[EtcdServer]:
    with EtcdServer(
        cert_file=tls_files.server_cert,
        key_file=tls_files.server_key,
        trusted_ca_file=tls_files.ca,
        client_cert_auth=True,
    ) as server:
        yield server


def test_tls_with_ca_and_client_certificate(tls_server: EtcdServer, tls_files: Any) -> None:
    assert tls_server.client_url.startswith("https://")
    with Client(
        tls_server.client_url, verify=tls_files.ca,
        cert=(tls_files.client_cert, tls_files.client_key),
    ) as c:
        assert c.keys.set("/tls", "yes").action == "set"
        assert c.keys.get("/tls").node.value == "yes"  # type: ignore[union-attr]
        w = c.keys.watcher("/tls")
        c.keys.set("/tls", "again")
        with pytest.raises(TimeoutError):
            w.next(timeout=0.3)  # the watch works over TLS (and started after the write)


def test_tls_failures_are_clear_cluster_errors(tls_server: EtcdServer, tls_files: Any) -> None:
    # verify=True by default: the test CA is unknown, so the handshake fails
    with Client(tls_server.client_url) as c, pytest.raises(ClusterError) as info:
        c.keys.get("/tls")
    (endpoint, error), = info.value.errors
    assert endpoint == tls_server.client_url
    assert isinstance(error, ssl.SSLError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    # a trusted server, but no client certificate: refused during the handshake
    with Client(tls_server.client_url, verify=tls_files.ca) as c, pytest.raises(ClusterError) as info:
        c.keys.get("/tls")
    assert isinstance(info.value.errors[0][1], (ssl.SSLError, ConnectionError))


def test_v2_disabled_server_is_named() -> None:
    with EtcdServer(enable_v2=False) as server, Client(server.client_url) as c:
        with pytest.raises(V2DisabledError, match="--enable-v2=true") as info:
            c.keys.get("/foo")
        assert info.value.endpoint == server.client_url


def test_cluster_error_says_whether_the_request_may_have_been_applied(
    etcd_server: EtcdServer, etcd_prefix: str
) -> None:
    # Nothing listens on the port: no member ever received the request.
    with Client("http://127.0.0.1:9", timeout=2) as c, pytest.raises(ClusterError) as info:
        c.keys.set(f"{etcd_prefix}/k", "v")
    assert info.value.maybe_applied is False
    # A frozen member received it and may apply it when it resumes.
    with Client(etcd_server.client_url, timeout=3, request_timeout=0.3) as c:
        c.keys.get("/")  # a pooled connection, so the next request is surely sent
        etcd_server.stop()
        try:
            with pytest.raises((ClusterError, TimeoutError)) as sent_info:
                c.keys.set(f"{etcd_prefix}/k", "v")
        finally:
            etcd_server.cont()
    assert getattr(sent_info.value, "maybe_applied", None) is True
