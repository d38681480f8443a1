"""``EtcdMap.to_dict()`` on a real etcd: the JSON fast path equals the ``Node``-based walk."""

from __future__ import annotations

import pytest

from etcdmap.errors import DecodeError, NotADirectory
from etcdmap.mapping import paths as _mappath
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client

ODD = ["plain", "with space", "q?", "h#", "pct%2F", "plus+", "ünï", "dot.", "_under"]


def test_to_dict_equals_the_node_walk(client: Client, etcd_prefix: str) -> None:
    for i, name in enumerate(ODD):
        client.keys.set(f"{etcd_prefix}/{name}", f"v{i}")
        client.keys.set(f"{etcd_prefix}/d/{name}/leaf", "")
    client.keys.mkdir(f"{etcd_prefix}/empty")
    m = EtcdMap(client, etcd_prefix)
    node = client.keys.get(etcd_prefix, recursive=True, sort=True).node
    assert node is not None
    expected = _mappath.node_to_dict(node, lambda n: n.value or "")
    got = m.to_dict()
    assert got == expected
    assert got["empty"] == {}
    assert got["d"]["ünï"] == {"leaf": ""}
    assert list(got) == sorted(got)  # etcd sorted it (sorted=true), at every level
    assert list(got["d"]) == sorted(got["d"])
    assert m.index >= node.modified_index


def test_missing_directory_reads_empty_and_records_the_index(
    client: Client, etcd_prefix: str
) -> None:
    m = EtcdMap(client, f"{etcd_prefix}/nothing")
    assert m.to_dict() == {}
    assert m.index > 0


def test_a_file_is_not_a_directory(client: Client, etcd_prefix: str) -> None:
    client.keys.set(etcd_prefix, "file")
    with pytest.raises(NotADirectory):
        EtcdMap(client, etcd_prefix).to_dict()


def test_codec_decodes_and_names_the_bad_key(client: Client, etcd_prefix: str) -> None:
    client.keys.set(f"{etcd_prefix}/n", "[1, 2]")
    client.keys.set(f"{etcd_prefix}/sub/ok", '{"a": null}')
    m = EtcdMap(client, etcd_prefix, codec="json")
    assert m.to_dict() == {"n": [1, 2], "sub": {"ok": {"a": None}}}
    client.keys.set(f"{etcd_prefix}/sub/bad", "not json")
    with pytest.raises(DecodeError, match="sub/bad"):
        m.to_dict()
