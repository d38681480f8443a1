"""Every Python snippet of README.rst runs against a real etcd.

The ``.. code-block:: python`` blocks of one top-level section run together, in order, as one
script in a fresh interpreter (later blocks may use names of earlier ones), with the README's
``http://127.0.0.1:2379`` replaced by a throwaway server's URL — or by the URLs of a 3-member
cluster for sections that change membership. A block preceded by the comment ``.. skip-test``
is a fragment that cannot run alone (it is still checked to compile).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from etcdmap.testing import EtcdCluster, EtcdServer

README = Path(__file__).resolve().parents[2] / "README.rst"
README_URL = "http://127.0.0.1:2379"
# Sections that add and remove members need quorum to survive an unstarted member.
CLUSTER_SECTIONS = {"Cluster administration"}


def _sections(text: str) -> dict[str, list[tuple[bool, str]]]:
    """Top-level section title -> [(skip, code)] for its python code blocks, in order."""
    lines = text.splitlines()
    sections: dict[str, list[tuple[bool, str]]] = {}
    title = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and re.fullmatch(r"=+", lines[i + 1]) and line.strip():
            title = line.strip()
        if line.strip() == ".. code-block:: python":
            skip = any(prev.strip() == ".. skip-test" for prev in lines[max(i - 3, 0) : i])
            block: list[str] = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                block.append(lines[i])
                i += 1
            sections.setdefault(title, []).append((skip, textwrap.dedent("\n".join(block))))
            continue
        i += 1
    return sections


SECTIONS = _sections(README.read_text(encoding="utf-8"))


def test_readme_has_python_snippets() -> None:
    assert sum(len(blocks) for blocks in SECTIONS.values()) >= 8


@pytest.mark.parametrize("title", sorted(SECTIONS))
def test_readme_section_runs(title: str, tmp_path: Path) -> None:
    blocks = SECTIONS[title]
    for _, code in blocks:
        compile(code, f"README.rst [{title}]", "exec")
    script = "\n\n".join(code for skip, code in blocks if not skip)
    if not script.strip():
        pytest.skip("only fragments in this section")
    if title in CLUSTER_SECTIONS:
        with EtcdCluster(3, extra_args=["--strict-reconfig-check=false"]) as cluster:
            _run(script, cluster.client_urls, tmp_path)
    else:
        with EtcdServer() as server:
            _run(script, server.client_urls, tmp_path)


def _run(script: str, urls: list[str], tmp_path: Path) -> None:
    source = script.replace(f'["{README_URL}"]', repr(list(urls))).replace(README_URL, urls[0])
    path = tmp_path / "snippet.py"
    path.write_text(source, encoding="utf-8")
    # The checkout under test, not whatever etcdmap the interpreter has installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(README.parent), os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=False,
        cwd=tmp_path, env=env,
    )
    assert proc.returncode == 0, f"{source}\n--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}"
