"""The ``etcdmap`` command on etcd's v3 API, against a real etcd 3.5: ``--api v3`` key
commands, ``--api auto`` on servers with and without v2, v2-only commands refused, and the
v2 -> v3 migration (``dump --ttl`` from v2, ``--api v3 load`` into v3 of the same server, read
back with the v3 client): nested and empty directories, TTLs as leases, hidden keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client
from etcdmap.v3 import Client as V3Client


@pytest.fixture
def v3(etcd_url: str) -> Iterator[V3Client]:
    with V3Client(etcd_url) as c:
        yield c


@pytest.fixture(scope="module")
def v3_only() -> Iterator[str]:
    """A server started without v2 (``--enable-v2=false``)."""
    with EtcdServer(enable_v2=False) as server:
        yield server.client_url


def v3_values(v3: V3Client, prefix: str) -> dict[str, str]:
    """Every v3 key with a value under ``prefix`` (directory markers, ending in /, left out)."""
    kvs = v3.kv.range(f"{prefix}/", prefix=True).kvs
    return {kv.key_text: kv.value_text for kv in kvs if not kv.key_text.endswith("/")}


def test_key_commands_on_v3(cli, v3: V3Client, etcd_prefix: str) -> None:
    k = f"{etcd_prefix}/a/b"
    assert cli("--api", "v3", "set", k, "v1").out == "v1\n"
    assert v3.kv.get(k) == b"v1"
    assert cli("--api", "v3", "get", k).out == "v1\n"
    ext = cli("--api", "v3", "-o", "extended", "get", k).out.splitlines()
    rev = v3.kv.range(k).kvs[0].mod_revision
    assert ext[:3] == [f"Key: {k}", f"Created-Index: {rev}", f"Modified-Index: {rev}"]
    assert cli("--api", "v3", "mk", k, "x").code == 4  # exists
    assert cli("--api", "v3", "set", k, "v2", "--swap-with-value", "v1").code == 0
    assert cli("--api", "v3", "set", k, "v3", "--swap-with-value", "v1").code == 4
    assert cli("--api", "v3", "ls", "-r", "-p", etcd_prefix).out.split() == [
        f"{etcd_prefix}/a/", k]
    assert cli("--api", "v3", "rm", k).out == "PrevNode.Value: v2\n"
    assert v3.kv.get(k) is None
    run = cli("--api", "v3", "get", k)
    assert run.code == 4 and "Key not found" in run.err


def test_v3_writes_do_not_touch_v2(cli, client: Client, etcd_prefix: str) -> None:
    cli("--api", "v3", "set", f"{etcd_prefix}/k", "in-v3")
    cli("--api", "v2", "set", f"{etcd_prefix}/k", "in-v2")
    assert cli("--api", "v3", "get", f"{etcd_prefix}/k").out == "in-v3\n"
    assert cli("--api", "v2", "get", f"{etcd_prefix}/k").out == "in-v2\n"
    assert cli("--api", "auto", "get", f"{etcd_prefix}/k").out == "in-v3\n"  # v3: served


def test_watch_on_v3_replays_after_a_revision(cli, v3: V3Client, etcd_prefix: str) -> None:
    start = v3.kv.put(f"{etcd_prefix}/other", "x").header.revision
    v3.kv.put(f"{etcd_prefix}/w/a", "1")
    v3.kv.put(f"{etcd_prefix}/w/a", "2")
    v3.kv.delete(f"{etcd_prefix}/w/a")
    run = cli("--api", "v3", "watch", "-f", "--count", "3", "-r", "--after-index", str(start),
              f"{etcd_prefix}/w")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        f"[create] {etcd_prefix}/w/a", "1", f"[set] {etcd_prefix}/w/a", "2",
        f"[delete] {etcd_prefix}/w/a", "PrevNode.Value: 2",
    ]


def test_v2_only_commands_are_refused_on_v3(cli) -> None:
    for argv in (["mkdir", "/d"], ["member", "list"], ["user", "list"], ["cluster-health"]):
        run = cli("--api", "v3", *argv)
        assert run.code == 1 and "v2-only" in run.err, (argv, run.err)


def test_auto_uses_v3_on_a_server_without_v2(cli, v3_only: str, etcd_prefix: str) -> None:
    k = f"{etcd_prefix}/k"
    assert cli("--api", "auto", "set", k, "v", endpoints=v3_only).code == 0
    with V3Client(v3_only) as c:
        assert c.kv.get(k) == b"v"
    assert cli("--api", "auto", "get", k, endpoints=v3_only).out == "v\n"
    run = cli("--api", "auto", "mkdir", f"{etcd_prefix}/d", endpoints=v3_only)
    assert run.code == 1 and "v2-only" in run.err and "--enable-v2" in run.err
    run = cli("--api", "v2", "get", k, endpoints=v3_only)
    assert run.code == 2 and "v2 API is not enabled" in run.err


def fill_v2(client: Client, src: str) -> None:
    client.keys.set(f"{src}/app/name", "demo")
    client.keys.set(f"{src}/app/db/host", "db.local")
    client.keys.set(f"{src}/app/db/port", "5432")
    client.keys.set(f"{src}/a b?#%+ü/é", "line 1\nline 2\n")
    client.keys.set(f"{src}/empty-value", "")
    client.keys.mkdir(f"{src}/empty-dir")
    client.keys.mkdir(f"{src}/nested/empty")
    client.keys.set(f"{src}/lock", "held", ttl=60)
    client.keys.set(f"{src}/_hidden", "not listed by v2")
    client.keys.set(f"{src}/app/_secret", "not listed either")


def test_migration_from_v2_to_v3(
    cli, client: Client, v3: V3Client, etcd_prefix: str, tmp_path: Path
) -> None:
    src, dst = f"{etcd_prefix}/src", f"{etcd_prefix}/dst"
    fill_v2(client, src)
    dumped = cli("--api", "v2", "dump", "--ttl", src)
    assert dumped.code == 0, dumped.err
    (tmp_path / "f.json").write_text(dumped.out, encoding="utf-8")
    load = cli("--api", "v3", "load", str(tmp_path / "f.json"), dst)
    assert load.code == 0, load.err
    assert v3_values(v3, dst) == {
        f"{dst}/app/name": "demo", f"{dst}/app/db/host": "db.local",
        f"{dst}/app/db/port": "5432", f"{dst}/a b?#%+ü/é": "line 1\nline 2\n",
        f"{dst}/empty-value": "", f"{dst}/lock": "held",
    }  # hidden keys are not listed by v2, so not dumped, so not migrated
    lease = v3.kv.range(f"{dst}/lock").kvs[0].lease
    assert lease and 50 <= v3.lease.time_to_live(lease).ttl <= 60
    assert not v3.kv.range(f"{dst}/app/name").kvs[0].lease
    listing = cli("--api", "v3", "ls", "-r", "-p", dst).out.split()
    assert f"{dst}/empty-dir/" in listing and f"{dst}/nested/empty/" in listing
    # and back: the v3 subtree dumps to the same entries as the v2 one (TTLs aside)
    again = json.loads(cli("--api", "v3", "dump", dst).out)
    original = json.loads(dumped.out)
    assert again["api"] == "v3" and original["api"] == "v2"
    strip = [{k: v for k, v in n.items() if k != "ttl"} for n in original["nodes"]]
    assert again["nodes"] == strip


def test_migration_refuses_to_overwrite_and_forces(
    cli, client: Client, v3: V3Client, etcd_prefix: str, tmp_path: Path
) -> None:
    src, dst = f"{etcd_prefix}/src", f"{etcd_prefix}/dst"
    client.keys.set(f"{src}/a", "from-v2")
    v3.kv.put(f"{dst}/a", "already-in-v3")
    (tmp_path / "f.json").write_text(cli("dump", src).out, encoding="utf-8")
    run = cli("--api", "v3", "load", str(tmp_path / "f.json"), dst)
    assert run.code == 1 and "refusing to overwrite 1" in run.err
    assert v3.kv.get(f"{dst}/a") == b"already-in-v3"
    assert cli("--api", "v3", "load", "--force", str(tmp_path / "f.json"), dst).code == 0
    assert v3.kv.get(f"{dst}/a") == b"from-v2"


def test_a_ttl_that_ran_out_since_the_dump_is_not_loaded(
    cli, v3: V3Client, etcd_prefix: str
) -> None:
    dst = f"{etcd_prefix}/dst"
    doc = {"etcdmap_dump": 1, "path": "/x", "index": 1, "dumped_at": 1000.0, "nodes": [
        {"key": "", "dir": True}, {"key": "gone", "value": "v", "ttl": 30},
        {"key": "kept", "value": "v"}]}
    run = cli("--api", "v3", "load", "-", dst, stdin=json.dumps(doc))
    assert run.code == 0 and "skipped 1 key(s)" in run.err
    assert v3_values(v3, dst) == {f"{dst}/kept": "v"}


def test_migration_through_a_pipe(cli, client: Client, v3: V3Client, etcd_prefix: str) -> None:
    """``etcdmap dump /config | etcdmap --api v3 load - /config``: the same path on v3."""
    src = f"{etcd_prefix}/config"
    client.keys.set(f"{src}/k", "v")
    assert cli("--api", "v3", "load", "-", src, stdin=cli("dump", src).out).code == 0
    assert v3_values(v3, src) == {f"{src}/k": "v"}


README = Path(__file__).resolve().parents[2] / "README.rst"


def readme_walkthrough() -> list[tuple[str, list[str]]]:
    """The console block of README's "Moving from v2 to v3": (command, expected output lines)."""
    text = README.read_text(encoding="utf-8").split("Moving from v2 to v3\n====", 1)[1]
    block = text.split(".. code-block:: console\n", 1)[1].lstrip("\n").split("\n\n", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for raw in block.splitlines():
        line = raw[4:]
        if line.startswith("$ "):
            steps.append((line[2:].split("  #", 1)[0].strip(), []))
        else:
            steps[-1][1].append(line)
    return steps


def test_the_readme_walkthrough_runs(cli, etcd_prefix: str, tmp_path: Path) -> None:
    steps = readme_walkthrough()
    assert len(steps) >= 7
    for step, expected in steps:
        command = step.replace("/config", f"{etcd_prefix}/config")
        argv, _, target = command.partition(" > ")
        words = argv.split()
        assert words[0] == "etcdmap", command
        words = [str(tmp_path / w) if w == "config.json" else w for w in words[1:]]
        run = cli(*words)
        assert run.code == 0, (command, run.err)
        if target:
            (tmp_path / target).write_text(run.out, encoding="utf-8")
            continue
        want = [line.replace("/config", f"{etcd_prefix}/config") for line in expected]
        assert run.out.splitlines() == want, command
