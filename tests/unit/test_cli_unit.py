"""The ``etcdmap`` command's pure parts: option parsing, output formats, dump planning.

No server: everything here is text in, text out (the formats are checked against what
``etcdctl`` v2 prints, see ``etcdctl/ctlv2/command/format.go``).
"""

from __future__ import annotations

import argparse
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from etcdmap.cli import app as cli
from etcdmap.cli.common import (
    CommandError,
    ask_password,
    endpoint_list,
    parse_duration,
    split_user_password,
)
from etcdmap.cli.dumpfile import (
    Entry,
    Progress,
    dump_document,
    entries_from_node,
    parse_document,
    plan_load,
    write_document,
)
from etcdmap.cli.options import finish
from etcdmap.cli.v2.auth import canonical_path
from etcdmap.cli.v2.keys import watch_environment
from etcdmap.cli.v2.members import format_member
from etcdmap.cli.v2.printing import (
    format_expiration,
    go_json,
    node_to_go,
    print_ls,
    print_response,
    response_to_go,
)
from etcdmap.errors import (
    ClusterError,
    DeadlineExceeded,
    InsufficientCredentials,
    KeyNotFound,
    MemberNotFound,
    Unauthorized,
)
from etcdmap.models import Node
from etcdmap.v2.models import Member, Response


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2s", 2.0), ("500ms", 0.5), ("1m30s", 90.0), ("2.5", 2.5), ("0", 0.0), ("1h", 3600.0),
     ("1.5s", 1.5), ("250us", 0.00025)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "2x", "s", "-1", "1s2", "2 s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


def test_split_user_password() -> None:
    assert split_user_password("root") == ("root", None)
    assert split_user_password("root:") == ("root", "")
    assert split_user_password("root:a:b") == ("root", "a:b")


def test_endpoint_list_defaults_the_scheme() -> None:
    assert endpoint_list("127.0.0.1:2379, https://h:1 ,") == [
        "http://127.0.0.1:2379",
        "https://h:1",
    ]
    with pytest.raises(CommandError):
        endpoint_list(" , ")


def test_ask_password_reads_a_line_from_a_pipe() -> None:
    stderr = io.StringIO()
    assert ask_password("Password: ", io.StringIO("s3cret\nnext\n"), stderr) == "s3cret"
    assert "s3cret" not in stderr.getvalue()
    with pytest.raises(CommandError):
        ask_password("Password: ", io.StringIO(""), stderr)


def test_parser_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.ENDPOINTS_ENV, raising=False)
    args = cli.build_parser().parse_args(["get", "/k"])
    assert args.endpoints is None  # not given: finish() fills it in once the API is known
    finish(args, "v2")
    assert args.endpoints == "http://127.0.0.1:2379"
    assert (args.timeout, args.total_timeout, args.output) == (2.0, 5.0, "simple")
    assert not args.no_sync
    monkeypatch.setenv(cli.ENDPOINTS_ENV, "http://10.0.0.1:2379")
    args = cli.build_parser().parse_args(["-o", "json", "--timeout", "300ms", "ls"])
    finish(args, "v2")
    assert args.endpoints == "http://10.0.0.1:2379"
    assert (args.output, args.timeout, args.key) == ("json", 0.3, "/")


def test_etcdctl_environment_counts_on_v3_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.ENDPOINTS_ENV, raising=False)
    monkeypatch.setenv("ETCDCTL_ENDPOINTS", "http://10.0.0.9:2379")
    monkeypatch.setenv("ETCDCTL_DIAL_TIMEOUT", "750ms")
    for api, endpoints, timeout in (("v2", "http://127.0.0.1:2379", 2.0),
                                    ("v3", "http://10.0.0.9:2379", 0.75)):
        args = argparse.Namespace(endpoints=None, timeout=None)
        finish(args, api)
        assert (args.endpoints, args.timeout) == (endpoints, timeout), api
    monkeypatch.setenv(cli.ENDPOINTS_ENV, "http://10.0.0.1:2379")  # etcdmap's own wins
    args = argparse.Namespace(endpoints=None)
    finish(args, "v3")
    assert args.endpoints == "http://10.0.0.1:2379"
    monkeypatch.setenv("ETCDCTL_COMMAND_TIMEOUT", "soon")
    with pytest.raises(CommandError, match=r"\$ETCDCTL_COMMAND_TIMEOUT: invalid duration"):
        finish(argparse.Namespace(), "v3")


def test_usage_errors_exit_1_not_2(capsys: pytest.CaptureFixture[str]) -> None:
    # argparse's own status 2 would read as "bad connection" in etcdctl's table.
    for argv in (["get"], ["nope"], ["-o", "yaml", "get", "/k"], ["--timeout", "x", "ls"],
                 ["member"], ["role", "grant"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(["--api", "v2", *argv])
        assert exc.value.code == 1, argv
    assert "usage:" in capsys.readouterr().err


def test_exec_watch_without_a_command_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--api", "v2", "--endpoints", "http://127.0.0.1:1", "exec-watch", "/k", "--"]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err == "Error:  key and command to exec required\n"


def test_exit_codes_follow_etcdctl() -> None:
    assert cli.exit_code_for(KeyNotFound("Key not found", "/k", 3)) == 4
    assert cli.exit_code_for(MemberNotFound("no such member", 404)) == 4
    assert cli.exit_code_for(ClusterError([("http://h:1", OSError("refused"))])) == 2
    assert cli.exit_code_for(DeadlineExceeded("late")) == 2
    assert cli.exit_code_for(Unauthorized("The request requires user authentication")) == 3
    assert cli.exit_code_for(InsufficientCredentials("Insufficient credentials", 401)) == 3


# --------------------------------------------------------------------------- formats

FOO = Node(key="/foo", value="bar", created_index=7, modified_index=9)
EXPIRES = datetime(2026, 11, 24, 8, 30, 1, 500000, tzinfo=timezone.utc)


def test_go_json_is_compact_and_html_safe() -> None:
    encoded = go_json({"v": "<a>&b", "u": "ü\u2028"})
    assert encoded == '{"v":"\\u003ca\\u003e\\u0026b","u":"ü\\u2028"}'


def test_format_expiration() -> None:
    assert format_expiration(EXPIRES) == "2026-11-24T08:30:01.5Z"
    assert format_expiration(EXPIRES.replace(microsecond=0)) == "2026-11-24T08:30:01Z"
    plus_one = EXPIRES.astimezone(timezone(timedelta(hours=1)))
    assert format_expiration(plus_one) == "2026-11-24T08:30:01.5Z"


def test_node_json_matches_the_go_client() -> None:
    assert go_json(node_to_go(FOO)) == (
        '{"key":"/foo","value":"bar","nodes":null,"createdIndex":7,"modifiedIndex":9}'
    )
    d = Node(key="/d", dir=True, nodes=(FOO,), created_index=1, modified_index=1, ttl=5,
             expiration=EXPIRES)
    assert list(node_to_go(d)) == [
        "key", "dir", "value", "nodes", "createdIndex", "modifiedIndex", "expiration", "ttl",
    ]
    assert node_to_go(d)["value"] == ""
    resp = response_to_go(Response("get", node=FOO))
    assert resp == {"action": "get", "node": node_to_go(FOO), "prevNode": None}


def render(resp: Response, output: str) -> str:
    out = io.StringIO()
    print_response(resp, output, out)
    return out.getvalue()


def test_simple_format() -> None:
    assert render(Response("get", node=FOO, index=12), "simple") == "bar\n"
    deleted = Response("delete", node=Node("/foo", modified_index=10), prev_node=FOO)
    assert render(deleted, "simple") == "PrevNode.Value: bar\n"


def test_extended_format() -> None:
    resp = Response("set", node=FOO, prev_node=Node("/foo", value="old"), index=12)
    assert render(resp, "extended") == (
        "Key: /foo\nCreated-Index: 7\nModified-Index: 9\nPrevNode.Value: old\nTTL: 0\n"
        "Index: 12\n\nbar\n"
    )
    deleted = Response("delete", node=Node("/foo", modified_index=10, created_index=7),
                       prev_node=FOO, index=10)
    assert render(deleted, "extended") == (
        "Key: /foo\nCreated-Index: 7\nModified-Index: 10\nPrevNode.Value: bar\nTTL: 0\n"
        "Index: 10\n"
    )


def test_json_format_and_unknown_format() -> None:
    assert render(Response("get", node=FOO), "json") == (
        '{"action":"get","node":{"key":"/foo","value":"bar","nodes":null,"createdIndex":7,'
        '"modifiedIndex":9},"prevNode":null}\n'
    )
    with pytest.raises(ValueError, match="yaml"):
        render(Response("get", node=FOO), "yaml")


TREE = Node(
    key="/d",
    dir=True,
    nodes=(
        Node("/d/a", value="1"),
        Node("/d/sub", dir=True, nodes=(Node("/d/sub/x", value="2"),)),
        Node("/d/empty", dir=True),
    ),
)


def test_ls_prints_keys_depth_first() -> None:
    out = io.StringIO()
    print_ls(Response("get", node=TREE), "simple", out)
    assert out.getvalue() == "/d/a\n/d/sub\n/d/sub/x\n/d/empty\n"
    out = io.StringIO()
    print_ls(Response("get", node=TREE), "simple", out, slash_dirs=True)
    assert out.getvalue() == "/d/a\n/d/sub/\n/d/sub/x\n/d/empty/\n"
    out = io.StringIO()
    print_ls(Response("get", node=FOO), "simple", out)  # a file lists itself
    assert out.getvalue() == "/foo\n"


def test_member_lines() -> None:
    m = Member("8e9e05c52164694d", "default", ("http://localhost:2380",),
               ("http://localhost:2379", "http://h:2379"))
    assert format_member(m, "8e9e05c52164694d") == (
        "8e9e05c52164694d: name=default peerURLs=http://localhost:2380 "
        "clientURLs=http://localhost:2379,http://h:2379 isLeader=true"
    )
    assert format_member(m, "other").endswith("isLeader=false")
    new = Member("2745e2525fce8fe", "", ("http://a:1", "http://b:2"))
    assert format_member(new, None) == "2745e2525fce8fe[unstarted]: peerURLs=http://a:1,http://b:2"


@pytest.mark.parametrize(
    ("path", "canonical"),
    [("", "/"), ("/", "/"), ("foo", "/foo"), ("/foo/*", "/foo/*"), ("/a//b/../c/", "/a/c/"),
     ("/a/./b", "/a/b"), ("/..", "/")],
)
def test_canonical_path(path: str, canonical: str) -> None:
    assert canonical_path(path) == canonical


def test_watch_environment() -> None:
    resp = Response("set", node=FOO)
    env = watch_environment(resp, {"PATH": "/bin"})
    assert env == {
        "PATH": "/bin",
        "ETCD_WATCH_ACTION": "set",
        "ETCD_WATCH_MODIFIED_INDEX": "9",
        "ETCD_WATCH_KEY": "/foo",
        "ETCD_WATCH_VALUE": "bar",
    }


# --------------------------------------------------------------------------- dump / load


def test_entries_are_relative_and_pre_order() -> None:
    tree = Node("/d", dir=True, ttl=30, nodes=(
        Node("/d/a", value="1", ttl=5),
        Node("/d/sub", dir=True, nodes=(Node("/d/sub/x", value=""),)),
    ))
    assert entries_from_node(tree) == [
        Entry("", None), Entry("a", "1"), Entry("sub", None), Entry("sub/x", ""),
    ]
    with_ttl = entries_from_node(tree, with_ttl=True)
    assert [(e.key, e.ttl) for e in with_ttl] == [("", 30), ("a", 5), ("sub", None),
                                                   ("sub/x", None)]
    assert entries_from_node(Node("/f", value="v")) == [Entry("", "v")]
    root = Node("", dir=True, nodes=(Node("/k", value="v"),))  # the key space's root
    assert entries_from_node(root) == [Entry("", None), Entry("k", "v")]


def test_document_round_trip() -> None:
    entries = [Entry("", None), Entry("a b?#%", "ü\n", 10), Entry("e", None, 3)]
    doc = dump_document("/src", 42, entries)
    out = io.StringIO()
    write_document(out, doc)
    text = out.getvalue()
    assert text.count("\n") == len(entries) + 2  # a head line, one line per node, an end line
    assert json.loads(text) == doc
    assert parse_document(json.loads(text)) == entries


@pytest.mark.parametrize(
    "doc",
    [[], {"nodes": []}, {"etcdmap_dump": 2, "nodes": []}, {"etcdmap_dump": 1},
     {"etcdmap_dump": 1, "nodes": [{"value": "v"}]},
     {"etcdmap_dump": 1, "nodes": [{"key": "k"}]},
     {"etcdmap_dump": 1, "nodes": [{"key": "k", "value": "v", "dir": True}]},
     {"etcdmap_dump": 1, "nodes": [{"key": "k", "value": 1}]},
     {"etcdmap_dump": 1, "nodes": [{"key": "k", "value": "v", "ttl": -1}]},
     {"etcdmap_dump": 1, "nodes": [{"key": "k", "value": "v", "ttl": True}]}],
)
def test_parse_document_rejects(doc: object) -> None:
    with pytest.raises(ValueError):
        parse_document(doc)


def test_plan_load() -> None:
    entries = [Entry("", None), Entry("a", "1"), Entry("sub", None), Entry("sub/x", "2")]
    writes, conflicts = plan_load(entries, "/dst/", {})
    assert [k for k, _ in writes] == ["/dst", "/dst/a", "/dst/sub", "/dst/sub/x"]
    assert conflicts == []
    existing = {"/dst": True, "/dst/sub": True, "/dst/a": False}
    writes, conflicts = plan_load(entries, "/dst", existing)
    assert [k for k, _ in writes] == ["/dst/a", "/dst/sub/x"]  # existing dirs are merged
    assert conflicts == ["/dst/a"]
    writes, conflicts = plan_load(entries, "/dst", {"/dst/sub": False})
    assert conflicts == ["/dst/sub"]  # a directory over a file
    writes, _ = plan_load(entries, "/", {})
    assert [k for k, _ in writes] == ["/a", "/sub", "/sub/x"]  # the root is never written


def test_progress_only_on_a_terminal_and_large_trees() -> None:
    quiet = io.StringIO()
    p = Progress(quiet, 1000, "load")
    p.step(1000)
    p.finish()
    assert not p.active and quiet.getvalue() == ""
    small = FakeTTY()
    p = Progress(small, 10, "load")
    assert not p.active
    tty = FakeTTY()
    p = Progress(tty, 400, "load")
    assert p.active
    for _ in range(400):
        p.step()
    p.finish()
    text = tty.getvalue()
    assert text.count("\r") == 101  # redrawn once per percent (0..100), not once per key
    assert text.endswith("\rload [" + "#" * Progress.WIDTH + "] 400/400\n")
