"""``etcdmap --api v3 txn`` against ``etcdctl`` 3.5.1 on the same etcd: the grammar on stdin
(compares, success and failure requests), both branches in every format, and the input errors
(exit 3) etcdctl reports. Each case starts from the same keys (:func:`etcdctl3.same`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from etcdctl3 import needs_etcdctl3, same

from etcdmap.v3 import Client as V3Client

pytestmark = needs_etcdctl3

CLI = Callable[..., Any]


def test_both_branches_in_every_format(cli: CLI, etcd_url: str, v3: V3Client,
                                       etcd_prefix: str) -> None:
    p = etcd_prefix

    def reset() -> None:
        v3.kv.delete(f"{p}/", prefix=True)
        v3.kv.put(f"{p}/a", "1")
        v3.kv.put(f"{p}/c", "x")

    success = (f'value("{p}/a") = "1"\nversion("{p}/a") > "0"\ncreate("{p}/b") = "0"\n'
               f'mod("{p}/a") < "99999999"\nval("{p}/c") != "y"\n\n'
               f'put {p}/a 2 --prev-kv\nget {p}/ --prefix\ndel {p}/c --prev-kv\n\n'
               f"get {p}/a\n\n")
    failure = (f'ver("{p}/a") = "7"\n\nput {p}/a never\n\n'
               f'get --prefix --keys-only {p}/\nput {p}/b "two words"\n'
               f"del --prefix {p}/c\n\n")
    for stdin in (success, failure):
        for fmt in ("simple", "json", "fields"):
            same(cli, etcd_url, "txn", "-w", fmt, stdin=stdin, before=reset)
    assert v3.kv.get(f"{p}/b") == b"two words"  # the failure branch ran last
    empty = "\n\n\n"
    same(cli, etcd_url, "txn", stdin=empty)
    same(cli, etcd_url, "txn", "-i", stdin=empty)  # prompts on stdout


def test_input_errors(cli: CLI, etcd_url: str, etcd_prefix: str) -> None:
    k = f"{etcd_prefix}/a"
    codes = [same(cli, etcd_url, "txn", stdin=stdin)[0] for stdin in (
        "bogus\n\n\n\n",
        f'value("{k}") =\n\n\n\n',
        f'foo("{k}") = "1"\n\n\n\n',
        f'ver("{k}") = "x"\n\n\n\n',
        f'c("{k}") = 1\n\n\n\n',
        "\n\nput\n\n\n",
        "\n\nwrite a b\n\n\n",
        f"\n\nput {k} v --bogus\n\n\n",
        f'value("{k}") = "1"\n',
        "",
    )]
    assert codes == [3] * 10
    assert same(cli, etcd_url, "txn", "extra", stdin="\n\n\n")[0] == 128
    assert same(cli, etcd_url, "txn", stdin=f"\n\nput {k} v\nput {k} w\n\n\n")[0] == 1
