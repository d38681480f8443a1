"""The ``etcdmap`` administration commands against real etcd: ``member``, ``user``, ``role``,
``auth``, ``cluster-health`` and ``serve``.

Member changes run on the module's 3-member cluster; auth runs on a throwaway server of this
module (enabling auth must never touch the shared server).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from etcdmap.testing import EtcdCluster, EtcdServer

pytestmark = pytest.mark.usefixtures("v2_command_set")  # the etcdctl v2 work-alike

ETCDCTL = shutil.which("etcdctl", path="/usr/bin")


# The type of the ``run_cli`` fixture (tests/integration/conftest.py), which gives a ``Run``
# with ``code``, ``out`` and ``err``.
CLI = Callable[..., Any]


@pytest.fixture(scope="module")
def auth_server() -> Iterator[EtcdServer]:
    with EtcdServer() as server:
        yield server


# --------------------------------------------------------------------------- members


def test_member_list_single(run_cli: CLI, etcd_server: EtcdServer) -> None:
    r = run_cli(etcd_server.client_url, "member", "list")
    assert r.code == 0
    assert re.fullmatch(
        rf"[0-9a-f]+: name={etcd_server.name} peerURLs={etcd_server.peer_url} "
        rf"clientURLs={etcd_server.client_url} isLeader=true\n",
        r.out,
    )


@pytest.mark.cluster
def test_member_add_update_remove(run_cli: CLI, etcd_cluster: EtcdCluster) -> None:
    url = ",".join(etcd_cluster.client_urls)
    r = run_cli(url, "member", "list")
    assert r.code == 0 and r.out.count("isLeader=true") == 1 and r.out.count("\n") == 3
    new = etcd_cluster.new_member()  # free ports, never started: stays "unstarted"
    try:
        # etcd refuses reconfiguration (HTTP 500) until every member has been connected for
        # 5 s (strict reconfig check), so a fresh cluster needs a few tries.
        deadline = time.monotonic() + 20
        while True:
            r = run_cli(url, "member", "add", "newbie", new.peer_url)
            if r.code == 0 or "HTTP 500" not in r.err or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert r.code == 0, r.err
        match = re.match(r"Added member named newbie with ID ([0-9a-f]+) to cluster\n\n", r.out)
        assert match, r.out
        member_id = match.group(1)
        assert 'ETCD_NAME="newbie"\n' in r.out
        assert f"newbie={new.peer_url}" in r.out
        assert 'ETCD_INITIAL_CLUSTER_STATE="existing"' in r.out
        listed = run_cli(url, "member", "list").out
        assert f"{member_id}[unstarted]: peerURLs={new.peer_url}\n" in listed
        other = "http://127.0.0.1:1"
        r = run_cli(url, "member", "update", member_id, other)
        assert (r.code, r.out) == (0, f"Updated member with ID {member_id} in cluster\n")
        assert f"{member_id}[unstarted]: peerURLs={other}\n" in run_cli(url, "member", "list").out
        r = run_cli(url, "member", "remove", "ffffffff")
        assert r.code == 1
        assert "Couldn't find a member in the cluster with an ID of ffffffff." in r.err
        r = run_cli(url, "member", "remove", member_id)
        assert (r.code, r.out) == (0, f"Removed member {member_id} from cluster\n")
        assert member_id not in run_cli(url, "member", "list").out
    finally:
        etcd_cluster.remove_member(new)
    r = run_cli(url, "member", "add", "bad", "not a url")
    assert r.code == 1 and r.err.startswith("Error:  peer URL scheme must be")


@pytest.mark.cluster
def test_cluster_health(run_cli: CLI, etcd_cluster: EtcdCluster) -> None:
    url = ",".join(etcd_cluster.client_urls)
    r = run_cli(url, "cluster-health")
    assert r.code == 0, r.out
    assert r.out.count(" is healthy: got healthy result from ") == 3
    assert r.out.endswith("cluster is healthy\n")
    victim = etcd_cluster.followers()[0]
    victim.kill()
    r = run_cli(url, "--total-timeout", "1s", "cluster-health")
    assert r.code == 5
    assert "failed to check the health of member " in r.out
    assert f"on {victim.client_url}" in r.out and "is unreachable" in r.out
    assert r.out.endswith("cluster is degraded\n")


@pytest.mark.skipif(ETCDCTL is None, reason="etcdctl (Debian's etcd-client) is not installed")
def test_member_list_same_as_etcdctl(run_cli: CLI, etcd_server: EtcdServer) -> None:
    url = etcd_server.client_url
    ours = run_cli(url, "member", "list")
    theirs = subprocess.run(
        [str(ETCDCTL), "--endpoints", url, "member", "list"],
        env={**os.environ, "ETCDCTL_API": "2"}, capture_output=True, text=True, timeout=20,
        check=False,
    )
    assert (ours.code, ours.out) == (theirs.returncode, theirs.stdout)
    health = subprocess.run(
        [str(ETCDCTL), "--endpoints", url, "cluster-health"],
        env={**os.environ, "ETCDCTL_API": "2"}, capture_output=True, text=True, timeout=20,
        check=False,
    )
    assert run_cli(url, "cluster-health").out == health.stdout


# --------------------------------------------------------------------------- auth


def test_users_roles_and_auth(run_cli: CLI, auth_server: EtcdServer) -> None:
    url = auth_server.client_url

    def ok(*args: str, stdin: str = "") -> str:
        r = run_cli(url, *args, stdin=stdin)
        assert r.code == 0, (args, r.err)
        return r.out

    assert ok("user", "add", "root:rootpw") == "User root created\n"
    assert ok("role", "add", "app") == "Role app created\n"
    r = run_cli(url, "role", "add", "app")
    assert (r.code, r.err) == (1, "Role app already exists\n")
    assert ok("role", "grant", "app", "--path", "/app/*", "--readwrite") == "Role app updated\n"
    assert ok("role", "grant", "app", "--path", "/pub", "--read") == "Role app updated\n"
    assert ok("role", "get", "app") == (
        "Role: app\nKV Read:\n\t/app/*\n\t/pub\nKV Write:\n\t/app/*\n"
    )
    assert "app\n" in ok("role", "list")
    # the password is read from stdin when not given (and never echoed)
    r = run_cli(url, "user", "add", "svc", stdin="svcpw\n")
    assert (r.code, r.out) == (0, "User svc created\n") and "svcpw" not in r.err
    assert ok("user", "grant", "svc", "--roles", "app") == "User svc updated\n"
    assert ok("user", "get", "svc") == "User: svc\nRoles: app\n"
    assert ok("user", "list") == "root\nsvc\n"
    assert ok("user", "passwd", "svc", stdin="newpw\n") == "Password updated\n"
    assert ok("auth", "enable") == "Authentication Enabled\n"
    try:
        # guest keeps full access until revoked
        assert ok("-u", "root:rootpw", "role", "revoke", "guest", "--path", "/*",
                  "--readwrite") == "Role guest updated\n"
        r = run_cli(url, "set", "/app/x", "anon")
        assert r.code == 3 and r.err.startswith("Error:  110: The request requires user auth")
        assert ok("-u", "svc:newpw", "set", "/app/x", "1") == "1\n"
        assert ok("-u", "svc", "get", "/app/x", stdin="newpw\n") == "1\n"  # prompted
        assert run_cli(url, "-u", "svc:svcpw", "get", "/app/x").code == 3  # old password
        assert run_cli(url, "-u", "svc:newpw", "set", "/pub", "no").code == 3  # read-only
        r = run_cli(url, "-u", "svc:newpw", "user", "list")
        assert r.code == 3 and "Insufficient credentials" in r.err
    finally:
        assert ok("-u", "root:rootpw", "auth", "disable") == "Authentication Disabled\n"
    assert ok("role", "revoke", "app", "--path", "/pub", "--read") == "Role app updated\n"
    assert ok("user", "revoke", "svc", "--roles", "app") == "User svc updated\n"
    assert ok("user", "get", "svc") == "User: svc\nRoles: \n"
    assert ok("user", "remove", "svc") == "User svc removed\n"
    assert ok("role", "remove", "app") == "Role app removed\n"
    r = run_cli(url, "user", "get", "svc")
    assert r.code == 4 and "svc" in r.err


def test_role_grant_argument_checks(run_cli: CLI, auth_server: EtcdServer) -> None:
    url = auth_server.client_url
    for args, message in (
        (("role", "grant", "r", "--read"), "No path specified; please use `--path`\n"),
        (("role", "grant", "r", "--path", "a//b", "--read"),
         "Not canonical path; please use `--path=/a/b`\n"),
        (("role", "grant", "r", "--path", "/a", "--read", "--write"),
         "Please specify exactly one of --read, --write or --readwrite\n"),
        (("role", "revoke", "r", "--path", "/a"),
         "Please specify exactly one of --read, --write or --readwrite\n"),
        (("user", "grant", "u"), "No roles specified; please use `--roles`\n"),
    ):
        r = run_cli(url, *args)
        assert (r.code, r.err) == (1, message), args


# --------------------------------------------------------------------------- serve


def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "etcdmap", "serve", "--port", "0", "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        put = requests.put(f"{url}/v2/keys/served", data={"value": "yes"}, timeout=5)
        assert put.status_code == 201
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "etcd stopped" in proc.stderr.read()  # type: ignore[union-attr]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/version", timeout=2)
    assert (data / "member").is_dir()  # a given --data-dir is kept
