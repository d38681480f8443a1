"""The pytest plugin (``-p compat_upstream_plugin``) that runs an original's own test suite
against etcdmap's drop-in, with only the import switched.

Loaded in a separate pytest process by ``test_compat_upstream.py``, it:

- registers the drop-in under the original's name (``etcdmap.compat.etcd3.install()`` /
  ``etcdmap.compat.etcd.install()``), so ``import etcd3`` / ``import etcd`` in the unmodified
  test files import the drop-in;
- plays the part of the originals' test environments with :mod:`etcdmap.testing`: for
  python-etcd3 what ``pifpaf run etcd --cluster`` gave it (3 members named ``pifpaf0..2``,
  the first on ``localhost:2379``, ``PYTHON_ETCD_HTTP_URL``, etcd 3.5's ``etcdctl`` on
  ``PATH``); for python-etcd its ``helpers`` module (:mod:`compat_upstream_helpers`);
- provides ``nose.tools.nottest`` (python-etcd's integration tests import it; nose does not
  install on current Pythons) when nose is missing;
- deselects the tests listed in :mod:`compat_upstream_deselect`, each with its reason, and
  writes a JSON report (outcomes, deselections) to ``$ETCDMAP_UPSTREAM_REPORT``.

Environment: ``ETCDMAP_UPSTREAM_SUITE`` (``etcd3`` or ``python-etcd``),
``ETCDMAP_UPSTREAM_ROOT`` (the extraction root), ``ETCDMAP_UPSTREAM_REPORT``;
``ETCDMAP_UPSTREAM_ORIGINAL=1`` runs the installed original instead of the drop-in.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import types
from pathlib import Path
from typing import Any

import compat_upstream_deselect
import pytest

from etcdmap.testing import EtcdServer, find_etcd_binary, free_ports

SUITE = os.environ.get("ETCDMAP_UPSTREAM_SUITE", "")
ROOT = Path(os.environ.get("ETCDMAP_UPSTREAM_ROOT", "."))
ORIGINAL = os.environ.get("ETCDMAP_UPSTREAM_ORIGINAL") == "1"
"""Run against the installed original instead (to show which failures are etcd 3.5's)."""
_servers: list[EtcdServer] = []
_report: dict[str, Any] = {"outcomes": {}, "deselected": {}}


def _nose_shim() -> None:
    if importlib.util.find_spec("nose") is not None:
        return

    def nottest(func: Any) -> Any:
        func.__test__ = False
        return func

    nose = types.ModuleType("nose")
    tools = types.ModuleType("nose.tools")
    tools.nottest = nottest  # type: ignore[attr-defined]
    nose.tools = tools  # type: ignore[attr-defined]
    sys.modules.update({"nose": nose, "nose.tools": tools})


def _python_etcd() -> None:
    if not ORIGINAL:
        import etcdmap.compat.etcd as drop_in  # noqa: PLC0415

        drop_in.install()
    tests = ROOT / "src" / "etcd" / "tests"
    spec = importlib.util.spec_from_file_location(
        "etcd.tests", tests / "__init__.py", submodule_search_locations=[str(tests)])
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["etcd.tests"] = package
    spec.loader.exec_module(package)
    import compat_upstream_helpers  # noqa: PLC0415

    sys.modules["etcd.tests.integration.helpers"] = compat_upstream_helpers
    bindir = os.path.dirname(find_etcd_binary())
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def _etcd3() -> None:
    if not ORIGINAL:
        import etcdmap.compat.etcd3 as drop_in  # noqa: PLC0415

        drop_in.install()
    binary = find_etcd_binary()
    ports = free_ports(5)
    clients, peers = [2379, ports[0], ports[1]], ports[2:]
    names = [f"pifpaf{i}" for i in range(3)]
    initial = ",".join(f"{n}=http://127.0.0.1:{p}" for n, p in zip(names, peers, strict=False))
    token = f"pifpaf-{os.getpid()}"
    for name, client, peer in zip(names, clients, peers, strict=False):
        # python-etcd3's tests find members 1 and 2 with `pgrep -f -- "--name pifpaf[12]"`
        # (pifpaf's spelling): the flag is repeated in that form (the last one wins).
        server = EtcdServer(name=name, binary=binary, client_port=client, peer_port=peer,
                            initial_cluster=initial, cluster_token=token,
                            extra_args=["--name", name])
        _servers.append(server)
        server.start(wait=False)
    for server in _servers:
        server.wait_ready()
    os.environ.update({
        "PYTHON_ETCD_HTTP_URL": _servers[0].client_url,
        "TEST_ETCD_VERSION": "v3.5.1",
        "ETCDCTL_API": "3",
        "PATH": os.path.dirname(binary) + os.pathsep + os.environ.get("PATH", ""),
    })


def _hypothesis() -> None:
    """python-etcd3 pinned hypothesis 4.56, which had no health check against function-scoped
    fixtures in ``@given`` tests; its test module re-registers the "default" profile on top
    of the one loaded here, so the suppression holds. 25 examples per property instead of
    100: each example runs etcdctl, and CI time is shared."""
    from hypothesis import HealthCheck, settings  # noqa: PLC0415

    settings.register_profile(
        "etcdmap-upstream", max_examples=25,
        suppress_health_check=[HealthCheck.function_scoped_fixture])
    settings.load_profile("etcdmap-upstream")


def pytest_configure(config: pytest.Config) -> None:
    """Install the drop-in and start the original's test environment."""
    _nose_shim()
    _hypothesis()
    if SUITE == "etcd3":
        _etcd3()
    elif SUITE == "python-etcd":
        _python_etcd()
    else:
        raise pytest.UsageError(f"ETCDMAP_UPSTREAM_SUITE must be etcd3 or python-etcd: {SUITE!r}")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the servers (before etcdmap.testing's check for leftover etcd processes)."""
    for server in _servers:
        server.close()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Write the report."""
    path = os.environ.get("ETCDMAP_UPSTREAM_REPORT")
    if path:
        Path(path).write_text(json.dumps(_report, indent=1, sort_keys=True))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the listed tests, remembering why."""
    keep, drop = [], []
    for item in items:
        path, _, name = item.nodeid.partition("::")
        reason = compat_upstream_deselect.reason_for(SUITE, Path(path).name, name.split("[", 1)[0])
        if reason is not None:
            drop.append(item)
            _report["deselected"][item.nodeid] = reason
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> Any:
    """Leave out a listed nose-style yield test (pytest refuses to collect those at all)."""
    if not inspect.isgeneratorfunction(obj) or not isinstance(collector, pytest.Class):
        return None
    reason = compat_upstream_deselect.reason_for(SUITE, collector.path.name,
                                                 f"{collector.name}::{name}")
    if reason is None:
        return None
    _report["deselected"][f"{collector.nodeid}::{name}"] = reason
    return []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record each test's outcome (a failure in setup or teardown counts)."""
    outcomes = _report["outcomes"]
    first_or_worse = outcomes.get(report.nodeid) in (None, "passed")
    if (report.when == "call" or report.outcome != "passed") and first_or_worse:
        outcomes[report.nodeid] = report.outcome
