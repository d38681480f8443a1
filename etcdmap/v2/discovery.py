"""Find a cluster's client endpoints from DNS SRV records (``Client.from_srv``).

Like etcd's ``GetClient`` (etcd-io/etcd release-3.5:client/pkg/srv/srv.go):
``_etcd-client-ssl[-<name>]._tcp.<domain>`` gives
``https://`` endpoints, then ``_etcd-client[-<name>]._tcp.<domain>`` gives ``http://`` ones;
https come first. It is an error only when **both** lookups fail (or find nothing), and the
error names both. Unlike Go, targets lose DNS's trailing dot (``etcd1.example.com``, not
``etcd1.example.com.``), so TLS host names match the certificates.

The lookups need the ``dns`` extra (``pip install etcdmap[dns]``, which installs dnspython),
imported only when a lookup is made without an injected resolver.

Thread-safe: no state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from etcdmap.errors import NoEndpointsError

__all__ = ["Resolver", "discover_srv", "srv_names", "srv_urls"]


class Resolver(Protocol):
    """What :func:`discover_srv` needs from a resolver: dnspython's ``Resolver`` fits.

    ``resolve(name, "SRV")`` returns an iterable of records with ``target`` (a name whose
    ``str()`` is the host, maybe with a trailing dot), ``port``, ``priority`` and ``weight``;
    it raises an exception when the lookup fails.
    """

    def resolve(self, qname: str, rdtype: str) -> Iterable[Any]: ...  # pragma: no cover


def srv_names(domain: str, service_name: str = "") -> list[tuple[str, str]]:
    """The two SRV names to look up, with the scheme each one gives, in order.

    :param domain: e.g. ``"example.com"`` (a trailing dot is allowed).
    :param service_name: distinguishes several clusters in one domain (``-<name>`` suffix).
    :returns: ``[("https", "_etcd-client-ssl._tcp.example.com"), ("http", ...)]``.
    :raises ValueError: an empty domain.
    """
    domain = domain.strip().rstrip(".")
    if not domain:
        raise ValueError("SRV discovery needs a domain, e.g. 'example.com'")
    suffix = f"-{service_name}" if service_name else ""
    return [
        ("https", f"_etcd-client-ssl{suffix}._tcp.{domain}"),
        ("http", f"_etcd-client{suffix}._tcp.{domain}"),
    ]


def srv_urls(scheme: str, records: Iterable[Any]) -> list[str]:
    """Turn SRV records into URLs, ordered by priority (lowest first) then weight (highest).

    :param scheme: ``"https"`` or ``"http"``.
    :param records: objects with ``target``, ``port`` and optionally ``priority``/``weight``.
    :returns: ``["https://etcd1.example.com:2379", ...]``, without trailing dots or duplicates.
    """
    ordered = sorted(
        records,
        key=lambda r: (int(getattr(r, "priority", 0)), -int(getattr(r, "weight", 0))),
    )
    urls: list[str] = []
    for record in ordered:
        host = str(record.target).rstrip(".")
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 literal
        url = f"{scheme}://{host}:{int(record.port)}"
        if host and url not in urls:
            urls.append(url)
    return urls


def _default_resolver() -> Resolver:
    try:
        import dns.resolver  # noqa: PLC0415 (optional dependency, imported on use)
    except ImportError as exc:
        raise ImportError("SRV discovery needs dnspython: pip install etcdmap[dns]") from exc
    resolver: Resolver = dns.resolver.Resolver()
    return resolver


def discover_srv(
    domain: str, service_name: str = "", *, resolver: Resolver | None = None
) -> list[str]:
    """Look up a cluster's client URLs in DNS.

    :param domain: the DNS domain holding the SRV records.
    :param service_name: optional suffix, for several clusters in one domain.
    :param resolver: an object with ``resolve(name, "SRV")`` (default: a new
        ``dns.resolver.Resolver()``, which reads ``/etc/resolv.conf``).
    :returns: https URLs first, then http URLs.
    :raises ImportError: no resolver given and dnspython is not installed.
    :raises NoEndpointsError: both lookups failed or found nothing; the message names both.
    """
    names = srv_names(domain, service_name)
    if resolver is None:
        resolver = _default_resolver()
    urls: list[str] = []
    problems: list[str] = []
    for scheme, name in names:
        try:
            records = list(resolver.resolve(name, "SRV"))
        # A resolver may raise anything (dnspython: NXDOMAIN, NoAnswer, Timeout, ...); one
        # failed lookup is not an error as long as the other one finds endpoints.
        except Exception as exc:
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        found = srv_urls(scheme, records)
        if not found:
            problems.append(f"{name}: no records")
        urls.extend(u for u in found if u not in urls)
    if not urls:
        raise NoEndpointsError(
            f"SRV discovery for {domain!r} found no etcd endpoints: " + " and ".join(problems)
        )
    return urls
