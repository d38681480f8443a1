"""Test-suite configuration shared by every etcdmap test.

The etcd fixtures (``etcd_server``, ``etcd_url``, ``etcd_cluster``, ``etcd_prefix``) come from
the ``etcdmap.testing`` pytest plugin, registered through the ``pytest11`` entry point of the
installed package. This file only adds what is specific to this repository.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from apis import APIS
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The benchmark suite is run by ``python -m tests.benchmarks``, never collected by pytest.
collect_ignore_glob = ["benchmarks/*"]


@dataclass(frozen=True)
class TLSFiles:
    """PEM files for a loopback TLS etcd: a CA, a server certificate and a client certificate.

    The server certificate is valid for ``127.0.0.1`` and ``localhost``, for both server and
    client authentication (so the harness probe can present it too).
    """

    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str


def _write_tls_files(directory: Path) -> TLSFiles:
    now = datetime.datetime.now(datetime.timezone.utc)

    def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def cert(
        cn: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Name | None,
        issuer_key: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            ).add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = cert("etcdmap test CA", ca_key, None, ca_key, ca=True)
    out: dict[str, str] = {}
    for label, cn in (("server", "127.0.0.1"), ("client", "etcdmap-client")):
        key = ec.generate_private_key(ec.SECP256R1())
        crt = cert(cn, key, ca_cert.subject, ca_key, ca=False)
        (directory / f"{label}.pem").write_bytes(crt.public_bytes(serialization.Encoding.PEM))
        (directory / f"{label}-key.pem").write_bytes(key_pem(key))
        out[label] = str(directory / f"{label}.pem")
        out[f"{label}_key"] = str(directory / f"{label}-key.pem")
    (directory / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return TLSFiles(
        ca=str(directory / "ca.pem"),
        server_cert=out["server"],
        server_key=out["server_key"],
        client_cert=out["client"],
        client_key=out["client_key"],
    )


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A throwaway CA with a loopback server certificate and a client certificate."""
    return _write_tls_files(tmp_path_factory.mktemp("tls"))


def _run_threads(
    worker: Callable[[int], object], count: int, *, timeout: float | None = None
) -> list[BaseException]:
    """Run ``worker(0)`` ... ``worker(count - 1)`` in ``count`` threads (one each).

    :param timeout: how long to wait for each thread (``None``: until it ends).
    :returns: every exception the workers raised (assertion failures included), for the
        test's own assertion.
    """
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            worker(n)
        except BaseException as exc:  # noqa: BLE001 - collected for the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return errors


@pytest.fixture
def run_threads() -> Callable[..., list[BaseException]]:
    """``run_threads(worker, count, timeout=None)``: run ``worker(n)`` in ``count`` threads and
    return the exceptions they raised."""
    return _run_threads


@pytest.fixture(autouse=True)
def _stock_session_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ETCDMAP_TEST_SESSION=stock``: every default client uses a plain ``requests.Session()``
    (requests' ``HTTPAdapter``) instead of etcdmap's fast adapter, so that any suite can run
    once on the stock stack."""
    if os.environ.get("ETCDMAP_TEST_SESSION") == "stock":
        import requests  # noqa: PLC0415

        from etcdmap.http import session  # noqa: PLC0415

        monkeypatch.setattr(session, "default_session", requests.Session)


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> str:
    """``"v2"`` or ``"v3"``: a test asking for it runs once on each API (``apis.only`` narrows
    a case to one API; ``apis.client_for`` makes the client)."""
    return str(request.param)
