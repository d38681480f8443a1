"""Every script in examples/ runs to completion (exit status 0) against the shared server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _env(**extra: str) -> dict[str, str]:
    """The environment of a script: the checkout under test first on ``PYTHONPATH`` (not
    whatever etcdmap the interpreter has installed)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def test_examples_exist() -> None:
    assert any(p.name == "quickstart.py" for p in EXAMPLES)


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script: Path, etcd_url: str) -> None:
    env = _env(ETCDMAP_ENDPOINTS=etcd_url)
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=script.parent,
        check=False,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def test_quickstart_starts_its_own_server() -> None:
    script = next(p for p in EXAMPLES if p.name == "quickstart.py")
    env = {k: v for k, v in _env().items() if k != "ETCDMAP_ENDPOINTS"}
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "started a throwaway etcd at http://127.0.0.1:" in proc.stdout
    assert "'hello, etcd'" in proc.stdout
