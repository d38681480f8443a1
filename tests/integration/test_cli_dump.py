"""``etcdmap dump`` and ``etcdmap load`` against a real etcd: exact round trips, TTLs, refusal to
overwrite, ``--dry-run``, ``--force``, stdin, and the progress bar on a terminal."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from etcdmap.cli.app import main
from etcdmap.errors import KeyNotFound
from etcdmap.models import Node
from etcdmap.v2.client import Client

pytestmark = pytest.mark.usefixtures("v2_command_set")  # the etcdctl v2 work-alike

# The type of the ``cli`` fixture (tests/integration/conftest.py), which gives a ``Run`` with
# ``code``, ``out`` and ``err``.
CLI = Callable[..., Any]


def shape(client: Client, path: str) -> dict[str, tuple[bool, str | None]]:
    """Every node under ``path``: relative key -> (is a directory, value)."""
    try:
        root = client.keys.get(path, recursive=True).node
    except KeyNotFound:
        return {}
    assert root is not None
    found: dict[str, tuple[bool, str | None]] = {}
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        found[node.key[len(root.key):]] = (node.dir, node.value)
        stack.extend(node.nodes)
    return found


def fill(client: Client, base: str) -> None:
    client.keys.set(f"{base}/app/name", "demo")
    client.keys.set(f"{base}/app/db/host", "db.local")
    client.keys.set(f"{base}/app/db/port", "5432")
    client.keys.set(f"{base}/a b?#%+ü/é", "line 1\nline 2\n")
    client.keys.set(f"{base}/empty-value", "")
    client.keys.set(f"{base}/json", '{"k": [1, "<&>"]}')
    client.keys.mkdir(f"{base}/empty-dir")
    client.keys.mkdir(f"{base}/nested/empty")


def fill_and_dump(cli: CLI, client: Client, etcd_prefix: str, tmp_path: Path) -> tuple[str, str]:
    """:func:`fill` ``<prefix>/src`` and dump it to ``tmp_path/d.json``.

    :returns: the source and destination paths, ``<prefix>/src`` and ``<prefix>/dst``.
    """
    src, dst = f"{etcd_prefix}/src", f"{etcd_prefix}/dst"
    fill(client, src)
    (tmp_path / "d.json").write_text(cli("dump", src).out, encoding="utf-8")
    return src, dst


def test_dump_then_load_reproduces_the_tree(
    cli: CLI, client: Client, etcd_prefix: str, tmp_path: Path
) -> None:
    src, dst = f"{etcd_prefix}/src", f"{etcd_prefix}/dst"
    fill(client, src)
    r = cli("dump", src)
    assert r.code == 0 and r.err == ""
    doc = json.loads(r.out)
    assert doc["etcdmap_dump"] == 1 and doc["path"] == src and doc["index"] > 0
    assert {"key": "app/db/port", "value": "5432"} in doc["nodes"]
    assert {"key": "empty-dir", "dir": True} in doc["nodes"]
    assert all("ttl" not in n for n in doc["nodes"])
    dump_file = tmp_path / "tree.json"
    dump_file.write_text(r.out, encoding="utf-8")
    r = cli("load", str(dump_file), dst)
    assert (r.code, r.out, r.err) == (0, "", "")
    assert shape(client, dst) == shape(client, src)
    assert len(shape(client, src)) == 13


def test_ttls_are_kept_with_the_ttl_option(
    cli: CLI, client: Client, etcd_prefix: str, tmp_path: Path
) -> None:
    src, dst = f"{etcd_prefix}/src", f"{etcd_prefix}/dst"
    client.keys.mkdir(f"{src}/session", ttl=300)
    client.keys.set(f"{src}/session/token", "t", ttl=200)
    client.keys.set(f"{src}/permanent", "p")
    without = json.loads(cli("dump", src).out)
    assert all("ttl" not in n for n in without["nodes"])
    r = cli("dump", "--ttl", src)
    ttls = {n["key"]: n.get("ttl") for n in json.loads(r.out)["nodes"]}
    assert 295 <= ttls["session"] <= 300 and 195 <= ttls["session/token"] <= 200
    assert ttls["permanent"] is None
    (tmp_path / "d.json").write_text(r.out, encoding="utf-8")
    assert cli("load", str(tmp_path / "d.json"), dst).code == 0
    session = client.keys.get(f"{dst}/session").node
    token = client.keys.get(f"{dst}/session/token").node
    permanent = client.keys.get(f"{dst}/permanent").node
    assert session is not None and token is not None and permanent is not None
    assert session.ttl is not None and 290 <= session.ttl <= 300
    assert token.ttl is not None and 190 <= token.ttl <= 200
    assert permanent.ttl is None


def test_load_refuses_to_overwrite_without_force(
    cli: CLI, client: Client, etcd_prefix: str, tmp_path: Path
) -> None:
    src, dst = fill_and_dump(cli, client, etcd_prefix, tmp_path)
    client.keys.set(f"{dst}/app/name", "mine")
    client.keys.set(f"{dst}/json", "mine too")
    before = shape(client, dst)
    r = cli("load", str(tmp_path / "d.json"), dst)
    assert r.code == 1
    assert r.err == (
        f"Error:  refusing to overwrite 2 existing key(s) under {dst} (use --force): "
        f"{dst}/app/name, {dst}/json\n"
    )
    assert shape(client, dst) == before  # nothing written
    r = cli("load", "--force", str(tmp_path / "d.json"), dst)
    assert r.code == 0
    assert shape(client, dst) == shape(client, src)


def test_load_merges_into_existing_directories(
    cli: CLI, client: Client, etcd_prefix: str, tmp_path: Path
) -> None:
    src, dst = fill_and_dump(cli, client, etcd_prefix, tmp_path)
    client.keys.set(f"{dst}/app/other", "kept")
    assert cli("load", str(tmp_path / "d.json"), dst).code == 0
    merged = shape(client, dst)
    assert merged.pop("/app/other") == (False, "kept")
    assert merged == shape(client, src)


def test_dry_run_prints_the_plan_and_writes_nothing(
    cli: CLI, client: Client, etcd_prefix: str
) -> None:
    src, dst = f"{etcd_prefix}/src", f"{etcd_prefix}/dst"
    client.keys.set(f"{src}/d/k", "v\n1")
    client.keys.set(f"{src}/t", "x", ttl=100)
    dump = cli("dump", "--ttl", src).out
    r = cli("load", "--dry-run", "-", dst, stdin=dump)
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[:3] == [f"mkdir {dst}", f"mkdir {dst}/d", f'set {dst}/d/k "v\\n1"']
    assert lines[3].startswith(f'set {dst}/t "x" (ttl ')
    assert shape(client, dst) == {}
    client.keys.set(f"{dst}/t", "exists")
    r = cli("load", "--dry-run", "-", dst, stdin=dump)
    assert r.code == 1 and "refusing to overwrite 1 existing key(s)" in r.err
    assert f'set {dst}/t "x"' in r.out  # the plan is still shown


def test_load_from_stdin_and_single_values(cli: CLI, client: Client, etcd_prefix: str) -> None:
    client.keys.set(f"{etcd_prefix}/one", "value")
    dump = cli("dump", f"{etcd_prefix}/one").out
    assert json.loads(dump)["nodes"] == [{"key": "", "value": "value"}]
    assert cli("load", "-", f"{etcd_prefix}/copy", stdin=dump).code == 0
    assert client.keys.get(f"{etcd_prefix}/copy").node.value == "value"  # type: ignore[union-attr]


def test_errors(cli: CLI, etcd_prefix: str, tmp_path: Path) -> None:
    r = cli("dump", f"{etcd_prefix}/missing")
    assert r.code == 4 and r.err.startswith("Error:  100: Key not found")
    bad = tmp_path / "bad.json"
    bad.write_text('{"something": "else"}', encoding="utf-8")
    r = cli("load", str(bad), f"{etcd_prefix}/x")
    assert r.code == 1 and r.err == f"Error:  {bad}: not an etcdmap dump (version 1)\n"
    bad.write_text("not json", encoding="utf-8")
    assert cli("load", str(bad), f"{etcd_prefix}/x").code == 1
    r = cli("load", str(tmp_path / "absent.json"), f"{etcd_prefix}/x")
    assert r.code == 1 and "absent.json" in r.err


class TTYStringIO(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(
    etcd_url: str, client: Client, etcd_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = f"{etcd_prefix}/src"
    nodes = [{"key": "", "dir": True}] + [
        {"key": f"k{i:03d}", "value": str(i)} for i in range(250)
    ]
    dump = json.dumps({"etcdmap_dump": 1, "path": src, "index": 1, "nodes": nodes})
    monkeypatch.setattr(sys, "stdin", io.StringIO(dump))
    tty = TTYStringIO()
    monkeypatch.setattr(sys, "stderr", tty)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert main(["--endpoints", etcd_url, "--api", "v2", "load", "-", src]) == 0
    assert "\rload [" in tty.getvalue() and tty.getvalue().endswith("] 251/251\n")
    assert len(shape(client, src)) == 251
    monkeypatch.setattr(sys, "stdin", io.StringIO(dump))
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    assert main(["--endpoints", etcd_url, "--api", "v2", "load", "-", f"{etcd_prefix}/again"]) == 0
    assert piped.getvalue() == ""
