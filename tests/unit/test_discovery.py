"""SRV discovery: names, record → URL assembly, fallbacks and errors (injected resolver)."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import dns.name
import dns.resolver
import pytest

from etcdmap.errors import NoEndpointsError
from etcdmap.v2.client import Client
from etcdmap.v2.discovery import discover_srv, srv_names, srv_urls


@dataclass
class Rec:
    target: Any
    port: int
    priority: int = 0
    weight: int = 0


class FakeResolver:
    """Answers from a dict; a missing name raises dnspython's NXDOMAIN (no network)."""

    def __init__(self, answers: dict[str, list[Rec]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, str]] = []

    def resolve(self, qname: str, rdtype: str) -> Iterable[Rec]:
        self.asked.append((qname, rdtype))
        if qname not in self.answers:
            raise dns.resolver.NXDOMAIN(qnames=[dns.name.from_text(qname)])  # type: ignore[no-untyped-call]
        return self.answers[qname]


def test_srv_names() -> None:
    assert srv_names("example.com") == [
        ("https", "_etcd-client-ssl._tcp.example.com"),
        ("http", "_etcd-client._tcp.example.com"),
    ]
    assert srv_names("example.com.", "prod") == [
        ("https", "_etcd-client-ssl-prod._tcp.example.com"),
        ("http", "_etcd-client-prod._tcp.example.com"),
    ]
    with pytest.raises(ValueError, match="domain"):
        srv_names(" ")


def test_srv_urls_strip_the_trailing_dot_and_order_by_priority_then_weight() -> None:
    records = [
        Rec(dns.name.from_text("c.example.com"), 2379, priority=20),
        Rec("a.example.com.", 2379, priority=10, weight=1),
        Rec("b.example.com.", 12379, priority=10, weight=50),
        Rec("b.example.com.", 12379, priority=10, weight=50),  # duplicate
        Rec("::1", 2379, priority=30),
    ]
    assert srv_urls("https", records) == [
        "https://b.example.com:12379",
        "https://a.example.com:2379",
        "https://c.example.com:2379",
        "https://[::1]:2379",
    ]


def test_https_first_then_http() -> None:
    resolver = FakeResolver(
        {
            "_etcd-client-ssl._tcp.example.com": [Rec("s1.example.com.", 2379)],
            "_etcd-client._tcp.example.com": [Rec("p1.example.com.", 2379)],
        }
    )
    assert discover_srv("example.com", resolver=resolver) == [
        "https://s1.example.com:2379",
        "http://p1.example.com:2379",
    ]
    assert resolver.asked == [
        ("_etcd-client-ssl._tcp.example.com", "SRV"),
        ("_etcd-client._tcp.example.com", "SRV"),
    ]


def test_one_failed_lookup_is_fine() -> None:
    only_http = FakeResolver({"_etcd-client-x._tcp.d.org": [Rec("h.d.org.", 4001)]})
    assert discover_srv("d.org", "x", resolver=only_http) == ["http://h.d.org:4001"]
    only_https = FakeResolver({"_etcd-client-ssl._tcp.d.org": [Rec("h.d.org.", 2379)]})
    assert discover_srv("d.org", resolver=only_https) == ["https://h.d.org:2379"]


def test_both_failing_names_both_lookups() -> None:
    with pytest.raises(NoEndpointsError) as info:
        discover_srv("nothing.test", "svc", resolver=FakeResolver({}))
    text = str(info.value)
    assert "_etcd-client-ssl-svc._tcp.nothing.test" in text
    assert "_etcd-client-svc._tcp.nothing.test" in text
    assert "NXDOMAIN" in text and " and " in text
    assert isinstance(info.value, ValueError)


def test_empty_answers_count_as_failure() -> None:
    resolver = FakeResolver({"_etcd-client._tcp.e.org": []})
    with pytest.raises(NoEndpointsError, match="no records"):
        discover_srv("e.org", resolver=resolver)


def test_missing_dnspython_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_dns(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "dns" or name.startswith("dns."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dns)
    for mod in [m for m in sys.modules if m == "dns" or m.startswith("dns.")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.raises(ImportError, match=r"pip install etcdmap\[dns\]"):
        discover_srv("example.com")


def test_an_injected_resolver_needs_no_dnspython_import(monkeypatch: pytest.MonkeyPatch) -> None:
    class Plain:
        def resolve(self, qname: str, rdtype: str) -> list[Rec]:
            if "ssl" in qname:
                raise OSError("no route")
            return [Rec("n1.", 1)]

    monkeypatch.setitem(sys.modules, "dns.resolver", None)  # importing it would fail
    assert discover_srv("x.org", resolver=Plain()) == ["http://n1:1"]


def test_client_from_srv_uses_the_discovered_endpoints() -> None:
    resolver = FakeResolver(
        {"_etcd-client-ssl-c1._tcp.example.com": [Rec("e1.example.com.", 2379)]}
    )
    with Client.from_srv("example.com", "c1", resolver=resolver, timeout=3.0) as client:
        assert client.endpoints == ["https://e1.example.com:2379"]
        assert client.transport.timeout == 3.0
