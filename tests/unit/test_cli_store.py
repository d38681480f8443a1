"""``etcdmap``'s own verbs on the Backend protocol (``dump``, ``load``, ``mkdir``), without a
server: on :class:`~etcdmap.mapping.memory.MemoryBackend`; plus what decides the command set
(``--api``, the verbs of the other set, global options after a v2 command), the dump's TTL
ageing and directory planning."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest

from etcdmap.cli import app
from etcdmap.cli.clients import resolve_api
from etcdmap.cli.command_sets import parse_command_line
from etcdmap.cli.common import CommandError, Context
from etcdmap.cli.dump import directory_writes
from etcdmap.cli.dumpfile import Entry, age_entries, dump_age
from etcdmap.mapping.memory import MemoryBackend


@dataclass
class Ran:
    code: int
    out: str
    err: str


class Store:
    """Runs ``etcdmap --api <api> ARGS`` in-process on one MemoryBackend."""

    def __init__(self) -> None:
        self.backend = MemoryBackend()

    def __call__(self, *argv: str, stdin: str = "", api: str = "v3") -> Ran:
        line = ["--api", api, *argv]
        front = app.front_parser().parse_args(line)
        out, err = io.StringIO(), io.StringIO()
        ctx = Context(front, stdin=io.StringIO(stdin), stdout=out, stderr=err)
        ctx.backend = self.backend
        ctx.api = api
        try:
            ctx.options = parse_command_line(ctx, line, front, api)
            code = ctx.options.func(ctx, ctx.options)
        except CommandError as exc:
            print(exc.message, file=err)
            code = exc.code
        return Ran(code, out.getvalue(), err.getvalue())


@pytest.fixture
def run() -> Store:
    return Store()


def test_dump_and_load_round_trip_with_ttls(run: Store) -> None:
    run.backend.put("/src/a", "1")
    run.backend.put("/src/t", "x", ttl=50)
    run.backend.make_dir("/src/empty")
    dumped = run("dump", "--ttl", "/src").out
    doc = json.loads(dumped)
    assert doc["api"] == "memory" and doc["dumped_at"] > 0
    assert run("load", "-", "/dst", stdin=dumped).code == 0
    node, _ = run.backend.read("/dst", recursive=True)
    assert {c.key: (c.dir, c.value, c.ttl) for c in node.nodes} == {
        "/dst/a": (False, "1", None), "/dst/empty": (True, None, None), "/dst/t": (False, "x", 50),
    }
    again = run("load", "-", "/dst", stdin=dumped)
    assert again.code == 1 and "refusing to overwrite" in again.err


def test_mkdir_makes_the_directory_the_library_makes(run: Store) -> None:
    assert run("mkdir", "/d").out == ""  # nothing printed, as etcdctl v2 in simple
    assert run.backend.read("/d")[0].dir
    again = run("mkdir", "/d")
    assert again.code == 1 and again.err.startswith("Error: 105: Key already exists (/d)")
    assert run("-w", "json", "mkdir", "--ttl", "9", "/e").out == ""
    assert run.backend.read("/e")[0].ttl == 9


@pytest.mark.parametrize(("api", "argv", "advice"), [
    ("v3", ["set", "/k", "v"], "on v3 use: put <key> <value>"),
    ("v3", ["ls", "/d"], "get --prefix --keys-only"),
    ("v3", ["rm", "-r", "/d"], "del --prefix"),
    ("v3", ["cluster-health"], "endpoint health --cluster"),
    ("v3", ["user", "remove", "bob"], "user delete <name>"),
    ("v2", ["put", "/k", "v"], "on v2 use: set <key> <value>"),
    ("v2", ["del", "--prefix", "/d"], "rm -r"),
    ("v2", ["get", "--prefix", "/d"], "ls --recursive"),
    ("v2", ["lock", "name"], "v3-only verb"),
    ("v2", ["user", "delete", "bob"], "user remove <name>"),
    ("v2", ["role", "grant-permission", "r", "read", "k"], "role grant <role> --path"),
])
def test_a_verb_of_the_other_set_names_the_one_to_use(
    run: Store, api: str, argv: list[str], advice: str
) -> None:
    ran = run(*argv, api=api)
    assert ran.code == 1 and advice in ran.err, ran.err
    other = "v2" if api == "v3" else "v3"
    assert f"is a {other} command and this run uses the {api} API (--api {api})" in ran.err


def test_a_global_option_after_a_v2_command(run: Store) -> None:
    ran = run("get", "/x", "--endpoints", "http://h:2379", api="v2")
    assert ran.code == 1 and "global options go before the command: --endpoints" in ran.err
    ran = run("get", "/x", "--api", "v3", api="v2")
    assert ran.code == 1 and "global options go before the command: --api" in ran.err
    ran = run("get", "/x", "--api", "v2")  # v3: global options may follow, --api may not
    assert ran.code == 1 and "--api goes before the command" in ran.err


def test_a_bad_api_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETCDMAP_API", "v4")
    front = app.front_parser().parse_args(["get", "/k"])
    ctx = Context(front, stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="unknown API 'v4'"):
        resolve_api(ctx)


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


def test_an_unreachable_cluster_exits_2_on_v2_and_on_the_probe_and_1_on_v3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = ["--endpoints", "http://127.0.0.1:9", "--total-timeout", "1s"]
    assert app.main([*base, "--api", "v2", "get", "/k"]) == 2
    assert app.main([*base, "get", "/k"]) == 2  # auto: the probe cannot reach it
    assert "etcd cluster is unavailable" in capsys.readouterr().err
    assert app.main([*base, "--api", "v3", "get", "/k"]) == 1  # as etcdctl 3.5
    assert capsys.readouterr().err.startswith(
        "Error: context deadline exceeded\nerror #0: http://127.0.0.1:9: ")


def test_help_says_which_set_is_active_and_how_to_switch(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ETCDMAP_API", raising=False)
    for api, active, shown, hidden in (
        ("v3", "Active command set: v3", "  put ", "  exec-watch "),
        ("v2", "Active command set: v2", "  exec-watch ", "  put "),
    ):
        assert app.main(["--api", api, "--help"]) == 0
        out = capsys.readouterr().out
        other = "v2" if api == "v3" else "v3"
        assert active in out and f"Switch with --api {other} or ETCDMAP_API={other}" in out
        assert shown in out and hidden not in out
    assert app.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "chosen per server (--api auto" in out and "  put " in out and "  exec-watch " in out
