"""``etcdmap --api v3 watch`` and ``lease ...`` against ``etcdctl`` 3.5.1 on the same etcd.

``watch`` and ``lease keep-alive`` run until stopped, so both tools run as processes
(:func:`etcdctl3.run_until`). A watch starts at
a revision (``--rev``), so that what it prints does not depend on when the process got ready.
The one-shot verbs run etcdmap in-process next to etcdctl (:func:`etcdctl3.same`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from etcdctl3 import etcdctl3, needs_etcdctl3, normalise, run_until, same

from etcdmap.v3 import Client as V3Client

pytestmark = needs_etcdctl3

CLI = Callable[..., Any]


def both(url: str, *args: str, lines: int, **kw: Any) -> list[str]:
    """etcdctl's and etcdmap's lines for the same watch, asserted equal (normalised)."""
    theirs, _ = run_until("etcdctl", url, *args, lines=lines, **kw)
    ours, _ = run_until("etcdmap", url, *args, lines=lines, **kw)
    assert normalise("\n".join(ours)) == normalise("\n".join(theirs)), (ours, theirs)
    assert len(ours) >= lines
    return ours


def test_watch_replays_history_in_every_format_and_runs_a_command(
    etcd_url: str, v3: V3Client, etcd_prefix: str
) -> None:
    k = f"{etcd_prefix}/w/a"
    start = v3.kv.put(k, "1").header.revision
    v3.kv.put(k, "2")
    v3.kv.delete(k)
    prefix = ("watch", "--prefix", f"{etcd_prefix}/w/", "--rev", str(start))
    out = both(etcd_url, *prefix, "--prev-kv", lines=13)
    assert out[:3] == ["PUT", k, "1"] and out[8:11] == ["DELETE", k, "2"]
    both(etcd_url, *prefix, "-w", "json", lines=1)
    script = 'echo "$ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_REVISION"'
    out = both(etcd_url, "watch", k, "--rev", str(start), "--", "sh", "-c", script, lines=12)
    assert out[9:] == [f'"PUT" "{k}" "1" {start + 2}', f'"PUT" "{k}" "2" {start + 2}',
                       f'"DELETE" "{k}" "" {start + 2}']


def test_watch_of_a_range_sees_a_new_change(etcd_url: str, v3: V3Client,
                                            etcd_prefix: str) -> None:
    now = v3.kv.range(etcd_prefix).header.revision
    v3.kv.put(f"{etcd_prefix}/r/b", "in range")
    v3.kv.put(f"{etcd_prefix}/r/z", "not in range")
    args = ("watch", f"{etcd_prefix}/r/a", f"{etcd_prefix}/r/c", "--rev", str(now + 1))
    assert both(etcd_url, *args, lines=3) == ["PUT", f"{etcd_prefix}/r/b", "in range"]


def test_watch_argument_errors(cli: CLI, etcd_url: str) -> None:
    codes = [same(cli, etcd_url, *args)[0] for args in (
        ("watch",), ("watch", "--prefix", "a", "b"), ("watch", "a", "--"),
        ("watch", "--rev", "x", "a"),
    )]
    assert codes == [128, 128, 128, 1]


def test_lease_grant_revoke_timetolive_list(cli: CLI, etcd_url: str, v3: V3Client,
                                            etcd_prefix: str) -> None:
    for fmt in ("simple", "json", "fields"):
        same(cli, etcd_url, "lease", "grant", "60", "-w", fmt)
    same(cli, etcd_url, "lease", "grant", "0")  # below etcd's minimum: raised to it
    lease = v3.lease.grant(60).id
    v3.kv.put(f"{etcd_prefix}/lk", "v", lease=lease)
    for args in (("lease", "timetolive", f"{lease:x}"),
                 ("lease", "timetolive", "--keys", f"{lease:x}"),
                 ("lease", "timetolive", f"{lease:x}", "--keys", "-w", "json"),
                 ("lease", "timetolive", f"{lease:x}", "-w", "fields"),
                 ("lease", "timetolive", "1234"), ("lease", "timetolive", "1234", "-w", "json"),
                 ("lease", "list"), ("lease", "list", "-w", "json"),
                 ("lease", "list", "-w", "fields"),
                 ("lease", "keep-alive", "--once", f"{lease:x}"),
                 ("lease", "keep-alive", "--once", f"{lease:x}", "-w", "json")):
        same(cli, etcd_url, *args)
    for fmt in ("simple", "json", "fields"):
        # each tool revokes a lease of its own: the outputs differ only by the ID
        ids = [v3.lease.grant(60).id for _ in range(2)]
        theirs = etcdctl3(etcd_url, "lease", "revoke", f"{ids[0]:x}", "-w", fmt)
        ours = cli("--api", "v3", "lease", "revoke", f"{ids[1]:x}", "-w", fmt)
        assert (ours.code, normalise(ours.out)) == (theirs.code, normalise(theirs.out))
    codes = [same(cli, etcd_url, *args)[0] for args in (
        ("lease", "revoke", "1234"), ("lease", "revoke", "zz"), ("lease", "revoke"),
        ("lease", "grant"), ("lease", "grant", "x"), ("lease", "timetolive"),
        ("lease", "keep-alive", "--once", "1234"), ("lease", "timetolive", "-w", "table", "1"),
    )]
    assert codes == [1, 128, 128, 128, 128, 128, 2, 4]


def test_lease_keep_alive_until_revoked(etcd_url: str, v3: V3Client) -> None:
    outputs = []
    for tool in ("etcdctl", "etcdmap"):
        lease = v3.lease.grant(6).id
        out, code = run_until(tool, etcd_url, "lease", "keep-alive", f"{lease:x}", lines=1,
                              then=lambda lease=lease: v3.lease.revoke(lease), stop=False)
        assert code == 0, (tool, out)
        outputs.append(out)
    theirs, ours = outputs
    assert normalise(ours[0]) == normalise(theirs[0]) == "lease <id> keepalived with TTL(6)"
    assert normalise(ours[-1]) == normalise(theirs[-1]) == "lease <id> expired or revoked."
