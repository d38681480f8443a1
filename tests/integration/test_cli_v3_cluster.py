"""``etcdmap --api v3 member ...`` and ``endpoint status|hashkv`` against ``etcdctl`` 3.5.1 on
a 3-member cluster (members come and go without losing the quorum), and ``member add`` on a
one-member cluster warning that it loses its quorum (v3 and v2 sets, each on its own server)."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable
from typing import Any

from etcdctl3 import etcdctl3, needs_etcdctl3, normalise, same

from etcdmap.errors import EtcdMapError
from etcdmap.testing import EtcdCluster, EtcdServer
from etcdmap.v3 import Client as V3Client
from etcdmap.v3.errors import UnhealthyCluster

pytestmark = needs_etcdctl3

CLI = Callable[..., Any]


def free_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def drop_members(url: str, peer: str) -> None:
    """Remove the members added with ``peer`` (by either tool).

    etcd derives a new member's ID from its peer URLs and the Unix second of the add, and
    refuses the ID of a removed member ("member not found"): after a removal, the next add
    of the same URLs waits for the next second.
    """
    dropped = False
    with V3Client(url.split(",")) as client:
        for member in client.members.list(linearizable=True).members:
            if peer in member.peer_urls:
                client.members.remove(member.id)
                dropped = True
    if dropped:
        time.sleep(1.02 - time.time() % 1)


def test_endpoint_status(cli: CLI, etcd_cluster: EtcdCluster) -> None:
    url = ",".join(u.removeprefix("http://") for u in etcd_cluster.client_urls)
    for args in (("endpoint", "status"), ("endpoint", "status", "-w", "json"),
                 ("endpoint", "status", "-w", "fields"), ("endpoint", "status", "-w", "table"),
                 ("endpoint", "status", "--cluster")):
        same(cli, url, *args)
    down = f"{url.split(',')[0]},127.0.0.1:9"
    ours = cli("--api", "v3", "endpoint", "status", "--command-timeout=2s", endpoints=down)
    assert ours.code == 1 and ours.out.count("\n") == 1
    assert ours.err.startswith("Failed to get the status of endpoint 127.0.0.1:9 (")


def add_learner(url: str, *peers: str) -> int:
    """Add a learner, waiting while etcd refuses member changes (unapplied) as ``unhealthy
    cluster``: its strict reconfiguration check, for ~5 s after a start or a change."""
    deadline = time.monotonic() + 30
    with V3Client(url.split(",")) as client:
        while True:
            try:
                return client.members.add(list(peers), learner=True).member.id
            except UnhealthyCluster:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)


def ready_for_member_changes(url: str) -> None:
    """Wait until etcd takes member changes (see :func:`add_learner`)."""
    with V3Client(url.split(",")) as client:
        client.members.remove(add_learner(url, free_url()))


def test_member_verbs(cli: CLI, etcd_cluster: EtcdCluster) -> None:
    url = ",".join(etcd_cluster.client_urls)
    ready_for_member_changes(url)
    for fmt in ("simple", "json", "fields", "table"):
        same(cli, url, "member", "list", "-w", fmt)
    peer, other = free_url(), free_url()
    for args, first in ((("member", "add", "new", f"--peer-urls={peer}"), peer),
                        (("member", "add", "--learner", "new", f"--peer-urls={peer},{other}"),
                         peer)):
        same(cli, url, *args, before=lambda first=first: drop_members(url, first))
        drop_members(url, first)
    added_json = []  # etcd lists members by ID, and the new one's ID is new on each run
    for tool in ("etcdctl", "etcdmap"):
        drop_members(url, other)
        run = (etcdctl3(url, "member", "add", "new", "--peer-urls", other, "-w", "json")
               if tool == "etcdctl" else
               cli("--api", "v3", "member", "add", "new", "--peer-urls", other, "-w", "json",
                   endpoints=url))
        doc = json.loads(run.out)
        doc["members"].sort(key=lambda m: m["peerURLs"])
        added_json.append(normalise(json.dumps(doc, separators=(",", ":"))))
    assert added_json[0] == added_json[1]
    drop_members(url, other)
    added_id = add_learner(url, peer, other)
    for args in (("member", "list"),
                 ("member", "promote", f"{added_id:x}"),  # a learner that never started
                 ("member", "update", f"{added_id:x}", f"--peer-urls={other}"),
                 ("member", "add", "new", f"--peer-urls={other}"),  # taken now
                 ("member", "list", "-w", "table")):
        same(cli, url, *args)

    with V3Client(url.split(",")) as client:
        client.members.remove(added_id)  # etcd takes one learner at a time
    removed = []  # each tool removes a learner of its own: they differ only by the IDs
    for tool in ("etcdctl", "etcdmap"):
        learner = f"{add_learner(url, free_url()):x}"
        run = (etcdctl3(url, "member", "remove", learner) if tool == "etcdctl" else
               cli("--api", "v3", "member", "remove", learner, endpoints=url))
        removed.append((run.code, normalise(run.out)))
    assert removed[0] == removed[1] == (0, "Member <id> removed from cluster <id>\n")
    codes = [same(cli, url, *args)[0] for args in (
        ("member", "add"), ("member", "add", "a", "http://x:2380"), ("member", "add", "a"),
        ("member", "remove"), ("member", "remove", "zz"), ("member", "remove", "1234"),
        ("member", "update", "1234"), ("member", "promote", "1234"),
    )]
    assert codes == [128, 128, 128, 128, 128, 1, 128, 1]
    # etcdctl sends the change, then finds it cannot print it (exit 4, the member removed);
    # etcdmap checks the format first and sends nothing
    run = cli("--api", "v3", "member", "remove", "1234", "-w", "fields", endpoints=url)
    assert (run.code, run.err) == (4, "Error: fields not supported as output format\n")


def test_member_add_on_a_one_member_cluster_warns_of_the_lost_quorum(cli: CLI) -> None:
    expected = ("warning: the cluster now has 2 voting members and needs 2 for a quorum, but "
                "only 1 is running: it accepts no writes")
    with EtcdServer(enable_v2=False) as server:
        run = cli("--api", "v3", "member", "add", "second", f"--peer-urls={free_url()}",
                  endpoints=server.client_url)
        assert run.code == 0 and run.err.startswith(expected)
        assert re.match(r"Member +[0-9a-f]+ added to cluster +[0-9a-f]+\n\nETCD_NAME=\"second\"\n",
                        run.out)
    with EtcdServer() as server:
        run = cli("--api", "v2", "member", "add", "second", free_url(),
                  endpoints=server.client_url)
        assert run.code == 0 and run.err.startswith(expected)
        assert run.out.startswith("Added member named second with ID ")
    with EtcdServer(enable_v2=False) as server:  # a learner keeps the quorum: no warning
        run = cli("--api", "v3", "member", "add", "--learner", "l", f"--peer-urls={free_url()}",
                  endpoints=server.client_url)
        assert (run.code, run.err) == (0, "")
        try:
            with V3Client(server.client_url) as client:
                client.kv.put("still", "writable", timeout=5)
        except EtcdMapError as exc:  # pragma: no cover - the assertion's message
            raise AssertionError(f"the learner cost the quorum: {exc}") from exc
