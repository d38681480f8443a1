"""Values that are not UTF-8 on etcd v3 (stored by another client, as ``etcdctl put`` of a
binary file would): read as the codec says, and carried exactly by ``dump``/``load``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from etcdmap import DecodeError, EtcdMap
from etcdmap.v2.client import Client
from etcdmap.v3 import Client as V3Client
from tests.integration.conftest import CLI

RAW = b"\xff\xfe\x00\x80 not text"


@pytest.fixture
def v3(etcd_url: str) -> Iterator[V3Client]:
    with V3Client(etcd_url) as c:
        yield c


def test_the_str_codec_names_the_key_and_the_bytes_codec(v3: V3Client, etcd_prefix: str) -> None:
    v3.kv.put(f"{etcd_prefix}/bin", RAW)
    v3.kv.put(f"{etcd_prefix}/txt", "fine")
    m = EtcdMap(v3, etcd_prefix)
    for read in (lambda: m["bin"], m.to_dict, lambda: m.pop("bin")):
        with pytest.raises(DecodeError, match=rf"'{etcd_prefix}/bin'.*not UTF-8.*codec='bytes'"):
            read()
    assert m["txt"] == "fine"
    assert v3.kv.get(f"{etcd_prefix}/bin") == RAW  # the failed pop deleted nothing


def test_the_bytes_codec_reads_them(v3: V3Client, etcd_prefix: str) -> None:
    v3.kv.put(f"{etcd_prefix}/bin", RAW)
    m = EtcdMap(v3, etcd_prefix, codec="bytes")
    assert m["bin"] == RAW
    assert m.to_dict() == {"bin": RAW}
    with m.mirror() as live:
        assert live["bin"] == RAW
    m.set("bin2", RAW, ttl=30)  # written by etcdmap: base64 text, as on v2
    assert m["bin2"] == RAW
    m.refresh("bin", 40)  # a new lease rewrites the stored bytes as they are
    assert v3.kv.get(f"{etcd_prefix}/bin") == RAW


def test_dump_and_load_carry_any_value(cli: CLI, v3: V3Client, etcd_url: str, etcd_prefix: str,
                                       tmp_path: Path) -> None:
    src, dst = f"{etcd_prefix}/src", f"{etcd_prefix}/dst"
    v3.kv.put(f"{src}/bin", RAW)
    v3.kv.put(f"{src}/txt", "é")
    dumped = cli("--api", "v3", "dump", src)
    assert dumped.code == 0, dumped.err
    nodes = json.loads(dumped.out)["nodes"]
    assert {"key": "bin", "value_b64": "//4AgCBub3QgdGV4dA=="} in nodes
    (tmp_path / "d.json").write_text(dumped.out, encoding="utf-8")
    plan = cli("--api", "v3", "load", "--dry-run", str(tmp_path / "d.json"), dst)
    assert f"set {dst}/bin ({len(RAW)} bytes, not UTF-8)" in plan.out.splitlines()
    assert cli("--api", "v3", "load", str(tmp_path / "d.json"), dst).code == 0
    assert v3.kv.get(f"{dst}/bin") == RAW and v3.kv.get(f"{dst}/txt") == "é".encode()
    refused = cli("--api", "v2", "load", str(tmp_path / "d.json"), dst)
    assert refused.code == 1 and "v2 API cannot store: bin" in refused.err
    with Client(etcd_url) as v2:
        assert EtcdMap(v2, dst).to_dict() == {}  # nothing written
