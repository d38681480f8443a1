"""One etcd member: :class:`EtcdServer` (start, readiness probe, faults, clean-up).

Thread-safety: drive one :class:`EtcdServer` object from one thread at a time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import requests

from etcdmap._closing import Closing
from etcdmap.testing._binary import etcd_version, find_etcd_binary
from etcdmap.testing._errors import EtcdStartError
from etcdmap.testing._process import (
    _hand_over,
    _pdeathsig_preexec,
    _register,
    _session,
    _unregister,
    _wait_task_states,
    free_ports,
)

__all__ = ["EtcdServer"]

_START_TIMEOUT = 30.0
_PORT_RETRIES = 3
_LOG_TAIL_LINES = 40


class EtcdServer(Closing):
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
    :param user: run etcd as this user (name or uid; needs root), e.g. so that firewall
        rules can tell its outgoing connections apart (``meta skuid``); its work directory is
        handed to that user.
    :param host: the loopback address it listens on (``127.0.0.2`` etc. give each member of a
        cluster its own address, e.g. for firewall rules that cut one member off).

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
        host: str = "127.0.0.1",
        user: str | int | None = None,
    ) -> None:
        self.host = host
        self.user = user
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
        ports = free_ports(2) if client_port is None or peer_port is None else []
        self.client_port = client_port or ports[0]
        self.peer_port = peer_port or ports[1]
        self.workdir = tempfile.mkdtemp(prefix=f"etcdmap-{self.name}-")
        self._own_data_dir = data_dir is None
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "etcd.log")
        if user is not None:
            _hand_over(self.workdir, user)
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = False
        self._closed = False
        self.started_once = False
        _register(self)  # from here on close() (or interpreter exit) removes the work dir

    # -- addresses ---------------------------------------------------------------------
    @property
    def client_url(self) -> str:
        """The client URL, e.g. ``http://127.0.0.1:41234``."""
        return f"{self.scheme}://{self.host}:{self.client_port}"

    @property
    def client_urls(self) -> list[str]:
        """``[client_url]`` (what :class:`etcdmap.v2.client.Client` takes)."""
        return [self.client_url]

    @property
    def peer_url(self) -> str:
        """The peer URL (always plain http), e.g. ``http://127.0.0.1:41235``."""
        return f"http://{self.host}:{self.peer_port}"

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
                user=self.user,
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
        self.client_port, self.peer_port = free_ports(2)

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
        _wait_task_states(self.pid, stopped=True)

    def cont(self) -> None:
        """SIGCONT: resume a stopped member (returns once no thread is stopped any more)."""
        self._signal(signal.SIGCONT)
        self._stopped = False
        _wait_task_states(self.pid, stopped=False)

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

    def __repr__(self) -> str:
        state = "stopped" if self.is_stopped else "running" if self.is_running else "down"
        return f"<EtcdServer {self.name} {self.client_url} {state}>"
