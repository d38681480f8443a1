"""The originals' own test suites, run against etcdmap's drop-ins with only the import switched.

python-etcd3 0.12.0's ``tests/test_etcd3.py`` and python-etcd 0.4.5's ``src/etcd/tests/`` are
taken from the released sdists (:mod:`compat_upstream_sdists`: downloaded with pip into a
cache, SHA-256 checked, never committed) and run unmodified in a separate pytest process with
:mod:`compat_upstream_plugin`, which registers the drop-in under the original's name and
gives the suites the real etcd 3.5 servers they expect (:mod:`etcdmap.testing`). The tests
listed in :mod:`compat_upstream_deselect` are left out, each with its reason; every other
test must pass. Both suites run at the same time.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import compat_upstream_deselect
import compat_upstream_sdists
import pytest

HERE = Path(__file__).resolve().parent
SUITES = {"etcd3": "tests", "python-etcd": "src"}
pytestmark = pytest.mark.slow


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start(suite: str, root: Path) -> subprocess.Popen[str]:
    compat_upstream_sdists.extract_tests(compat_upstream_sdists.SDISTS[suite], root)
    if suite == "python-etcd":  # makes pytest name the modules etcd.tests.*, as upstream
        (root / "src" / "etcd" / "__init__.py").write_text("")
    env = {**os.environ, "ETCDMAP_UPSTREAM_SUITE": suite, "ETCDMAP_UPSTREAM_ROOT": str(root),
           "ETCDMAP_UPSTREAM_REPORT": str(root / "report.json"), "PYTHONPATH": str(HERE)}
    env.pop("ETCDMAP_UPSTREAM_ORIGINAL", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "compat_upstream_plugin", "-p",
           "no:cacheprovider", "--timeout=120", "-q", "-rfE", SUITES[suite]]
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both suites, started together; each value is ``(process, root)`` or a skip reason."""
    out: dict[str, Any] = {}
    for suite in SUITES:
        if suite == "etcd3" and not _port_free(2379):
            out[suite] = "port 2379 is taken: python-etcd3's tests use etcd3.client()'s default"
            continue
        root = tmp_path_factory.mktemp(suite)
        out[suite] = (_start(suite, root), root)
    return out


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_original_suite_passes_on_the_drop_in(suite: str, runs: dict[str, Any]) -> None:
    run = runs[suite]
    if isinstance(run, str):
        pytest.skip(run)
    process, root = run
    output, _ = process.communicate(timeout=900)
    report = json.loads((root / "report.json").read_text())
    outcomes: dict[str, str] = report["outcomes"]
    failed = sorted(k for k, v in outcomes.items() if v == "failed")
    passed = sorted(k for k, v in outcomes.items() if v == "passed")
    print(f"{suite}: {len(passed)} passed, {len(failed)} failed, "
          f"{len(report['deselected'])} deselected")
    for nodeid, reason in sorted(report["deselected"].items()):
        print(f"  deselected {nodeid}: {reason}")
    assert process.returncode == 0, output[-6000:]
    assert not failed, output[-6000:]
    assert len(passed) >= {"etcd3": 60, "python-etcd": 55}[suite], output[-3000:]
    names = set()
    for nodeid in report["deselected"]:
        path, _, name = nodeid.split("[", 1)[0].partition("::")
        names.update({name, f"{Path(path).name}::{name}"})
    for key in compat_upstream_deselect.DESELECTED[suite]:
        if key.endswith("::*"):
            assert any(n.startswith(key[:-1]) for n in names), f"stale entry {key}"
        else:
            assert key in names, f"stale deselect entry {key}: no such test"
