"""Fixtures shared by the integration tests (the etcd fixtures come from ``etcdmap.testing``).

A module that needs a differently configured client (a longer timeout, a cluster) defines its
own ``client`` fixture, which takes precedence over this one.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from etcdmap.cli.app import main
from etcdmap.http.transport import disable_curl_debug
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client
from etcdmap.v3 import Client as V3Client


@dataclass
class Run:
    """What one ``etcdmap`` run gave: exit code, stdout and stderr."""

    code: int
    out: str
    err: str


CLI = Callable[..., Run]


@pytest.fixture
def client(etcd_url: str) -> Iterator[Client]:
    """A default :class:`Client` on the shared ``etcd_server``, closed after the test."""
    with Client(etcd_url) as c:
        yield c


@pytest.fixture
def v3(etcd_url: str) -> Iterator[V3Client]:
    """An ``etcdmap.v3.Client`` on the shared ``etcd_server``, closed after the test."""
    with V3Client(etcd_url) as c:
        yield c


@pytest.fixture
def m(client: Client, etcd_prefix: str) -> EtcdMap:
    """An :class:`EtcdMap` on the test's own prefix, through ``client``."""
    return EtcdMap(client, etcd_prefix)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CLI:
    """``run_cli(url, *args, stdin=...)``: run ``etcdmap --endpoints url [--api v2] ARGS``
    in-process.

    The CLI tests check the ``etcdctl`` v2 work-alike, so a run is on the v2 API unless ``ARGS``
    name an ``--api`` themselves: ``--api auto``, the command's default, chooses v3 on the test
    server (etcd 3.5 serves v3; v2 is there because the harness enables it).
    ``stdin`` (default: empty) is the command's standard input; stdout and stderr are captured
    into the returned :class:`Run`. A ``--debug`` run's curl logging is switched off afterwards.
    """

    def run(url: str, *args: str, stdin: str | None = None) -> Run:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        capsys.readouterr()
        api = [] if "--api" in args else ["--api", "v2"]
        try:
            code = main(["--endpoints", url, *api, *args])
        finally:
            disable_curl_debug()
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


@pytest.fixture
def v2_command_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``etcdmap`` with the v2 command set (``ETCDMAP_API=v2``), whatever ``--api auto``
    would choose: for the tests of the etcdctl v2 work-alike."""
    monkeypatch.setenv("ETCDMAP_API", "v2")


@pytest.fixture
def cli(run_cli: CLI, etcd_url: str) -> CLI:
    """Run ``etcdmap --endpoints <shared server> ARGS`` in-process (``endpoints=`` to aim elsewhere)."""

    def run(*args: str, stdin: str | None = None, endpoints: str = etcd_url) -> Run:
        return run_cli(endpoints, *args, stdin=stdin)

    return run


@pytest.fixture
def etcdctl() -> Callable[..., Run]:
    """``etcdctl(url, *args)``: run Debian's ``etcdctl`` with ``ETCDCTL_API=2`` on ``url``.

    Tests using it skip themselves when ``/usr/bin/etcdctl`` is missing.
    """

    def run(url: str, *args: str) -> Run:
        proc = subprocess.run(
            [str(shutil.which("etcdctl", path="/usr/bin")), "--endpoints", url, *args],
            env={**os.environ, "ETCDCTL_API": "2"},
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run
