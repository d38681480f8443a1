"""``etcdmap --api v3`` key verbs against ``etcdctl`` 3.5.1 on the same etcd: ``get``, ``put``,
``del`` and ``compaction``, every format, the argument errors and the global flags.

Each case runs etcdctl, then etcdmap, from the same state (a write's key is put back before
each run) and compares the exit code, stdout and the ``Error:`` line of stderr, with only the
IDs, revisions and timings that differ between two runs taken out (:mod:`etcdctl3`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from etcdctl3 import etcdctl3, needs_etcdctl3, same

from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client as V3Client

pytestmark = needs_etcdctl3

CLI = Callable[..., Any]


def fill(v3: V3Client, p: str) -> int:
    for key, value in (("a", "1"), ("b", "22"), ("c", "<&>"), ("d", "ü\nx\ty"), ("e", "")):
        v3.kv.put(f"{p}/{key}", value)
    return v3.kv.put(f"{p}/a", "1b").header.revision


def test_get_in_every_format_and_option(cli: CLI, etcd_url: str, v3: V3Client,
                                        etcd_prefix: str) -> None:
    p = etcd_prefix
    rev = fill(v3, p)
    for args in (
        ("get", f"{p}/a"),
        ("get", f"{p}/d", "-w", "json"),
        ("get", f"{p}/d", "-w", "fields"),
        ("-w", "json", "get", f"{p}/missing"),
        ("get", "--prefix", f"{p}/"),
        ("get", f"{p}/b", f"{p}/e"),
        ("get", "--prefix", "--keys-only", f"{p}/"),
        ("get", "--prefix", "--limit", "2", "-w", "json", f"{p}/"),
        ("get", "--prefix", "--sort-by=VALUE", "--order=DESCEND", f"{p}/"),
        ("get", "--prefix", "--sort-by", "modify", f"{p}/"),
        ("get", "--prefix", "--order", "descend", f"{p}/"),
        ("get", "--prefix", "--print-value-only", f"{p}/"),
        ("get", "--prefix", "--count-only", "-w", "fields", f"{p}/"),
        ("get", "--from-key", "--limit=2", "--keys-only", f"{p}/c"),
        ("get", "--rev", str(rev - 1), f"{p}/a"),
        ("get", "--consistency=s", f"{p}/a"),
        ("get", f"{p}/a", "--prefix=false", "--keys-only=true"),
    ):
        same(cli, etcd_url, *args)


def test_get_argument_errors(cli: CLI, etcd_url: str, etcd_prefix: str) -> None:
    k = f"{etcd_prefix}/k"
    codes = []
    for args in (
        ("get",),
        ("get", "--prefix", k, "z"),
        ("get", "--prefix", "--from-key", k),
        ("get", "--keys-only", "--count-only", k),
        ("get", "--count-only", k),
        ("get", "--print-value-only", "-w", "json", k),
        ("get", "-w", "table", k),
        ("get", "-w", "yaml", k),
        ("get", "--sort-by", "bogus", k),
        ("get", "--order", "up", k),
        ("get", "--consistency", "x", k),
        ("get", "--rev", "99999999", k),
        ("get", ""),
        ("get", "--limit", "many", k),
        ("get", "--bogus", k),
    ):
        codes.append(same(cli, etcd_url, *args)[0])
    assert codes == [128, 128, 128, 128, 128, 128, 4, 4, 4, 4, 4, 1, 1, 1, 1]


def test_put_and_its_options(cli: CLI, etcd_url: str, v3: V3Client, etcd_prefix: str) -> None:
    k = f"{etcd_prefix}/k"

    def reset() -> None:
        v3.kv.delete(k)
        v3.kv.put(k, "old")

    for args, stdin in (
        (("put", k, "new"), None),
        (("put", k, "new", "--prev-kv"), None),
        (("put", "--prev-kv", "-w", "json", k, "new"), None),
        (("put", "-w", "fields", "--prev-kv", k, "new"), None),
        (("put", k), "from stdin\nline 2\n"),
        (("put", k, "--ignore-value"), None),
        (("put", k, "--", "-dash"), None),
        (("put", "--", k, "-dash"), None),
    ):
        same(cli, etcd_url, *args, stdin=stdin, before=reset)
        assert v3.kv.get(k) == (stdin.encode() if stdin else
                                b"old" if "--ignore-value" in args else
                                b"-dash" if "-dash" in args else b"new")


def test_put_with_a_lease_and_its_errors(cli: CLI, etcd_url: str, v3: V3Client,
                                         etcd_prefix: str) -> None:
    k = f"{etcd_prefix}/k"
    lease = v3.lease.grant(60).id
    same(cli, etcd_url, "put", f"--lease={lease:x}", k, "v")
    assert v3.kv.range(k).kvs[0].lease == lease
    same(cli, etcd_url, "put", "--ignore-lease", k, "v2")
    assert v3.kv.range(k).kvs[0].lease == lease
    codes = [same(cli, etcd_url, *args)[0] for args in (
        ("put",),
        ("put", k),
        ("put", k, "v", "--ignore-value"),
        ("put", "--lease", "zz", k, "v"),
        ("put", "--lease", "1234abcd", k, "v"),
        ("put", "--ignore-value", f"{etcd_prefix}/missing"),
        ("put", "--ignore-lease", "--lease=1", k, "v"),
    )]
    assert codes == [128, 128, 128, 128, 1, 1, 1]


def test_del_and_its_options(cli: CLI, etcd_url: str, v3: V3Client, etcd_prefix: str) -> None:
    p = etcd_prefix

    def reset() -> None:
        v3.kv.delete(f"{p}/", prefix=True)
        fill(v3, p)

    for args in (
        ("del", f"{p}/a"),
        ("del", f"{p}/missing"),
        ("del", "--prev-kv", f"{p}/b"),
        ("del", "--prefix", "--prev-kv", "-w", "json", f"{p}/"),
        ("del", "-w", "fields", "--prev-kv", f"{p}/a", f"{p}/c"),
    ):
        same(cli, etcd_url, *args, before=reset)
    codes = [same(cli, etcd_url, *args)[0] for args in (
        ("del",), ("del", "a", "b", "c"), ("del", "--prefix", "a", "b"),
        ("del", "--prefix", "--from-key", "a"), ("del", "-w", "table", "a"),
    )]
    assert codes == [128, 128, 128, 128, 4]


def test_global_flags_in_etcdctl_spelling_anywhere(cli: CLI, etcd_url: str, v3: V3Client,
                                                   etcd_prefix: str) -> None:
    k = f"{etcd_prefix}/g"
    v3.kv.put(k, "v")
    url = etcd_url.removeprefix("http://")
    ours = cli("--api", "v3", "get", k, "--endpoints", url, "--dial-timeout=1s",
               "--command-timeout", "3s", "-w", "json", endpoints="http://127.0.0.1:9")
    assert ours.code == 0 and json.loads(ours.out)["kvs"][0]["value"] == "dg=="
    ours = cli("--api", "v3", "--write-out=fields", "get", k)
    assert '"Value" : "v"' in ours.out


@pytest.fixture(scope="module")
def own_server() -> Iterator[str]:
    """A server of this module's own: compaction drops history for every client, and
    ``del --from-key`` deletes every key after one."""
    with EtcdServer(enable_v2=False) as server:
        yield server.client_url


def test_compaction(cli: CLI, own_server: str) -> None:
    with V3Client(own_server) as v3:
        revs = [v3.kv.put("c", str(i)).header.revision for i in range(4)]
    # a compaction cannot run twice: each tool compacts at its own revision
    for theirs_rev, ours_rev, flags in ((revs[0], revs[1], ()),
                                        (revs[2], revs[3], ("--physical", "-w", "json"))):
        theirs = etcdctl3(own_server, "compaction", *flags, str(theirs_rev))
        ours = cli("--api", "v3", "compaction", *flags, str(ours_rev), endpoints=own_server)
        assert (theirs.code, theirs.out) == (0, f"compacted revision {theirs_rev}\n")
        assert (ours.code, ours.out) == (0, f"compacted revision {ours_rev}\n")
    codes = [same(cli, own_server, *args)[0] for args in (
        ("compaction", str(revs[1])), ("compaction", "99999"), ("compaction", "x"),
        ("compaction",),
    )]
    assert codes == [1, 1, 1, 128]
    # a watch from a compacted revision: etcd cancels it (exit 5, "watch was canceled" first)
    code, _, err = same(cli, own_server, "watch", "--rev", str(revs[0]), "c")
    assert code == 5 and err.startswith("watch was canceled (etcdserver: mvcc: required "
                                        "revision has been compacted)\n")

    def reset() -> None:
        with V3Client(own_server) as v3:
            for key in ("a", "b", "c"):
                v3.kv.put(key, key)

    same(cli, own_server, "del", "--from-key", "b", "--prev-kv", before=reset)
    same(cli, own_server, "del", "--prefix", "", before=reset)  # "": every key


def test_version(cli: CLI, etcd_url: str) -> None:
    ours = cli("--api", "v3", "version")
    theirs = etcdctl3(etcd_url, "version")
    assert ours.code == theirs.code == 0
    assert ours.out.splitlines()[1] == theirs.out.splitlines()[1] == "API version: 3.5"
    assert ours.out.startswith("etcdmap version: ")
