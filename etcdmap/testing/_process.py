"""The process registry (no orphans), PR_SET_PDEATHSIG, free loopback ports, probe sessions,
and the OS-level helpers of a member's process (its threads' stop states, handing its work
directory to another user).

Every :class:`~etcdmap.testing.EtcdServer` registers itself here when created; the registry is
closed at interpreter exit (``atexit``, registered with the first server, never at import) and
by the pytest plugin at the end of a session.

Thread-safety: the registry and the set of handed-out ports are guarded by one lock.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import requests

__all__ = ["free_ports", "live_servers"]


class EtcdProcess(Protocol):
    """What the registry needs of a server (``EtcdServer`` has it); keeps this module below it."""

    @property
    def is_running(self) -> bool: ...

    @property
    def pid(self) -> int | None: ...

    def close(self) -> None: ...

_LOCK = threading.Lock()
_OPEN: set[EtcdProcess] = set()
_HANDED_OUT: set[int] = set()
_ATEXIT_DONE = False
_PR_SET_PDEATHSIG = 1


def live_servers() -> list[EtcdProcess]:
    """The servers whose etcd process this interpreter started and is still running."""
    with _LOCK:
        return [s for s in _OPEN if s.is_running]


def _register(server: EtcdProcess) -> None:
    global _ATEXIT_DONE  # noqa: PLW0603 - the one lazily set flag of the registry
    with _LOCK:
        _OPEN.add(server)
        if not _ATEXIT_DONE:
            atexit.register(_close_all)
            _ATEXIT_DONE = True


def _unregister(server: EtcdProcess) -> None:
    with _LOCK:
        _OPEN.discard(server)


def _close_all() -> list[int]:
    """Close every open server; returns the pids that were still running."""
    with _LOCK:
        servers = list(_OPEN)
    alive = [s.pid for s in servers if s.is_running and s.pid is not None]
    for server in servers:
        server.close()
    return [p for p in alive if p is not None]


@functools.cache
def _pdeathsig_preexec() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:  # runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return preexec


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports, never handed out before by this process: for
    servers configured by hand (``EtcdServer(client_port=..., peer_port=...)``).

    A port is free when chosen; another process may still take it before etcd binds it
    (:class:`EtcdServer` retries its own choices; a hand-made port list is not retried).

    :param count: how many ports.
    :returns: the port numbers.
    """
    socks: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            with _LOCK:
                if port in _HANDED_OUT:
                    continue
                _HANDED_OUT.add(port)
            ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never send loopback probes through a proxy from the environment
    return session


def _wait_task_states(pid: int | None, *, stopped: bool, timeout: float = 5.0) -> None:
    """Wait until every thread of process ``pid`` is stopped (``stopped``) or none is, read
    from ``/proc/<pid>/task/*/stat`` (Linux; elsewhere, or without a pid, return at once): a
    signal is asynchronous, and a thread still running could answer one more request."""
    task_dir = Path(f"/proc/{pid}/task")
    if pid is None or not task_dir.is_dir():
        return  # not Linux: nothing to observe
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for task in task_dir.iterdir():
            with contextlib.suppress(OSError, IndexError):
                stat = (task / "stat").read_text(encoding="ascii", errors="replace")
                states.append(stat.rsplit(")", 1)[1].split()[0])
        if states and all((st in "tT") == stopped for st in states):
            return
        time.sleep(0.002)  # poll interval


def _hand_over(path: str, user: str | int) -> None:
    """Give ``path`` to ``user`` (its primary group too), so that etcd run as it can write."""
    import pwd  # noqa: PLC0415 - POSIX only, needed only with ``user=``

    entry = pwd.getpwuid(user) if isinstance(user, int) else pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
