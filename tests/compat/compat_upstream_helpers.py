"""Stand-in for python-etcd's ``etcd.tests.integration.helpers``: its integration tests start
real etcd 3.5 members through :mod:`etcdmap.testing` instead of its own helper.

python-etcd's helper ran the ``etcd`` on ``PATH`` with ``time.sleep(2)`` for readiness, without
``--enable-v2`` (which etcd 3.4+ needs for the v2 API), and made certificates with pyOpenSSL
(SHA-1 signatures). This class has the same interface (ports ``port_range_start + slot``,
``internal_port_range_start + slot``, members ``test-node-<slot>``, python-etcd's TLS flags)
on :class:`etcdmap.testing.EtcdServer`: v2 enabled, a readiness probe instead of sleeps.
:class:`TestingCA` makes the same files with ``cryptography`` (SHA-256).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import uuid
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from etcdmap.testing import EtcdServer

__all__ = ["EtcdProcessHelper", "TestingCA"]


class _Server(EtcdServer):
    """An :class:`EtcdServer` whose readiness probe may verify TLS with a CA the server itself
    is not given (etcd 3.5's ``--trusted-ca-file`` would require client certificates)."""

    def __init__(self, *, probe_ca: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self._probe_ca = probe_ca

    @property
    def verify(self) -> bool | str:
        """The CA the probe verifies the server with."""
        return self._probe_ca or super().verify


class EtcdProcessHelper:
    """python-etcd's process helper, on :class:`etcdmap.testing.EtcdServer`."""

    def __init__(self, base_directory: str, proc_name: str = "etcd",
                 port_range_start: int = 4001, internal_port_range_start: int = 7001,
                 cluster: bool = False, tls: bool = False) -> None:
        self.base_directory = base_directory
        self.port_range_start = port_range_start
        self.internal_port_range_start = internal_port_range_start
        self.processes: dict[int, _Server] = {}
        self.cluster = cluster
        self.tls = tls
        self._initial = ""
        self._token = ""
        self._tls: dict[str, Any] = {}

    def _peer(self, slot: int) -> str:
        return f"http://127.0.0.1:{self.internal_port_range_start + slot}"

    def run(self, number: int = 1, proc_args: list[str] | None = None) -> None:
        """Start ``number`` members forming one new cluster; wait until it has a leader."""
        self._initial = ",".join(f"test-node-{s}={self._peer(s)}" for s in range(number))
        self._token = f"python-etcd-{uuid.uuid4().hex[:8]}"
        self._tls = _tls_options(proc_args or [], self.base_directory)
        for slot in range(number):
            self.add_one(slot, proc_args, wait=False)
        for server in self.processes.values():
            server.wait_ready()

    def add_one(self, slot: int, proc_args: list[str] | None = None, *, wait: bool = True) -> None:
        """Start member ``slot``."""
        server = _Server(
            name=f"test-node-{slot}", client_port=self.port_range_start + slot,
            peer_port=self.internal_port_range_start + slot,
            initial_cluster=self._initial or f"test-node-{slot}={self._peer(slot)}",
            cluster_token=self._token or None, **self._tls)
        self.processes[slot] = server
        server.start(wait=wait)

    def kill_one(self, slot: int) -> None:
        """SIGKILL member ``slot`` and remove its data."""
        server = self.processes.pop(slot)
        server.kill()
        server.close()

    def stop(self) -> None:
        """Kill every member."""
        for slot in list(self.processes):
            self.kill_one(slot)


def _tls_options(proc_args: list[str], base_directory: str) -> dict[str, Any]:
    """python-etcd's etcd 2 TLS flags as :class:`EtcdServer` options."""
    flags = dict(arg.lstrip("-").split("=", 1) for arg in proc_args if "=" in arg)
    out: dict[str, Any] = {}
    if "cert-file" in flags:
        out.update(cert_file=flags["cert-file"], key_file=flags["key-file"])
        # The readiness probe verifies the server with the tests' CA (ca.crt in their directory).
        out["probe_ca"] = os.path.join(base_directory, "ca.crt")
    if "ca-file" in flags:  # etcd 2's flag: verify client certificates with this CA
        out.update(trusted_ca_file=flags["ca-file"], client_cert_auth=True, probe_ca=None)
    return out


def _name(cn: str | None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Organization")]
    if cn:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _write(cert: x509.Certificate, key: rsa.RSAPrivateKey, cert_path: str, key_path: str) -> None:
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))


class TestingCA:
    """python-etcd's certificate helper, with ``cryptography``."""

    __test__ = False

    @classmethod
    def create_test_ca_certificate(cls, cert_path: str, key_path: str,
                                   cn: str | None = None) -> tuple[Any, Any]:
        """A self-signed CA written to ``cert_path``/``key_path``; returns ``(cert, key)``."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.datetime.now(datetime.timezone.utc)
        name = _name(cn or f"CA {uuid.uuid4().hex[:8]}")
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        _write(cert, key, cert_path, key_path)
        return cert, key

    @classmethod
    def create_test_certificate(cls, ca: Any, ca_key: Any, cert_path: str, key_path: str,
                                cn: str | None = None) -> None:
        """A certificate for 127.0.0.1 (server and client use) signed by ``ca``."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
                                                      ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        _write(cert, key, cert_path, key_path)
