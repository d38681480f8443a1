"""Every ``.. code-block:: python`` of README.rst runs against a real etcd, twice in a row.

Each block is a script of its own: it runs in a fresh interpreter, then once more in the same
interpreter with fresh globals, so every block must be **self-contained** (its own imports and
key path) and **rerunnable** (it cleans up after itself, or its second run finds what it left
and still passes). The
README's ``http://127.0.0.1:2379`` is replaced by the server's URL (a list
``["http://127.0.0.1:2379"]`` by all the URLs of a cluster). The server is the one named by
``$ETCDMAP_ENDPOINTS`` (its first URL), else the test session's ``etcd_server``. Blocks are
found by themselves: a section added to the README is tested with no change here.

The convention for a block that cannot run that way: an RST comment on one of the three lines
above its ``.. code-block:: python`` line, saying why::

    .. readme-test: cluster -- adds and removes members: needs quorum to spare
    .. readme-test: own-server -- switches auth on: never on a shared server
    .. readme-test: skip -- a fragment of the block above

``cluster`` runs the block on a 3-member test cluster (started once per session),
``own-server`` on a throwaway single server of its own, ``skip`` does not run it (it is still
compiled). Use ``skip`` only when no server can run the block; say in the README why.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from etcdmap.testing import EtcdCluster, EtcdServer

README = Path(__file__).resolve().parents[2] / "README.rst"
README_URL = "http://127.0.0.1:2379"
MODES = ("server", "cluster", "own-server", "skip")
_MARK = re.compile(r"\.\. readme-test: ([a-z-]+)(?:\s.*)?")


@dataclass(frozen=True)
class Block:
    """One python block: where it starts, how it runs, its code."""

    line: int
    section: str
    mode: str
    code: str

    @property
    def name(self) -> str:
        return f"L{self.line}-{re.sub(r'[^A-Za-z0-9]+', '-', self.section).strip('-')}"


def python_blocks(text: str) -> list[Block]:
    """Every ``.. code-block:: python`` of the text, with its section and its mode."""
    lines = text.splitlines()
    blocks: list[Block] = []
    section = ""
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].strip() and re.fullmatch(r"[=~^-]{3,}", lines[i + 1]):
            section = lines[i].strip()
        if lines[i].strip() == ".. code-block:: python":
            marks = [m.group(1) for prev in lines[max(i - 3, 0):i]
                     if (m := _MARK.fullmatch(prev.strip()))]
            mode = marks[-1] if marks else "server"
            start = i + 1
            i += 1
            body: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                body.append(lines[i])
                i += 1
            blocks.append(Block(start, section, mode, textwrap.dedent("\n".join(body)).strip()))
            continue
        i += 1
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_blocks_and_only_known_marks() -> None:
    assert len(BLOCKS) >= 15
    unknown = [(b.line, b.mode) for b in BLOCKS if b.mode not in MODES]
    assert unknown == [], f"unknown '.. readme-test:' modes (use one of {MODES[1:]})"


def test_the_convention_is_read() -> None:
    text = "\n".join([
        "Title", "=====", "", ".. code-block:: python", "", "    a = 1", "",
        "Sub", "~~~", "", ".. readme-test: cluster -- needs quorum", "",
        ".. code-block:: python", "", "    b = 2", "    if b:", "        c = 3", "",
        ".. readme-test: skip", ".. code-block:: python", "", "    d", "", "text",
    ])
    assert [(b.section, b.mode, b.code) for b in python_blocks(text)] == [
        ("Title", "server", "a = 1"), ("Sub", "cluster", "b = 2\nif b:\n    c = 3"),
        ("Sub", "skip", "d")]


@pytest.fixture(scope="module")
def cluster() -> Iterator[EtcdCluster]:
    with EtcdCluster(3, extra_args=["--strict-reconfig-check=false"]) as c:
        yield c


@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
def test_readme_block_runs_twice(block: Block, tmp_path: Path,
                                 request: pytest.FixtureRequest) -> None:
    compile(block.code, f"README.rst:{block.line}", "exec")
    if block.mode == "skip":
        pytest.skip("marked '.. readme-test: skip' in README.rst")
    if block.mode == "cluster":
        urls = list(request.getfixturevalue("cluster").client_urls)
        _run_twice(block, urls, tmp_path)
    elif block.mode == "own-server":
        with EtcdServer() as server:
            _run_twice(block, list(server.client_urls), tmp_path)
    else:
        given = os.environ.get("ETCDMAP_ENDPOINTS", "")
        urls = given.split(",")[:1] if given else [request.getfixturevalue("etcd_url")]
        _run_twice(block, urls, tmp_path)


_TWICE = """\
import sys
import time
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    code = compile(f.read(), path, "exec")
pause = float(sys.argv[2])
for run in ("first", "second"):
    print(f"--- {run} run", flush=True)
    exec(code, {"__name__": "__main__", "__file__": path})
    time.sleep(pause)
"""


def _run_twice(block: Block, urls: list[str], tmp_path: Path) -> None:
    """Run the block, then run it again in the same fresh interpreter (one start-up: the
    second run finds what the first left in etcd, which is what rerunning is about).

    A cluster block waits a second between its runs: etcd derives a new member's ID from its
    peer URLs and the current second, and refuses an ID it removed ("membership: ID removed",
    etcd-io/etcd release-3.5:server/etcdserver/api/membership/member.go, ``NewMember``), so
    a member removed in the first run cannot be added again within the same second.
    """
    source = block.code.replace(f'["{README_URL}"]', repr(urls)).replace(README_URL, urls[0])
    path = tmp_path / f"readme_line_{block.line}.py"
    path.write_text(source + "\n", encoding="utf-8")
    # The checkout under test, not whatever etcdmap the interpreter has installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(README.parent), os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run(
        [sys.executable, "-c", _TWICE, str(path), "1.1" if block.mode == "cluster" else "0"],
        capture_output=True, text=True, timeout=180,
        check=False, cwd=tmp_path, env=env,
    )
    assert proc.returncode == 0, (
        f"README.rst line {block.line} ({block.section}):\n{source}\n"
        f"--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}")
    assert "--- second run" in proc.stdout
