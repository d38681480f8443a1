"""``etcdmap --api v3 alarm|defrag|snapshot save|move-leader|endpoint health|lock|elect``
against ``etcdctl`` 3.5.1: the verbs on the client's maintenance, lock and election services.
An alarm is raised for real: a server of this module's own, with a 2 MB quota, filled until
etcd raises NOSPACE.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from etcdctl3 import etcdctl3, needs_etcdctl3, normalise, run_until, same

from etcdmap.errors import EtcdMapError
from etcdmap.testing import EtcdCluster, EtcdServer
from etcdmap.v3 import Client as V3Client

CLI = Callable[..., Any]

pytestmark = needs_etcdctl3

ALARM_FORMATS = ("simple", "json", "fields")


@pytest.fixture(scope="module")
def small() -> Iterator[str]:
    """A server with a 2 MB backend quota: a few puts raise the NOSPACE alarm."""
    with EtcdServer(enable_v2=False, extra_args=["--quota-backend-bytes", "2097152"]) as server:
        yield server.client_url


def raise_nospace(url: str) -> None:
    with V3Client(url) as client:
        for i in range(40):
            try:
                client.kv.put(f"fill/{i}", "x" * 200_000)
            except EtcdMapError:
                return
    raise AssertionError("no NOSPACE alarm after 8 MB")


def test_alarms_health_and_defrag(cli: CLI, small: str) -> None:
    for fmt in ALARM_FORMATS:
        same(cli, small, "alarm", "list", "-w", fmt)
    for fmt in ("simple", "json"):  # etcdctl's fields printer fails on disarm's headerless answer
        same(cli, small, "alarm", "disarm", "-w", fmt)
    for args in (("endpoint", "health", "-w", "fields"), ("defrag",), ("defrag", "--cluster")):
        same(cli, small, *args)
    raise_nospace(small)
    for fmt in ALARM_FORMATS:
        same(cli, small, "alarm", "list", "-w", fmt)
    for args in (("endpoint", "health"), ("endpoint", "health", "-w", "json")):
        same(cli, small, *args)
    same(cli, small, "alarm", "disarm", "-w", "json", before=lambda: raise_nospace(small))
    code, out, _ = same(cli, small, "alarm", "disarm", before=lambda: raise_nospace(small))
    assert code == 0 and re.fullmatch(r"memberID:\d+ alarm:NOSPACE \n", out)
    with V3Client(small) as client:
        client.kv.delete("fill/", prefix=True)
    same(cli, small, "defrag")
    same(cli, small, "alarm", "disarm")
    assert same(cli, small, "alarm", "list", "extra")[0] == 128


def test_endpoint_health(cli: CLI, etcd_url: str) -> None:
    url = etcd_url.removeprefix("http://")
    for fmt in ("simple", "json", "fields", "table"):
        same(cli, url, "endpoint", "health", "-w", fmt)
    same(cli, url, "endpoint", "health", "--cluster")
    same(cli, f"{url},127.0.0.1:9", "endpoint", "health", "--command-timeout=1s")


def test_endpoint_hashkv_says_what_the_gateway_routes(cli: CLI, etcd_url: str) -> None:
    run = cli("--api", "v3", "endpoint", "hashkv")
    with V3Client(etcd_url) as client:
        version = client.maintenance.status().version
    if tuple(int(p) for p in version.split(".")) >= (3, 5, 10):
        assert same(cli, etcd_url, "endpoint", "hashkv", "-w", "json")[0] == 0
        return
    assert run.code == 1 and "HashKV" in run.err and "3.5.10" in run.err, run.err
    assert run.err.startswith(f"Failed to get the hash of endpoint {etcd_url} (")


def test_snapshot_save(cli: CLI, etcd_url: str, tmp_path: Path) -> None:
    path = tmp_path / "snap.db"
    code, out, _ = same(cli, etcd_url, "snapshot", "save", str(path),
                        before=lambda: path.unlink(missing_ok=True))
    assert (code, out) == (0, f"Snapshot saved at {path}\n") and path.stat().st_size > 0
    for args in (("snapshot", "save"), ("snapshot", "save", str(tmp_path / "no" / "x.db"))):
        assert cli("--api", "v3", *args).code == etcdctl3(etcd_url, *args).code
    two = f"{etcd_url},{etcd_url}"
    assert same(cli, two, "snapshot", "save", str(path))[0] == 5


def test_move_leader(cli: CLI, etcd_cluster: EtcdCluster) -> None:
    url = ",".join(etcd_cluster.client_urls)
    outputs = []
    for tool in ("etcdctl", "etcdmap"):
        etcd_cluster.wait_for_leader()
        with V3Client(etcd_cluster.followers()[0].client_url) as client:
            target = f"{client.maintenance.status().header.member_id:x}"
        run = (etcdctl3(url, "move-leader", target) if tool == "etcdctl" else
               cli("--api", "v3", "move-leader", target, endpoints=url))
        outputs.append((run.code, re.sub(r"\b[0-9a-f]+\b", "<id>", run.out)))
    assert outputs[0] == outputs[1] == (0, "Leadership transferred from <id> to <id>\n")
    follower = etcd_cluster.followers()[0].client_url
    assert same(cli, follower, "move-leader", "1234")[0] == 128  # no leader given
    assert same(cli, url, "move-leader", "zz")[0] == 128


def test_lock_prints_its_key_and_runs_a_command(etcd_url: str, etcd_prefix: str) -> None:
    name = f"{etcd_prefix}/lock"
    printed = []
    for tool in ("etcdctl", "etcdmap"):
        out, _ = run_until(tool, etcd_url, "lock", name, lines=2)
        printed.append(normalise("\n".join(out)))
    assert printed[0] == printed[1] == f"{name}/<id>\n"
    script = 'echo "$ETCD_LOCK_KEY rev=$ETCD_LOCK_REV"; exit 3'
    ran = []
    for tool in ("etcdctl", "etcdmap"):
        out, code = run_until(tool, etcd_url, "lock", name, "--", "sh", "-c", script, lines=1,
                              stop=False)
        ran.append((code, re.sub(r"rev=\d+", "rev=N", normalise("\n".join(out)))))
    assert ran[0] == ran[1] == (3, f"{name}/<id> rev=N")


def test_elect_campaigns_and_observes(etcd_url: str, etcd_prefix: str) -> None:
    name = f"{etcd_prefix}/election"
    for tool in ("etcdctl", "etcdmap"):
        out, _ = run_until(tool, etcd_url, "elect", name, "me", lines=2)
        assert normalise("\n".join(out)) == f"{name}/<id>\nme", tool
    with V3Client(etcd_url) as client:
        lease = client.lease.grant(30).id
        client.kv.put(f"{name}/{lease:x}", "someone", lease=lease)
        observed = [run_until(tool, etcd_url, "elect", "-l", name, lines=2)[0]
                    for tool in ("etcdctl", "etcdmap")]
        client.lease.revoke(lease)
    assert observed[0] == observed[1] == [f"{name}/{lease:x}", "someone"]
