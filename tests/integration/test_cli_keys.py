"""The ``etcdmap`` key commands against a real etcd: every verb, every format, exit codes.

Commands run in-process through :func:`etcdmap.cli.main` (stdout/stderr captured), plus a few
real ``python -m etcdmap`` processes. Where Debian's ``etcdctl`` 3.4 is installed, the output of
the read commands is compared with ``ETCDCTL_API=2 etcdctl`` on the same keys.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dns.resolver
import pytest

from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client

pytestmark = pytest.mark.usefixtures("v2_command_set")  # the etcdctl v2 work-alike

ETCDCTL = shutil.which("etcdctl", path="/usr/bin")


# The type of the ``cli`` and ``etcdctl`` fixtures (tests/integration/conftest.py), which give
# a ``Run`` with ``code``, ``out`` and ``err``.
CLI = Callable[..., Any]


# --------------------------------------------------------------------------- writes and reads


def test_set_and_get_in_every_format(cli: CLI, etcd_prefix: str, client: Client) -> None:
    key = f"{etcd_prefix}/k"
    r = cli("set", key, "v1")
    assert (r.code, r.out, r.err) == (0, "v1\n", "")
    node = client.keys.get(key).node
    assert node is not None
    r = cli("-o", "extended", "get", key)
    assert r.code == 0
    assert re.fullmatch(
        rf"Key: {key}\nCreated-Index: {node.created_index}\n"
        rf"Modified-Index: {node.modified_index}\nTTL: 0\nIndex: \d+\n\nv1\n",
        r.out,
    )
    r = cli("-o", "json", "get", key)
    assert json.loads(r.out) == {
        "action": "get",
        "node": {"key": key, "value": "v1", "nodes": None,
                 "createdIndex": node.created_index, "modifiedIndex": node.modified_index},
        "prevNode": None,
    }
    r = cli("-o", "extended", "set", "--ttl", "100", key, "v2")
    assert "PrevNode.Value: v1\n" in r.out
    ttl = int(re.search(r"TTL: (\d+)", r.out).group(1))  # type: ignore[union-attr]
    assert 98 <= ttl <= 100
    assert r.out.endswith("\nv2\n")


def test_value_from_stdin(cli: CLI, etcd_prefix: str, client: Client) -> None:
    key = f"{etcd_prefix}/multi"
    assert cli("set", key, stdin="line 1\nline 2\n").code == 0
    assert client.keys.get(key).node.value == "line 1\nline 2\n"  # type: ignore[union-attr]
    r = cli("set", key, stdin="")
    assert (r.code, r.err) == (1, "Error:  value required\n")


def test_special_keys_and_values(cli: CLI, etcd_prefix: str) -> None:
    key = f"{etcd_prefix}/a b?#%+ü"
    assert cli("set", key, "<ü & é>").code == 0
    assert cli("get", key).out == "<ü & é>\n"
    assert '"value":"\\u003cü \\u0026 é\\u003e"' in cli("-o", "json", "get", key).out
    assert cli("ls", etcd_prefix).out == f"{key}\n"


def test_missing_key_error_line_and_exit_code(cli: CLI, etcd_prefix: str) -> None:
    cli("mkdir", etcd_prefix)  # etcd's cause is the first missing path element
    r = cli("get", f"{etcd_prefix}/nope")
    assert r.code == 4
    assert re.fullmatch(rf"Error:  100: Key not found \({etcd_prefix}/nope\) \[\d+\]\n", r.err)
    assert r.out == ""
    # etcdctl prints the same text line with -o json (its JSON branch never matches)
    assert cli("-o", "json", "get", f"{etcd_prefix}/nope").err.startswith("Error:  100: ")


def test_get_of_a_directory_is_an_error(cli: CLI, etcd_prefix: str) -> None:
    assert cli("mkdir", f"{etcd_prefix}/d").code == 0
    r = cli("get", f"{etcd_prefix}/d")
    assert (r.code, r.out, r.err) == (1, "", f"{etcd_prefix}/d: is a directory\n")


def test_mk_creates_only(cli: CLI, etcd_prefix: str) -> None:
    key = f"{etcd_prefix}/once"
    assert cli("mk", key, "1").out == "1\n"
    r = cli("mk", key, "2")
    assert r.code == 4 and r.err.startswith("Error:  105: Key already exists")
    r = cli("-o", "json", "mk", "--in-order", f"{etcd_prefix}/queue", "job")
    created = json.loads(r.out)
    assert created["action"] == "create"
    assert re.fullmatch(rf"{etcd_prefix}/queue/\d{{20}}", created["node"]["key"])


def test_update_needs_an_existing_key(cli: CLI, etcd_prefix: str) -> None:
    key = f"{etcd_prefix}/u"
    assert cli("update", key, "x").code == 4
    cli("set", key, "x")
    r = cli("-o", "json", "update", key, "y")
    assert json.loads(r.out)["action"] == "update"
    assert json.loads(r.out)["prevNode"]["value"] == "x"


def test_compare_and_swap(cli: CLI, etcd_prefix: str, client: Client) -> None:
    key = f"{etcd_prefix}/cas"
    cli("set", key, "a")
    r = cli("set", "--swap-with-value", "wrong", key, "b")
    assert r.code == 4 and r.err.startswith("Error:  101: Compare failed ([wrong != a]")
    assert cli("set", "--swap-with-value", "a", key, "b").code == 0
    index = client.keys.get(key).node.modified_index  # type: ignore[union-attr]
    assert cli("set", "--swap-with-index", str(index + 100), key, "c").code == 4
    assert json.loads(cli("-o", "json", "set", "--swap-with-index", str(index), key, "c").out)[
        "action"
    ] == "compareAndSwap"


def test_directories(
    cli: CLI, etcd_prefix: str, client: Client, etcd_server: EtcdServer
) -> None:
    d = f"{etcd_prefix}/dir"
    r = cli("mkdir", d)
    assert (r.code, r.out) == (0, "")  # simple format prints nothing for directories
    assert cli("mkdir", d).code == 4
    r = cli("-o", "json", "setdir", f"{etcd_prefix}/new")
    assert json.loads(r.out)["node"]["dir"] is True
    # etcd refuses to "set" an existing directory (etcdctl gets the same error)
    assert cli("setdir", d).err.startswith("Error:  102: Not a file")
    r = cli("-o", "extended", "setdir", "--ttl", "50", f"{etcd_prefix}/ttl-dir")
    assert r.code == 0 and "TTL: 50" in r.out
    r = cli("updatedir", "--ttl", "50", f"{etcd_prefix}/no-such-dir")
    assert r.code == 4 and "100: Key not found" in r.err
    r = cli("-o", "json", "updatedir", "--ttl", "60", d)
    if etcd_server.version >= (3, 5, 0):
        # The 3.5 regression (error 300 "Not a file") gets a hint under the error line.
        assert r.code == 4 and r.err.startswith("Error:  300: Raft Internal Error")
        assert "hint: etcd 3.5 cannot update a directory's TTL" in r.err
    else:
        assert r.code == 0 and json.loads(r.out)["action"] == "update"
    assert client.keys.get(d).node.dir  # type: ignore[union-attr]


def test_rm_variants(cli: CLI, etcd_prefix: str) -> None:
    p = etcd_prefix
    cli("set", f"{p}/f", "v")
    assert cli("rm", f"{p}/f").out == "PrevNode.Value: v\n"
    cli("set", f"{p}/g", "v")
    r = cli("rm", "--with-value", "other", f"{p}/g")
    assert r.code == 4 and r.err.startswith("Error:  101: Compare failed")
    r = cli("-o", "json", "rm", "--with-value", "v", f"{p}/g")
    assert json.loads(r.out)["action"] == "compareAndDelete"
    cli("mkdir", f"{p}/empty")
    assert cli("rm", f"{p}/empty").err.startswith("Error:  102: Not a file")
    assert (cli("rm", "--dir", f"{p}/empty").out, cli("ls", p).out) == ("", "")
    cli("set", f"{p}/tree/a/b", "1")
    assert cli("rmdir", f"{p}/tree").err.startswith("Error:  108: Directory not empty")
    assert cli("rm", "-r", f"{p}/tree").code == 0
    cli("mkdir", f"{p}/e2")
    r = cli("-o", "extended", "rmdir", f"{p}/e2")
    assert r.code == 0 and r.out.startswith(f"Key: {p}/e2\n")
    assert cli("rm", f"{p}/gone").code == 4


def test_ls(cli: CLI, etcd_prefix: str) -> None:
    p = etcd_prefix
    for key in ("b/x", "a", "c/d/e"):
        cli("set", f"{p}/{key}", "v")
    cli("mkdir", f"{p}/empty")
    assert cli("ls", "--sort", p).out == f"{p}/a\n{p}/b\n{p}/c\n{p}/empty\n"
    assert cli("ls", "--sort", "-p", p).out == f"{p}/a\n{p}/b/\n{p}/c/\n{p}/empty/\n"
    assert cli("ls", "--sort", "-r", "-p", p).out == (
        f"{p}/a\n{p}/b/\n{p}/b/x\n{p}/c/\n{p}/c/d/\n{p}/c/d/e\n{p}/empty/\n"
    )
    assert cli("ls", f"{p}/a").out == f"{p}/a\n"  # a file lists itself
    listing = json.loads(cli("-o", "json", "ls", "--sort", p).out)
    assert [n["key"] for n in listing["node"]["nodes"]] == [f"{p}/{k}" for k in "abc"] + [
        f"{p}/empty"
    ]
    assert f"/{p.strip('/')}/\n" in cli("ls", "-p").out  # the root lists the test's directory
    assert cli("ls", f"{p}/nope").code == 4


# --------------------------------------------------------------------------- watches


def test_watch_prints_one_change(cli: CLI, etcd_prefix: str, client: Client) -> None:
    key = f"{etcd_prefix}/w"
    start = client.keys.set(key, "0").index
    client.keys.set(key, "1")
    client.keys.set(key, "2")
    r = cli("watch", "--after-index", str(start), key)
    assert (r.code, r.out) == (0, "1\n")
    r = cli("-o", "json", "watch", "--after-index", str(start), key)
    assert json.loads(r.out)["node"]["value"] == "1"


def test_watch_forever_recursive(cli: CLI, etcd_prefix: str, client: Client) -> None:
    start = client.keys.mkdir(etcd_prefix).index
    client.keys.mkdir(f"{etcd_prefix}/sub")  # directory events are skipped
    client.keys.set(f"{etcd_prefix}/sub/a", "1")
    client.keys.delete(f"{etcd_prefix}/sub/a")
    client.keys.set(f"{etcd_prefix}/b", "2")
    r = cli("watch", "-f", "-r", "--count", "3", "--after-index", str(start), etcd_prefix)
    assert r.code == 0
    assert r.out == (
        f"[set] {etcd_prefix}/sub/a\n1\n"
        f"[delete] {etcd_prefix}/sub/a\nPrevNode.Value: 1\n"
        f"[set] {etcd_prefix}/b\n2\n"
    )


def test_exec_watch_runs_the_command_with_the_event(
    cli: CLI, etcd_prefix: str, client: Client, tmp_path: Path
) -> None:
    start = client.keys.mkdir(etcd_prefix).index
    first = client.keys.set(f"{etcd_prefix}/a", "one").node
    client.keys.set(f"{etcd_prefix}/b", "two")
    out = tmp_path / "events"
    script = (
        "import os, sys\n"
        "with open(sys.argv[1], 'a') as f:\n"
        "    f.write(' '.join(os.environ['ETCD_WATCH_' + n] for n in "
        "('ACTION', 'KEY', 'VALUE', 'MODIFIED_INDEX')) + '\\n')\n"
    )
    r = cli("exec-watch", "-r", "--count", "2", "--after-index", str(start), etcd_prefix,
            "--", sys.executable, "-c", script, str(out))
    assert r.code == 0, r.err
    assert out.read_text().splitlines() == [
        f"set {etcd_prefix}/a one {first.modified_index}",  # type: ignore[union-attr]
        f"set {etcd_prefix}/b two {first.modified_index + 1}",  # type: ignore[union-attr]
    ]
    r = cli("exec-watch", "--count", "1", "--after-index", str(start), f"{etcd_prefix}/a",
            "--", str(tmp_path / "no-such-program"))
    assert r.code == 1 and "no-such-program" in r.err


# --------------------------------------------------------------------------- connection, process


def test_unreachable_endpoint_exits_2(cli: CLI) -> None:
    r = cli("--no-sync", "--total-timeout", "1s", "get", "/k", endpoints="http://127.0.0.1:9")
    assert r.code == 2
    assert r.err.startswith("Error:  etcd cluster is unavailable or misconfigured\nerror #0: ")
    r = cli("--total-timeout", "1s", "get", "/k", endpoints="http://127.0.0.1:9")  # via sync
    assert r.code == 2 and r.err.startswith("Error:  ")


def test_tls_options(cli: CLI, tls_files: Any) -> None:
    with EtcdServer(
        cert_file=tls_files.server_cert,
        key_file=tls_files.server_key,
        trusted_ca_file=tls_files.ca,
        client_cert_auth=True,
    ) as server:
        url = server.client_url
        tls = ["--ca-file", tls_files.ca, "--cert-file", tls_files.client_cert,
               "--key-file", tls_files.client_key]
        assert cli(*tls, "set", "/tls", "yes", endpoints=url).out == "yes\n"
        assert cli(*tls, "get", "/tls", endpoints=url).out == "yes\n"
        # no client certificate: the TLS handshake fails, which is a connection failure
        r = cli("--ca-file", tls_files.ca, "--total-timeout", "2s", "get", "/tls", endpoints=url)
        assert r.code == 2 and r.err.startswith("Error:  ")


class FakeSRV:
    """A DNS resolver answering the http SRV name with the shared server (DNS, not etcd, is
    faked here: the commands then talk to the real etcd)."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.record = SimpleNamespace(target=host + ".", port=int(port), priority=0, weight=0)

    def resolve(self, qname: str, rdtype: str) -> list[SimpleNamespace]:
        if qname == "_etcd-client._tcp.example.test" and rdtype == "SRV":
            return [self.record]
        raise LookupError(f"NXDOMAIN {qname}")


def test_discovery_srv(
    cli: CLI, etcd_url: str, etcd_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the command line makes dnspython's default resolver: the test replaces that class
    monkeypatch.setattr(dns.resolver, "Resolver", lambda: FakeSRV(etcd_url))
    unused = "http://127.0.0.1:9"  # --endpoints is ignored when SRV discovery finds endpoints
    r = cli("-D", "example.test", "--insecure-discovery", "set", f"{etcd_prefix}/srv", "found",
            endpoints=unused)
    assert (r.code, r.out) == (0, "found\n")
    # As etcdctl: http:// endpoints found by SRV are dropped unless --insecure-discovery.
    r = cli("-D", "example.test", "get", f"{etcd_prefix}/srv", endpoints=unused)
    assert r.code == 2
    assert f'ignoring discovered insecure endpoint "{etcd_url}"' in r.err
    r = cli("-D", "nothing.test", "get", f"{etcd_prefix}/srv", endpoints=unused)
    assert r.code == 2 and "SRV discovery for 'nothing.test' found no etcd endpoints" in r.err


def test_debug_prints_curl_commands(cli: CLI, etcd_prefix: str) -> None:
    r = cli("--debug", "set", f"{etcd_prefix}/dbg", "v")
    assert r.code == 0
    assert "Cluster-Endpoints: " in r.err
    assert re.search(rf"cURL Command: curl -X PUT \S+/v2/keys{etcd_prefix}/dbg", r.err)


def test_python_m_etcdmap(etcd_url: str, etcd_prefix: str) -> None:
    env = {**os.environ, "ETCDMAP_ENDPOINTS": etcd_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "etcdmap", *args], env=env,
                              capture_output=True, text=True, timeout=30, check=False)

    assert run("set", f"{etcd_prefix}/p", "from a process").returncode == 0
    done = run("get", f"{etcd_prefix}/p")
    assert (done.returncode, done.stdout) == (0, "from a process\n")
    missing = run("get", f"{etcd_prefix}/nope")
    assert missing.returncode == 4 and missing.stderr.startswith("Error:  100: Key not found")
    assert run("get").returncode == 1  # usage error


def test_closed_pipe_exits_quietly(etcd_url: str, etcd_prefix: str, client: Client) -> None:
    client.keys.set(f"{etcd_prefix}/big", "x" * 300_000)  # more than a pipe buffer
    proc = subprocess.Popen(
        [sys.executable, "-m", "etcdmap", "--endpoints", etcd_url, "--api", "v2", "get",
         f"{etcd_prefix}/big"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10) == b"x" * 10  # like "| head -c 10"
    proc.stdout.close()
    assert proc.wait(timeout=30) == 141
    assert proc.stderr.read() == b""
    proc.stderr.close()


def test_password_prompt_on_a_terminal_is_not_echoed(
    etcd_url: str, etcd_prefix: str, client: Client
) -> None:
    client.keys.set(f"{etcd_prefix}/k", "secret value")
    pid, fd = pty.fork()  # the child gets the pty as its controlling terminal
    if pid == 0:  # pragma: no cover - the child process
        os.execv(sys.executable, [sys.executable, "-m", "etcdmap", "--endpoints", etcd_url,
                                  "--api", "v2", "-u", "someone", "get", f"{etcd_prefix}/k"])
    output = b""
    try:
        while b"Password: " not in output:
            chunk = os.read(fd, 1024)  # raises OSError (EIO) if the child exits first
            assert chunk, output
            output += chunk
        os.write(fd, b"hunter2\n")
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"secret value" in output
    assert b"hunter2" not in output  # never echoed


# --------------------------------------------------------------------------- etcdctl


@pytest.mark.skipif(ETCDCTL is None, reason="etcdctl (Debian's etcd-client) is not installed")
def test_same_output_as_etcdctl(
    cli: CLI, etcdctl: CLI, etcd_url: str, etcd_prefix: str
) -> None:
    p = etcd_prefix
    for key, value in (("a", "1"), ("b/c", "<&>"), ("b/d e", "ü\nx"), ("f/g/h", "")):
        cli("set", f"{p}/{key}", value)
    cli("mkdir", f"{p}/empty")
    cli("set", "--ttl", "500", f"{p}/ttl", "t")
    for args in (
        ("ls", "--sort", p),
        ("ls", "--sort", "-p", p),
        ("ls", "--sort", "-r", "-p", p),
        ("ls", "-r", f"{p}/b/c"),
        ("get", f"{p}/a"),
        ("get", f"{p}/b/d e"),
        ("-o", "json", "get", f"{p}/b/c"),
        ("-o", "extended", "get", f"{p}/a"),
        ("-o", "extended", "get", f"{p}/f/g/h"),
        ("-o", "json", "ls", "--sort", "-r", f"{p}/b"),
        ("-o", "extended", "ls", f"{p}/empty"),
        ("get", f"{p}/empty"),
        ("get", f"{p}/missing"),
        ("-o", "json", "get", f"{p}/missing"),
        ("ls", f"{p}/missing"),
    ):
        ours = cli("--no-sync", *args)
        theirs = etcdctl(etcd_url, "--no-sync", *args)
        assert (ours.code, ours.out, ours.err) == (theirs.code, theirs.out, theirs.err), args
    # A TTL read twice may differ by a second: compare everything but the TTL.
    ours_ttl = cli("-o", "extended", "get", f"{p}/ttl").out
    theirs_ttl = etcdctl(etcd_url, "-o", "extended", "get", f"{p}/ttl").out
    assert re.sub(r"TTL: \d+", "TTL", ours_ttl) == re.sub(r"TTL: \d+", "TTL", theirs_ttl)
