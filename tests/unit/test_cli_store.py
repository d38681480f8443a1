"""The ``etcdmap`` command on the Backend protocol (the bodies ``--api v3`` runs), without a
server: on :class:`~etcdmap.mapping.memory.MemoryBackend`, plus the ``--api`` dispatch, the
v3 backend factory's refusal, and the dump's TTL ageing and directory planning."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest

from etcdmap.cli import app
from etcdmap.cli.backends import command_for, resolve_api
from etcdmap.cli.common import CommandError, Context
from etcdmap.cli.dump import directory_writes
from etcdmap.cli.dumpfile import Entry, age_entries, dump_age
from etcdmap.errors import CompareFailed, DirectoryNotEmpty, KeyNotFound, NodeExists, NotAFile
from etcdmap.mapping.memory import MemoryBackend


@dataclass
class Ran:
    code: int
    out: str
    err: str


class Store:
    """Runs ``etcdmap --api v3 ARGS`` in-process on one MemoryBackend."""

    def __init__(self) -> None:
        self.backend = MemoryBackend()

    def __call__(self, *argv: str, stdin: str = "") -> Ran:
        args = app.build_parser().parse_args(["--api", "v3", *argv])
        out, err = io.StringIO(), io.StringIO()
        ctx = Context(args, stdin=io.StringIO(stdin), stdout=out, stderr=err)
        ctx.backend = self.backend
        code = command_for(ctx, args)(ctx, args)
        return Ran(code, out.getvalue(), err.getvalue())


@pytest.fixture
def run() -> Store:
    return Store()


def test_set_get_and_the_three_formats(run: Store) -> None:
    assert run("set", "/a/b", "v1").out == "v1\n"
    assert run("get", "/a/b").out == "v1\n"
    ext = run("-o", "extended", "get", "/a/b").out.splitlines()
    assert ext[0] == "Key: /a/b" and ext[-1] == "v1"
    assert ext[4] == f"Index: {run.backend.index}"
    doc = json.loads(run("-o", "json", "get", "/a/b").out)
    assert doc["action"] == "get" and doc["node"]["value"] == "v1"


def test_value_from_stdin_and_ttl(run: Store) -> None:
    run("set", "/k", "--ttl", "30", stdin="from stdin")
    node, _ = run.backend.read("/k")
    assert node.value == "from stdin" and node.ttl == 30


def test_set_swap_is_a_compare_and_swap(run: Store) -> None:
    run("set", "/k", "1")
    doc = json.loads(run("-o", "json", "set", "/k", "2", "--swap-with-value", "1").out)
    assert doc["action"] == "compareAndSwap"
    with pytest.raises(CompareFailed):
        run("set", "/k", "3", "--swap-with-value", "1")
    with pytest.raises(CompareFailed):
        run("set", "/k", "3", "--swap-with-index", "1")
    assert run.backend.read("/k")[0].value == "2"


def test_mk_refuses_an_existing_key_and_makes_in_order_keys(run: Store) -> None:
    run("mk", "/k", "1")
    with pytest.raises(NodeExists):
        run("mk", "/k", "2")
    run("mk", "--in-order", "/q", "first")
    run("mk", "--in-order", "/q", "second")
    node, _ = run.backend.read("/q")
    assert [c.value for c in node.nodes] == ["first", "second"]


def test_get_of_a_directory_is_an_error(run: Store) -> None:
    run("set", "/d/k", "v")
    with pytest.raises(CommandError, match="is a directory"):
        run("get", "/d")
    with pytest.raises(KeyNotFound):
        run("get", "/missing")


def test_ls_lists_like_v2(run: Store) -> None:
    run("set", "/d/a", "1")
    run("set", "/d/sub/b", "2")
    run.backend.put("/d/_hidden", "h")
    assert run("ls", "/d").out.split() == ["/d/a", "/d/sub"]
    assert run("ls", "-r", "-p", "/d").out.split() == ["/d/a", "/d/sub/", "/d/sub/b"]


def test_rm_reports_the_deleted_value_and_honours_conditions(run: Store) -> None:
    run("set", "/k", "old")
    assert run("rm", "/k").out == "PrevNode.Value: old\n"
    run("set", "/k", "v")
    with pytest.raises(CompareFailed):
        run("rm", "/k", "--with-value", "other")
    doc = json.loads(run("-o", "json", "rm", "/k", "--with-value", "v").out)
    assert doc["action"] == "compareAndDelete" and doc["prevNode"]["value"] == "v"
    with pytest.raises(KeyNotFound):
        run("rm", "/k")


def test_rm_of_directories_needs_dir_or_recursive(run: Store) -> None:
    run("set", "/d/k", "v")
    run.backend.make_dir("/e")
    with pytest.raises(NotAFile):
        run("rm", "/d")
    with pytest.raises(DirectoryNotEmpty):
        run("rm", "--dir", "/d")
    assert run("rm", "--dir", "/e").out == ""  # simple: nothing, as etcdctl
    assert run("rm", "-r", "/d").out == ""
    with pytest.raises(KeyNotFound):
        run.backend.read("/d")


def test_watch_replays_after_an_index(run: Store) -> None:
    run("set", "/other", "x")  # --after-index 0 means "from now on"
    start = run.backend.index
    run("set", "/w/a", "1")
    run.backend.make_dir("/w/dir")  # directory events are skipped
    run("set", "/w/b", "2")
    assert run("watch", "--after-index", str(start), "/w/a").out == "1\n"
    out = run("watch", "-f", "--count", "2", "-r", "--after-index", str(start), "/w").out
    assert out.splitlines() == ["[set] /w/a", "1", "[set] /w/b", "2"]


def test_dump_and_load_round_trip_with_ttls(run: Store) -> None:
    run("set", "/src/a", "1")
    run("set", "/src/t", "x", "--ttl", "50")
    run.backend.make_dir("/src/empty")
    dumped = run("dump", "--ttl", "/src").out
    doc = json.loads(dumped)
    assert doc["api"] == "memory" and doc["dumped_at"] > 0
    run("load", "-", "/dst", stdin=dumped)
    node, _ = run.backend.read("/dst", recursive=True)
    assert {c.key: (c.dir, c.value, c.ttl) for c in node.nodes} == {
        "/dst/a": (False, "1", None), "/dst/empty": (True, None, None), "/dst/t": (False, "x", 50),
    }
    with pytest.raises(CommandError, match="refusing to overwrite"):
        run("load", "-", "/dst", stdin=dumped)


def test_v2_only_commands_say_so_on_v3(run: Store) -> None:
    for argv in (["mkdir", "/d"], ["member", "list"], ["user", "list"], ["exec-watch", "/k"]):
        with pytest.raises(CommandError, match="v2-only") as info:
            run(*argv)
        assert info.value.code == 1


def test_a_bad_api_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETCDMAP_API", "v4")
    args = app.build_parser().parse_args(["get", "/k"])
    ctx = Context(args, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="unknown API 'v4'"):
        resolve_api(ctx)


def test_serve_runs_on_any_api() -> None:
    args = app.build_parser().parse_args(["--api", "v3", "serve"])
    ctx = Context(args)
    assert command_for(ctx, args) is args.func and ctx.api is None


def test_age_entries_takes_the_time_off_and_drops_what_expired() -> None:
    entries = [Entry("", None), Entry("a", "1", 100), Entry("b", "2", 5), Entry("d", None, 3),
               Entry("d/x", "3"), Entry("e", "4")]
    kept, expired = age_entries(entries, 10.7)
    assert kept == [Entry("", None), Entry("a", "1", 90), Entry("e", "4")]
    assert [e.key for e in expired] == ["b", "d", "d/x"]
    assert age_entries(entries, 0.5) == (entries, [])
    assert dump_age({"dumped_at": 100.0}, 130.0) == 30.0
    assert dump_age({"dumped_at": True}, 130.0) == dump_age({}, 130.0) == 0.0


def test_directory_writes_without_real_directories() -> None:
    writes = [("/d", Entry("", None)), ("/d/a", Entry("a", None, 30)), ("/d/a/k", Entry("a/k", "v")),
              ("/d/empty", Entry("empty", None)), ("/d/z", Entry("z", "1"))]
    kept, lost = directory_writes(writes, real_dirs=False)
    assert [k for k, _ in kept] == ["/d/a/k", "/d/empty", "/d/z"]
    assert lost == ["/d/a"]
    assert directory_writes(writes, real_dirs=True) == (writes, [])


def test_an_unreachable_cluster_exits_2_on_v3_and_on_the_probe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--endpoints", "http://127.0.0.1:9", "--total-timeout", "1s"]
    assert app.main([*base, "--api", "v3", "get", "/k"]) == 2
    assert app.main([*base, "get", "/k"]) == 2  # auto: the probe cannot reach it
    assert "etcd cluster is unavailable" in capsys.readouterr().err
