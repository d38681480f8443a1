"""Helpers of the lock tests: run :mod:`tests.integration.lockworker` processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])


def worker(*args: str) -> subprocess.Popen[str]:
    """Start a lock worker process (stdout piped, line-buffered text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.lockworker", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        env={**os.environ, "PYTHONPATH": ROOT},
    )


def first_line(proc: subprocess.Popen[str]) -> str:
    """The worker's next line of output (``""`` if it ended first)."""
    assert proc.stdout is not None
    return proc.stdout.readline().strip()


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    """Wait for the worker; its exit code, the rest of stdout and stderr."""
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def count_in_processes(api: str, url: str, path: str, name: str, processes: int,
                       each: int) -> list[tuple[int, str, str]]:
    """Run ``processes`` counting workers at once; their results."""
    procs = [worker("count", api, url, path, name, "10", str(each)) for _ in range(processes)]
    return [finish(p) for p in procs]
