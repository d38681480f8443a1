"""TLS against a real etcd serving HTTPS with a CA made here, then with client-certificate
authentication (``--client-cert-auth --trusted-ca-file``), on both APIs (the ``api`` fixture).

What it proves: the right CA (and client certificate) works, for requests and for a mirror's
watch stream; a wrong CA, the system bundle, a wrong host name, a missing or foreign client
certificate all fail with a clear ``ClusterError`` naming the TLS failure; the package never
turns verification off on its own.
"""

from __future__ import annotations

import datetime
import io
import ipaddress
import ssl
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from apis import AnyClient, client_for
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import etcdmap
from etcdmap import EtcdMap
from etcdmap.errors import ClusterError
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client as V3Client


@dataclass(frozen=True)
class PKI:
    ca: str
    server: tuple[str, str]
    client: tuple[str, str]


def _make_pki(directory: Path, *, server_sans: list[x509.GeneralName]) -> PKI:
    """A CA, a server certificate with ``server_sans`` and a client certificate."""
    now = datetime.datetime.now(datetime.timezone.utc)
    directory.mkdir(parents=True, exist_ok=True)

    def write_key(name: str, key: ec.EllipticCurvePrivateKey) -> str:
        path = directory / f"{name}-key.pem"
        path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ))
        return str(path)

    def issue(
        name: str, cn: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None,
        issuer_key: ec.EllipticCurvePrivateKey, sans: list[x509.GeneralName] | None,
    ) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), True)
        )
        if sans is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), False)
            builder = builder.add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        cert = builder.sign(issuer_key, hashes.SHA256())
        (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = issue("ca", "reliability test CA", ca_key, None, ca_key, None)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1()
    )
    issue("server", "127.0.0.1", server_key, ca, ca_key, server_sans)
    issue("client", "reliability-client", client_key, ca, ca_key,
          [x509.DNSName("reliability-client")])
    return PKI(
        ca=str(directory / "ca.pem"),
        server=(str(directory / "server.pem"), write_key("server", server_key)),
        client=(str(directory / "client.pem"), write_key("client", client_key)),
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    ip_only: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    return _make_pki(tmp_path_factory.mktemp("pki"), server_sans=ip_only)


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    ip_only: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    return _make_pki(tmp_path_factory.mktemp("other-pki"), server_sans=ip_only)


@pytest.fixture(scope="module")
def mtls_server(pki: PKI) -> Iterator[EtcdServer]:
    with EtcdServer(
        cert_file=pki.server[0], key_file=pki.server[1], trusted_ca_file=pki.ca,
        client_cert_auth=True,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def https_server(mtls_server: EtcdServer) -> EtcdServer:
    """etcd 3.5's ``--trusted-ca-file`` always turns client-certificate checks on, and the
    harness needs it to probe an HTTPS server, so the server-side tests use the same server;
    they present the right client certificate and vary only what the client verifies."""
    return mtls_server


def _tls_failure(client: AnyClient) -> ClusterError:
    with pytest.raises(ClusterError) as info:
        EtcdMap(client, "/tls").get("k")
    errors = [err for _, err in info.value.errors]
    assert errors and all(isinstance(err, (ssl.SSLError, OSError)) for err in errors), errors
    return info.value


def test_https_with_the_right_ca(
    api: str, https_server: EtcdServer, pki: PKI, etcd_prefix: str
) -> None:
    assert https_server.client_url.startswith("https://")
    with client_for(api, https_server.client_url, verify=pki.ca, cert=pki.client,
                    timeout=5.0) as c:
        emap = EtcdMap(c, etcd_prefix)
        emap["k"] = "secure"
        assert emap["k"] == "secure"
        assert c.version().server


@pytest.mark.parametrize("which", ["wrong-ca", "system-bundle"])
def test_https_with_a_wrong_ca_fails_clearly(
    api: str, https_server: EtcdServer, pki: PKI, other_pki: PKI, which: str
) -> None:
    verify: bool | str = other_pki.ca if which == "wrong-ca" else True
    with client_for(api, https_server.client_url, verify=verify, cert=pki.client,
                    timeout=5.0) as c:
        error = _tls_failure(c)
    assert "certificate verify failed" in str(error).lower()
    assert all(isinstance(err, ssl.SSLCertVerificationError) for _, err in error.errors)


def test_host_name_is_checked(api: str, https_server: EtcdServer, pki: PKI) -> None:
    """The certificate names only 127.0.0.1: reaching it as ``localhost`` must fail."""
    url = https_server.client_url.replace("127.0.0.1", "localhost")
    with client_for(api, url, verify=pki.ca, cert=pki.client, timeout=5.0) as c:
        error = _tls_failure(c)
    assert "localhost" in str(error) or "hostname" in str(error).lower()


def test_plain_http_to_an_https_server_fails_clearly(api: str, https_server: EtcdServer) -> None:
    url = https_server.client_url.replace("https://", "http://")
    with client_for(api, url, timeout=5.0) as c, \
            pytest.raises(etcdmap.errors.EtcdMapError) as info:
        EtcdMap(c, "/tls").get("k")
    assert isinstance(info.value, (ClusterError, etcdmap.errors.InvalidResponseError))


def test_mapping_and_mirror_over_mutual_tls(
    api: str, mtls_server: EtcdServer, pki: PKI, etcd_prefix: str
) -> None:
    with client_for(api, mtls_server.client_url, verify=pki.ca, cert=pki.client,
                    timeout=5.0) as c:
        m = EtcdMap(c, etcd_prefix)
        m["k"] = "mutual"
        assert m["k"] == "mutual"
        m["cfg"] = {"k": "secure"}
        with m.mirror() as live:
            m["cfg"]["k"] = "changed"
            assert live.wait_for(timeout=10)
            assert live == {"cfg": {"k": "changed"}, "k": "mutual"}
        if isinstance(c, V3Client):
            assert c.backend.watch_mode == "websocket"  # TLS and client cert on the socket too


def test_client_certificate_as_one_file(
    api: str, mtls_server: EtcdServer, pki: PKI, tmp_path: Path, etcd_prefix: str
) -> None:
    bundle = tmp_path / "client-bundle.pem"
    bundle.write_bytes(Path(pki.client[0]).read_bytes() + Path(pki.client[1]).read_bytes())
    with client_for(api, mtls_server.client_url, verify=pki.ca, cert=str(bundle),
                    timeout=5.0) as c:
        EtcdMap(c, etcd_prefix)["k"] = "v"
        assert EtcdMap(c, etcd_prefix)["k"] == "v"


@pytest.mark.parametrize("which", ["no-cert", "foreign-cert"])
def test_client_certificate_is_required(
    api: str, mtls_server: EtcdServer, pki: PKI, other_pki: PKI, which: str
) -> None:
    cert = None if which == "no-cert" else other_pki.client
    with client_for(api, mtls_server.client_url, verify=pki.ca, cert=cert, timeout=5.0) as c:
        _tls_failure(c)


def _code_tokens() -> Iterator[tuple[Path, str]]:
    """Every package source file's code, comments and docstrings removed, one line each."""
    package = Path(etcdmap.__file__).parent
    for path in sorted(package.rglob("*.py")):
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        lines: dict[int, list[str]] = {}
        previous = tokenize.NEWLINE
        for tok in tokens:
            if tok.type == tokenize.COMMENT:
                continue
            if tok.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT,
                                                            tokenize.DEDENT, tokenize.NL):
                previous = tok.type
                continue  # a docstring or a bare string statement
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                tokenize.DEDENT):
                lines.setdefault(tok.start[0], []).append(tok.string)
            previous = tok.type
        for words in lines.values():
            yield path, "".join(words)


def test_verification_is_never_turned_off_silently() -> None:
    offenders = []
    cert_none = []
    for path, line in _code_tokens():
        if any(bad in line for bad in ("verify=False", "_create_unverified_context",
                                       "disable_warnings", "InsecureRequestWarning")):
            if path.name == "tls.py" and "InsecureRequestWarning" in line and (
                "import" in line or line.strip() == "InsecureRequestWarning,"
            ):
                continue  # etcdmap.http.tls *emits* the warning for verify=False, as requests
            offenders.append(f"{path.name}: {line}")
        if "CERT_NONE" in line or "check_hostname=False" in line:
            cert_none.append(path.name)
    assert not offenders, offenders
    # The only place that may disable verification is the explicit ``verify=False`` branch.
    assert set(cert_none) == {"tls.py"}, cert_none  # found there, and only there
    source = (Path(etcdmap.__file__).parent / "http" / "tls.py").read_text(encoding="utf-8")
    branch = source.split("if verify is False:", 1)[1].split("elif", 1)[0]
    assert "CERT_NONE" in branch and source.count("CERT_NONE") == 1
