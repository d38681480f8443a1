"""The ``etcdmap`` command across etcd's two APIs, against a real etcd 3.5: the two stores
apart, ``--api auto`` on a server without v2 (and a v2 verb there naming the v3 one),
``mkdir`` on v3 as the library makes a directory, and the v2 -> v3 migration (``dump --ttl``
from v2, ``--api v3 load`` into v3 of the same server, read back with the v3 client): nested
and empty directories, TTLs as leases, hidden keys; and README's walkthrough.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client
from etcdmap.v3 import Client as V3Client


@pytest.fixture(scope="module")
def v3_only() -> Iterator[str]:
    """A server started without v2 (``--enable-v2=false``)."""
    with EtcdServer(enable_v2=False) as server:
        yield server.client_url


def v3_values(v3: V3Client, prefix: str) -> dict[str, str]:
    """Every v3 key with a value under ``prefix`` (directory markers, ending in /, left out)."""
    kvs = v3.kv.range(f"{prefix}/", prefix=True).kvs
    return {kv.key_text: kv.value_text for kv in kvs if not kv.key_text.endswith("/")}


def test_v3_writes_do_not_touch_v2(cli, client: Client, etcd_prefix: str) -> None:
    k = f"{etcd_prefix}/k"
    assert cli("--api", "v3", "put", k, "in-v3").out == "OK\n"
    assert cli("--api", "v2", "set", k, "in-v2").out == "in-v2\n"
    assert cli("--api", "v3", "get", "--print-value-only", k).out == "in-v3\n"
    assert cli("--api", "v2", "get", k).out == "in-v2\n"


def test_auto_uses_v3_on_a_server_without_v2(cli, v3_only: str, etcd_prefix: str) -> None:
    k = f"{etcd_prefix}/k"
    assert cli("--api", "auto", "put", k, "v", endpoints=v3_only).code == 0
    with V3Client(v3_only) as c:
        assert c.kv.get(k) == b"v"
    assert cli("--api", "auto", "get", k, endpoints=v3_only).out == f"{k}\nv\n"
    run = cli("--api", "auto", "set", k, "w", endpoints=v3_only)  # a v2 verb: v3's is named
    assert run.code == 1 and "on v3 use: put <key> <value>" in run.err
    assert "--api auto chose v3 for this server" in run.err
    run = cli("--api", "v2", "get", k, endpoints=v3_only)
    assert run.code == 2 and "v2 API is not enabled" in run.err


def test_auto_says_when_the_v2_store_has_what_v3_lacks(cli, client: Client,
                                                       etcd_prefix: str) -> None:
    key = f"{etcd_prefix}/cfg/a"
    client.keys.set(key, "in-v2")  # only in the v2 store
    run = cli("--api", "auto", "get", key)
    assert (run.code, run.out) == (0, "")  # stdout as etcdctl's for a missing key: nothing
    assert run.err.startswith(f"hint: {key} has no keys on etcd's v3 API, which --api auto ")
    assert "pass --api v2 to use them" in run.err and run.err.count("\n") == 1
    dumped = cli("--api", "auto", "dump", f"{etcd_prefix}/cfg")
    assert dumped.code != 0 and dumped.out == ""
    assert f"Key not found ({etcd_prefix}/cfg)" in dumped.err.splitlines()[0]
    assert dumped.err.splitlines()[1].startswith(f"hint: {etcd_prefix}/cfg has no keys on")
    below = cli("--api", "auto", "get", "--prefix", f"{etcd_prefix}/cfg/")
    assert (below.code, below.out) == (0, "") and below.err.startswith(f"hint: {etcd_prefix}/cfg")
    for quiet in (cli("--api", "v3", "get", key),  # v3 chosen, not by auto: no hint
                  cli("--api", "auto", "get", f"{etcd_prefix}/nowhere"),  # nothing on v2 either
                  cli("--api", "auto", "get", f"{etcd_prefix}/cfg/", f"{etcd_prefix}/cfg0")):
        assert (quiet.code, quiet.out, quiet.err) == (0, "", "")
    client.keys.delete(key)
    assert cli("--api", "auto", "get", key).err == ""


def test_mkdir_on_v3_makes_the_marker_the_map_reads(cli, v3: V3Client, etcd_prefix: str) -> None:
    from etcdmap import EtcdMap

    assert cli("--api", "v3", "mkdir", f"{etcd_prefix}/d/e").code == 0
    assert v3.kv.get(f"{etcd_prefix}/d/e/") == b""  # the marker key, as EtcdMap.mkdir makes
    assert EtcdMap(v3, etcd_prefix).to_dict() == {"d": {"e": {}}}
    again = cli("--api", "v3", "mkdir", f"{etcd_prefix}/d/e")
    assert again.code == 1 and "Key already exists" in again.err


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
    listing = cli("--api", "v3", "get", "--prefix", "--keys-only", f"{dst}/").out.split()
    assert f"{dst}/empty-dir/" in listing and f"{dst}/nested/empty/" in listing  # markers
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
    (tmp_path / "f.json").write_text(cli("--api", "v2", "dump", src).out, encoding="utf-8")
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
    dumped = cli("--api", "v2", "dump", src).out
    assert cli("--api", "v3", "load", "-", src, stdin=dumped).code == 0
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
