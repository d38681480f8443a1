"""``etcdmap.connect(api=...)`` and ``etcdmap --api``: "auto" picks v3 wherever the server
serves it (v2 is etcd 3.5's opt-in: the test server has both), and says so when the v2 store
holds the keys the program looks for."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import etcdmap
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client as V3Client
from tests.integration.conftest import CLI


@pytest.fixture(scope="module")
def v3_only() -> Iterator[EtcdServer]:
    with EtcdServer(enable_v2=False) as server:
        yield server


def test_auto_uses_v3_on_a_server_without_v2(v3_only: EtcdServer, etcd_prefix: str) -> None:
    with etcdmap.connect(v3_only.client_url, etcd_prefix) as m:
        assert m.backend.name == "v3" and isinstance(m.client, V3Client)
        assert "api='v3'" in repr(m)
        m["a"] = {"b": "1"}
        assert m == {"a": {"b": "1"}}
    with pytest.raises(etcdmap.errors.V2DisabledError, match="--enable-v2"):
        etcdmap.connect(v3_only.client_url, etcd_prefix, api="v2")  # checked at connect


def test_auto_uses_v3_where_v2_is_served_too(etcd_url: str, etcd_prefix: str) -> None:
    with V3Client(etcd_url) as c:
        c.kv.put(f"{etcd_prefix}/svc/a", "from etcdctl")  # what `etcdctl put` writes
    with etcdmap.connect(etcd_url, f"{etcd_prefix}/svc") as m:
        assert m.backend.name == "v3" and isinstance(m.client, V3Client)
        assert m.to_dict() == {"a": "from etcdctl"}
    with etcdmap.connect(etcd_url, etcd_prefix, api="v2") as m2:
        assert m2.backend.name == "v2" and isinstance(m2.client, etcdmap.Client)
        assert "api='v2'" in repr(m2)
        assert m2.to_dict() == {}  # the v2 store is another key space


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "etcdmap" and r.levelno == logging.WARNING]


def test_auto_warns_when_only_v2_has_the_keys(
    etcd_url: str, etcd_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    with etcdmap.Client(etcd_url) as v2:
        v2.keys.set(f"{etcd_prefix}/old/k", "in v2")
    caplog.set_level(logging.WARNING, logger="etcdmap")
    with etcdmap.connect(etcd_url, f"{etcd_prefix}/old") as m:
        assert m.backend.name == "v3" and m.to_dict() == {}
    (warning,) = warnings_of(caplog)
    assert f"{etcd_prefix}/old has no keys on etcd's v3 API" in warning
    assert "the v2 API has keys there" in warning and "pass api='v2'" in warning
    with etcdmap.connect(etcd_url, f"{etcd_prefix}/old", api="v2") as m2:
        assert m2.to_dict() == {"k": "in v2"}
    caplog.clear()
    with etcdmap.connect(etcd_url, f"{etcd_prefix}/old", api="v3"):
        pass  # api="v3" is a choice: nothing to warn about
    assert warnings_of(caplog) == []


def test_no_warning_when_v3_has_keys_or_neither_has(
    etcd_url: str, etcd_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    with etcdmap.Client(etcd_url) as v2, V3Client(etcd_url) as v3:
        v2.keys.set(f"{etcd_prefix}/both/k", "in v2")
        v3.kv.put(f"{etcd_prefix}/both/k", "in v3")
        v3.kv.put(f"{etcd_prefix}/leaf", "a leaf")
    caplog.set_level(logging.WARNING, logger="etcdmap")
    for path in ("both", "leaf", "neither"):
        with etcdmap.connect(etcd_url, f"{etcd_prefix}/{path}"):
            pass
    assert warnings_of(caplog) == []


def test_auto_on_the_command_line(cli: CLI, etcd_prefix: str, etcd_url: str) -> None:
    with etcdmap.Client(etcd_url) as v2:
        v2.keys.set(f"{etcd_prefix}/only-v2", "old")
    run = cli("--api", "auto", "put", f"{etcd_prefix}/k", "new")  # auto: v3, as connect()
    assert (run.code, run.out) == (0, "OK\n")
    with V3Client(etcd_url) as v3:
        assert v3.kv.get(f"{etcd_prefix}/k") == b"new"
    run = cli("--api", "auto", "set", f"{etcd_prefix}/k", "new")  # a v2 verb names its v3 twin
    assert run.code == 1 and "on v3 use: put <key> <value>" in run.err
    assert cli("--api", "v2", "get", f"{etcd_prefix}/only-v2").out == "old\n"

