"""The ``etcdmap`` pytest plugin (fixtures and the leak check) and :func:`unique_prefix`.

pytest is optional: without it this module defines only :func:`unique_prefix`. The plugin is
registered through the ``pytest11`` entry point ``etcdmap = etcdmap.testing``; that package
re-exports the fixtures and the hook defined here, which is where pytest finds them.

Thread-safety: the fixtures run in pytest's thread; :func:`unique_prefix` is thread-safe.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator

from etcdmap.testing._cluster import EtcdCluster
from etcdmap.testing._process import _close_all
from etcdmap.testing._server import EtcdServer

__all__ = ["unique_prefix"]


def unique_prefix(test_name: str) -> str:
    """A fresh key prefix ``/t-<name>-<8 hex>``; the name is cut to [A-Za-z0-9_-], 80 chars."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", test_name)[:80]
    return f"/t-{name}-{uuid.uuid4().hex[:8]}"


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is optional (the "test" extra)
    _HAVE_PYTEST = False
else:
    _HAVE_PYTEST = True

if _HAVE_PYTEST:

    @pytest.fixture(scope="session")
    def etcd_server() -> Iterator[EtcdServer]:
        """One etcd server (v2 enabled) shared by the whole test session."""
        with EtcdServer() as server:
            yield server

    @pytest.fixture(scope="session")
    def etcd_url(etcd_server: EtcdServer) -> str:
        """The client URL of the shared ``etcd_server``."""
        return etcd_server.client_url

    @pytest.fixture(scope="module")
    def etcd_cluster() -> Iterator[EtcdCluster]:
        """A 3-member cluster per test module, healthy again at the start of each test."""
        with EtcdCluster(3) as cluster:
            yield cluster

    @pytest.fixture(autouse=True)
    def _etcdmap_heal(request: pytest.FixtureRequest) -> None:
        """Undo what an earlier test did to the shared server or the module's cluster."""
        names = request.fixturenames
        if "etcd_cluster" in names:
            heal = getattr(request.getfixturevalue("etcd_cluster"), "ensure_healthy", None)
            if heal is not None:
                heal()
        if "etcd_server" in names:
            server = request.getfixturevalue("etcd_server")
            if isinstance(server, EtcdServer) and (server.is_stopped or not server.is_running):
                server.ensure_healthy()

    @pytest.fixture
    def etcd_prefix(request: pytest.FixtureRequest) -> str:
        """A key prefix unique to this test: ``/t-<sanitized test name>-<8 hex>``."""
        return unique_prefix(request.node.name)

    def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
        """Fail the session if an etcd process started by this module is still running."""
        leaked = _close_all()
        if leaked:
            message = f"etcdmap.testing: etcd processes left running (now killed): {leaked}"
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line("\n" + message, red=True)
            else:
                print(message, file=sys.stderr)
            if session.exitstatus == 0:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
