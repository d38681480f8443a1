"""Transport logic that needs no server: endpoint validation, pinning, headers, repr."""

from __future__ import annotations

import ssl
from collections import Counter
from pathlib import Path

import pytest

from etcdmap.cli.common import endpoint_list
from etcdmap.errors import NoEndpointsError
from etcdmap.http.tls import make_ssl_context
from etcdmap.http.transport import Transport, normalize_endpoint
from etcdmap.v2.client import Client
from etcdmap.v3.client import Client as V3Client


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("http://127.0.0.1:2379", "http://127.0.0.1:2379"),
        ("http://127.0.0.1:2379/", "http://127.0.0.1:2379"),
        ("http://127.0.0.1:2379//", "http://127.0.0.1:2379"),
        ("https://Example.COM", "https://example.com"),
        ("http://[::1]:2379", "http://[::1]:2379"),
        ("  http://h:2379  ", "http://h:2379"),
        # host:port without a scheme is http://, as on the command line (etcdctl's habit)
        ("127.0.0.1:2379", "http://127.0.0.1:2379"),
        ("etcd-1.example.com:2379", "http://etcd-1.example.com:2379"),
        ("[::1]:2379", "http://[::1]:2379"),
    ],
)
def test_normalize_endpoint(url: str, normal: str) -> None:
    assert normalize_endpoint(url) == normal


@pytest.mark.parametrize(
    "url",
    ["", ":", ":2379", "localhost", "ftp://h:21", "http://", "http://:2379", "http://h:port",
     "http://h:99999", "http://u:p@h:1", "http://h:1/?q=1", "http://h:1/#f", "unix:///tmp/s",
     "http://h:1/a\r\nX: y", "http://h\t:1", "h:2379/v2"],
)
def test_normalize_endpoint_rejects_garbage(url: str) -> None:
    with pytest.raises(ValueError, match=r"endpoint|credentials"):
        normalize_endpoint(url)


@pytest.mark.parametrize(
    ("url", "path"),
    [("http://h:2379/v2/keys", "/v2/keys"), ("http://h:1/pre fix/ä", "/pre fix/ä"),
     ("https://h/etcd/", "/etcd/")],
)
def test_endpoint_with_a_path_is_refused_with_the_fix(url: str, path: str) -> None:
    origin = url[: url.index("/", 8)]
    with pytest.raises(ValueError, match="has a path") as info:
        normalize_endpoint(url)
    assert repr(path) in str(info.value)
    assert f"drop it and pass {origin!r}" in str(info.value)
    with pytest.raises(ValueError, match="has a path"):
        Client(url)
    with pytest.raises(ValueError, match="has a path"):
        V3Client([url])


def test_comma_separated_endpoints_are_a_list() -> None:
    t = Transport("http://a:1, http://b:2,,b:2 ,c:3")
    assert sorted(t.endpoints) == ["http://a:1", "http://b:2", "http://c:3"]
    with Client(["http://a:1,http://d:4"]) as c:
        assert sorted(c.endpoints) == ["http://a:1", "http://d:4"]
    with pytest.raises(NoEndpointsError):
        Transport(" , ")


def test_library_and_command_line_read_endpoints_alike() -> None:
    spec = "127.0.0.1:2379, https://h:2379 ,[::1]:1"
    assert sorted(endpoint_list(spec)) == sorted(Transport(spec).endpoints) == sorted(
        ["http://127.0.0.1:2379", "https://h:2379", "http://[::1]:1"])
    for bad in ("localhost", "http://h:1/v2/keys"):
        with pytest.raises(ValueError):
            Transport(bad)
        with pytest.raises(ValueError):  # the command line builds its client from the list
            Client(endpoint_list(bad))


def test_non_string_endpoint_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Transport([2379])  # type: ignore[list-item]


def test_no_endpoints() -> None:
    with pytest.raises(NoEndpointsError):
        Transport([])
    with pytest.raises(ValueError):  # NoEndpointsError is also a ValueError
        Client([])


def test_set_endpoints_keeps_old_list_on_error() -> None:
    t = Transport(["http://a:1", "http://b:2"])
    with pytest.raises(ValueError):
        t.set_endpoints(["http://c:3", "garbage"])
    with pytest.raises(NoEndpointsError):
        t.set_endpoints([])
    assert sorted(t.endpoints) == ["http://a:1", "http://b:2"]
    t.set_endpoints("http://c:3")
    assert t.endpoints == ["http://c:3"]
    assert t.pinned == "http://c:3"


def test_random_pin_is_spread_over_endpoints() -> None:
    eps = ["http://a:1", "http://b:2", "http://c:3"]
    counts = Counter(Transport(eps).pinned for _ in range(600))
    assert set(counts) == set(eps)
    assert all(120 < n < 280 for n in counts.values())


def test_pin_only_known_endpoints() -> None:
    t = Transport(["http://a:1", "http://b:2"])
    t.pin("http://b:2")
    assert t.pinned == "http://b:2"
    t.pin("http://zzz:9")
    assert t.pinned == "http://b:2"


def test_repr_never_shows_the_password() -> None:
    c = Client("http://a:1", username="root", password="s3cret")
    assert "s3cret" not in repr(c)
    assert "s3cret" not in repr(c.transport)
    assert "http://a:1" in repr(c)
    assert "root" in repr(c)


def test_client_options_and_context_manager() -> None:
    with Client(["http://a:1"], timeout=2.0, request_timeout=0.5, max_redirects=3) as c:
        assert c.endpoints == ["http://a:1"]
        assert c.transport.timeout == 2.0
        assert c.transport.request_timeout == 0.5
        assert c.transport.max_redirects == 3
        c.set_endpoints(["http://b:2"])
        assert c.endpoints == ["http://b:2"]
    with pytest.raises(TypeError):
        Client("http://a:1", selection="random")  # type: ignore[arg-type]


def test_ssl_context_verify_modes() -> None:
    assert make_ssl_context(True, None).verify_mode == ssl.CERT_REQUIRED
    insecure = make_ssl_context(False, None)
    assert insecure.verify_mode == ssl.CERT_NONE
    assert not insecure.check_hostname
    with pytest.raises(OSError):
        make_ssl_context("/nonexistent/ca.pem", None)


def test_duplicate_endpoints_are_dropped() -> None:
    t = Transport(["http://a:1", "http://a:1/", "http://b:2"])
    assert sorted(t.endpoints) == ["http://a:1", "http://b:2"]


@pytest.mark.parametrize(
    "options",
    [{"timeout": 0}, {"timeout": -1}, {"request_timeout": 0}, {"timeout": True},
     {"max_redirects": -1}, {"max_redirects": 1.5}],
)
def test_bad_options(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Transport("http://a:1", **options)  # type: ignore[arg-type]


def test_unreadable_tls_files_fail_at_construction(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        Transport("https://a:1", verify=str(tmp_path / "missing-ca.pem"))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(ssl.SSLError):
        Transport("https://a:1", cert=str(garbage))
    Transport("http://a:1", verify=str(tmp_path / "missing-ca.pem"))  # no https: not needed
