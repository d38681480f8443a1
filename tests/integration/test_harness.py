"""Smoke tests of etcdmap.testing against real etcd: servers, clusters, faults, cleanup."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from etcdmap.testing import EtcdCluster, EtcdServer, EtcdStartError, etcd_version, live_servers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_server_answers_version_and_v2_keys(
    etcd_server: EtcdServer, etcd_url: str, etcd_prefix: str
) -> None:
    assert etcd_url == etcd_server.client_url
    assert etcd_url.startswith("http://127.0.0.1:")
    version = requests.get(f"{etcd_url}/version", timeout=5).json()
    assert version["etcdserver"] == ".".join(map(str, etcd_version()))
    put = requests.put(f"{etcd_url}/v2/keys{etcd_prefix}/k", data={"value": "v"}, timeout=5)
    assert put.status_code == 201
    got = requests.get(f"{etcd_url}/v2/keys{etcd_prefix}/k", timeout=5).json()
    assert got["node"]["value"] == "v"


def test_prefixes_are_unique_per_test(etcd_prefix: str) -> None:
    assert etcd_prefix.startswith("/t-test_prefixes_are_unique_per_test-")


def test_v2_disabled_server_returns_404() -> None:
    with EtcdServer(enable_v2=False) as server:
        assert requests.get(f"{server.client_url}/version", timeout=5).status_code == 200
        assert requests.get(f"{server.client_url}/v2/keys/", timeout=5).status_code == 404


def test_bad_flag_raises_with_log_tail() -> None:
    server = EtcdServer(extra_args=["--no-such-flag-etcdmap"])
    try:
        with pytest.raises(EtcdStartError) as info:
            server.start(timeout=20)
        assert "no-such-flag-etcdmap" in str(info.value)
        assert "exited" in str(info.value)
        assert not server.is_running
    finally:
        server.close()


def test_close_leaves_no_process_and_no_directory() -> None:
    server = EtcdServer().start()
    pid, workdir = server.pid, server.workdir
    assert pid is not None
    assert _alive(pid)
    assert server in live_servers()
    server.close()
    assert not _alive(pid)
    assert not os.path.exists(workdir)
    assert server not in live_servers()


def test_stopped_server_is_healed_by_ensure_healthy() -> None:
    with EtcdServer() as server:
        server.stop()
        assert server.is_stopped
        server.ensure_healthy()
        assert not server.is_stopped
        server.kill()
        assert not server.is_running
        server.ensure_healthy()
        assert requests.get(f"{server.client_url}/health", timeout=5).status_code == 200


def test_cluster_has_a_leader(etcd_cluster: EtcdCluster) -> None:
    assert len(etcd_cluster.members) == 3
    assert len(set(etcd_cluster.client_urls)) == 3
    leader = etcd_cluster.leader()
    assert leader is not None
    assert len(etcd_cluster.followers()) == 2
    members = requests.get(f"{leader.client_url}/v2/members", timeout=5).json()["members"]
    assert sorted(m["name"] for m in members) == sorted(m.name for m in etcd_cluster.members)


def test_cluster_survives_kill_and_restart(etcd_cluster: EtcdCluster, etcd_prefix: str) -> None:
    victim = etcd_cluster.wait_for_leader()
    pid = victim.pid
    assert pid is not None
    victim.kill()
    assert not victim.is_running
    assert not _alive(pid)
    new_leader = etcd_cluster.wait_for_leader()
    assert new_leader is not victim
    url = f"{new_leader.client_url}/v2/keys{etcd_prefix}"
    assert requests.put(url, data={"value": "x"}, timeout=5).status_code == 201
    victim.restart()
    got = requests.get(f"{victim.client_url}/v2/keys{etcd_prefix}?quorum=true", timeout=5)
    assert got.json()["node"]["value"] == "x"


def test_stop_and_cont(etcd_cluster: EtcdCluster) -> None:
    member = etcd_cluster.followers()[0]
    member.stop()
    assert member.is_stopped
    with pytest.raises(requests.Timeout):
        requests.get(f"{member.client_url}/version", timeout=0.5)
    member.cont()
    assert requests.get(f"{member.client_url}/version", timeout=5).status_code == 200


def test_left_broken_by_a_test(etcd_cluster: EtcdCluster) -> None:
    etcd_cluster.members[0].kill()
    etcd_cluster.members[1].stop()


def test_healed_for_the_next_test(etcd_cluster: EtcdCluster) -> None:
    # The plugin restarted/continued what test_left_broken_by_a_test broke.
    assert all(m.is_running and not m.is_stopped for m in etcd_cluster.members)
    assert etcd_cluster.leader() is not None


def test_add_member_joins_running_cluster() -> None:
    # Without --strict-reconfig-check=false etcd refuses adds for 5 s after the start.
    with EtcdCluster(2, extra_args=["--strict-reconfig-check=false"]) as cluster:
        new = cluster.new_member()
        assert not new.is_running
        resp = requests.post(
            f"{cluster.client_urls[0]}/v2/members", json={"peerURLs": [new.peer_url]}, timeout=10
        )
        assert resp.status_code == 201
        new.start()
        members = requests.get(f"{new.client_url}/v2/members", timeout=5).json()["members"]
        assert sorted(m["name"] for m in members) == ["m0", "m1", "m2"]
        assert cluster.wait_for_leader() in cluster.members
        pids = [m.pid for m in cluster.members]
    assert not any(_alive(p) for p in pids if p is not None)


def test_tls_server_with_client_certificates(tls_files: Any) -> None:
    files = tls_files
    with EtcdServer(
        cert_file=files.server_cert,
        key_file=files.server_key,
        trusted_ca_file=files.ca,
        client_cert_auth=True,
    ) as server:
        assert server.client_url.startswith("https://127.0.0.1:")
        client_cert = (files.client_cert, files.client_key)
        ok = requests.get(
            f"{server.client_url}/version", verify=server.verify, cert=client_cert, timeout=5
        )
        assert ok.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{server.client_url}/version", verify=server.verify, timeout=5)


def _dead_or_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_etcd_dies_with_the_python_that_started_it() -> None:
    code = (
        "import os, signal\n"
        "from etcdmap.testing import EtcdServer\n"
        "s = EtcdServer().start()\n"
        "print(s.pid, s.workdir, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pid_text, workdir = proc.stdout.split()
    try:
        deadline = time.monotonic() + 10
        while not _dead_or_zombie(int(pid_text)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _dead_or_zombie(int(pid_text))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # SIGKILLed Python could not clean up


def test_port_clash_is_retried_with_fresh_ports() -> None:
    server = EtcdServer()
    squatter = socket.socket()
    try:
        squatter.bind(("127.0.0.1", server.client_port))
        squatter.listen()
        taken = server.client_port
        server.start()
        assert server.client_port != taken
        assert "port clash" in server.log_tail(100)
        assert requests.get(f"{server.client_url}/health", timeout=5).status_code == 200
    finally:
        squatter.close()
        server.close()


def test_port_clash_with_fixed_ports_raises() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = EtcdServer(client_port=squatter.getsockname()[1])
        try:
            with pytest.raises(EtcdStartError, match="address already in use"):
                server.start(timeout=20)
        finally:
            server.close()
