"""Typed live configuration (``EtcdMap.bind``) against real etcd, on the v2 and the v3 API (the
``api`` fixture): conversion, nesting, dataclasses, invalid values while bound, seeding under a
race, the JSON codec, wait_for."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from apis import AnyClient, client_for
from pydantic import BaseModel, Field

from etcdmap import signals
from etcdmap.errors import ConfigValidationError
from etcdmap.mapping.emap import EtcdMap
from etcdmap.mapping.typed import LiveConfig, bind


class Db(BaseModel):
    host: str = "localhost"
    port: int = 5432


class AppConfig(BaseModel):
    log_level: str = "info"
    workers: int = 4
    debug: bool = False
    tags: list[str] = Field(default_factory=list)
    db: Db = Db()


@dataclasses.dataclass
class DcDb:
    host: str
    port: int = 5432


@dataclasses.dataclass
class DcConfig:
    db: DcDb
    ratio: float = 0.5


class Recorder:
    """Collects the payloads of one signal sent by one handle."""

    def __init__(self, signal: Any, sender: object) -> None:
        self.signal, self.sender, self.calls = signal, sender, []  # type: list[dict[str, Any]]
        signal.connect(self, sender=sender, weak=False)

    def __call__(self, sender: object, **payload: Any) -> None:
        self.calls.append(payload)

    def close(self) -> None:
        self.signal.disconnect(self, sender=self.sender)


@pytest.fixture
def client(api: str, etcd_url: str) -> Iterator[AnyClient]:
    """The client of the test's API; the ``m`` fixture of conftest.py maps through it."""
    with client_for(api, etcd_url, timeout=5.0) as c:
        yield c


def test_the_map_is_on_the_api(api: str, m: EtcdMap) -> None:
    assert f"api='{api}'" in repr(m)


@pytest.fixture
def recorders() -> Iterator[list[Recorder]]:
    made: list[Recorder] = []
    yield made
    for r in made:
        r.close()


def test_strings_convert_and_directories_nest(m: EtcdMap, recorders: list[Recorder]) -> None:
    m.update({"log_level": "debug", "workers": "8", "debug": "true", "tags": '["a", "b"]',
              "db": {"host": "db1", "port": "6432"}, "unrelated": "x"})
    with m.bind(AppConfig) as cfg:
        assert isinstance(cfg, LiveConfig)
        assert cfg.current == AppConfig(log_level="debug", workers=8, debug=True,
                                        tags=["a", "b"], db=Db(host="db1", port=6432))
        assert cfg.error is None and cfg.index >= m.index
        changed = Recorder(signals.config_changed, cfg)
        recorders.append(changed)
        before = cfg.current
        m["db"]["port"] = "7000"
        assert cfg.wait_for(timeout=10)
        assert cfg.current.db.port == 7000 and before.db.port == 6432  # a new instance
        m["workers"] = "9"
        assert cfg.wait_for(m.index, 10)
        m["unrelated"] = "y"  # not a field: no config_changed
        assert cfg.wait_for(m.index, 10)
        assert [c["changed"] for c in changed.calls] == [("db.port",), ("workers",)]
        last = changed.calls[-1]
        assert last["current"] is cfg.current and last["previous"].workers == 8
        assert last["recovered"] is False and last["index"] <= cfg.index


def test_dataclass_with_nested_dataclass(m: EtcdMap) -> None:
    m["db"] = {"host": "h"}
    with m.bind(DcConfig) as cfg:
        assert cfg.current == DcConfig(db=DcDb(host="h", port=5432), ratio=0.5)
        m["ratio"] = "0.25"
        assert cfg.wait_for(m.index, 10)
        assert cfg.current.ratio == 0.25 and isinstance(cfg.current, DcConfig)


def test_bad_value_while_bound_keeps_current(
    m: EtcdMap, recorders: list[Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    m.update({"workers": "4", "db": {"port": "5432"}})
    with m.bind(AppConfig) as cfg:
        invalid = Recorder(signals.config_invalid, cfg)
        changed = Recorder(signals.config_changed, cfg)
        recorders.extend([invalid, changed])
        good = cfg.current
        with caplog.at_level(logging.WARNING, logger="etcdmap.typed"):
            m["workers"] = "many"
            assert cfg.wait_for(m.index, 10)
        assert cfg.current is good  # the last valid instance is kept
        assert isinstance(cfg.error, ConfigValidationError) and cfg.error.fields == ("workers",)
        assert "'many'" in str(cfg.error) and "invalid" in repr(cfg)
        assert [c["fields"] for c in invalid.calls] == [("workers",)]
        assert invalid.calls[0]["current"] is good
        assert any("workers" in r.getMessage() for r in caplog.records)
        m["db"]["port"] = "not-a-port"  # a second bad field: both named
        assert cfg.wait_for(timeout=10)
        assert cfg.error is not None and cfg.error.fields == ("workers", "db.port")
        m["workers"] = "6"
        m["db"]["port"] = "5433"
        assert cfg.wait_for(timeout=10)
        assert cfg.error is None and cfg.current.workers == 6 and cfg.current.db.port == 5433
        assert changed.calls[-1]["recovered"] is True
        assert changed.calls[-1]["changed"] == ("db.port", "workers")


def test_binding_to_invalid_content_raises_naming_fields(m: EtcdMap) -> None:
    m.update({"workers": "x", "db": {"port": "y"}})
    with pytest.raises(ConfigValidationError) as info:
        m.bind(AppConfig)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.fields == ("workers", "db.port") and err.path == m.path
    assert "workers" in str(err) and "db.port" in str(err) and "'y'" in str(err)
    # the mirror was stopped: no watch thread on this path survives
    assert not [t for t in threading.enumerate() if t.name.endswith(m.path) and t.is_alive()]


def test_missing_required_field_is_named(m: EtcdMap) -> None:
    m["ratio"] = "1"
    with pytest.raises(ConfigValidationError) as info:
        bind(m, DcConfig)
    assert info.value.fields == ("db",) and "missing" in str(info.value).lower()


def test_json_codec_values_are_kept(client: AnyClient, etcd_prefix: str) -> None:
    class Limits(BaseModel):
        sizes: list[int]
        ratio: float
        enabled: bool
        label: str | None = "x"

    jm = EtcdMap(client, etcd_prefix, codec="json")
    jm.update({"sizes": [1, 2], "ratio": 0.5, "enabled": True, "label": None})
    with jm.bind(Limits) as cfg:
        assert cfg.current == Limits(sizes=[1, 2], ratio=0.5, enabled=True, label=None)
        jm["sizes"] = [3]
        assert cfg.wait_for(jm.index, 10)
        assert cfg.current.sizes == [3]


def test_seed_writes_only_what_etcd_lacks(m: EtcdMap) -> None:
    m["workers"] = "16"  # an operator's value, set before the first start
    with m.bind(AppConfig, seed=True) as cfg:
        assert cfg.current.workers == 16 and cfg.current.db == Db()
        assert ("workers",) not in cfg.seeded
        assert set(cfg.seeded) == {("log_level",), ("debug",), ("tags",), ("db", "host"),
                                   ("db", "port")}
    assert m.to_dict() == {"log_level": "info", "workers": "16", "debug": "false", "tags": "[]",
                           "db": {"host": "localhost", "port": "5432"}}
    with m.bind(AppConfig, seed=True) as again:  # idempotent
        assert again.seeded == ()


def test_seed_json_codec_writes_native_values(client: AnyClient, etcd_prefix: str) -> None:
    jm = EtcdMap(client, etcd_prefix, codec="json")
    with jm.bind(AppConfig, seed=True) as cfg:
        assert cfg.current == AppConfig()
    assert jm.to_dict() == {"log_level": "info", "workers": 4, "debug": False, "tags": [],
                            "db": {"host": "localhost", "port": 5432}}


@pytest.mark.parametrize("attempt", range(3))
def test_seeding_race_writes_each_key_once_and_the_operator_wins(m: EtcdMap, attempt: int) -> None:
    m.mkdir("_anchor")  # a hidden key: the directory exists, so the mirror sees every create
    seeders, barrier = 6, threading.Barrier(7)
    results: list[tuple[tuple[str, ...], ...]] = []
    errors: list[BaseException] = []

    def seed() -> None:
        try:
            barrier.wait(10)
            with m.bind(AppConfig, seed=True) as cfg:
                results.append(cfg.seeded)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def operator() -> None:
        barrier.wait(10)
        m["workers"] = "16"  # plain sets, racing the seeders' creates
        m.setdefault("db", {})["port"] = "6000"

    with m.mirror() as live:
        events = Recorder(signals.changed, live)
        try:
            threads = [threading.Thread(target=seed) for _ in range(seeders)]
            threads.append(threading.Thread(target=operator))
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert not errors, errors
            assert live.wait_for(timeout=10)
        finally:
            events.close()
    seeded = [path for r in results for path in r]
    assert len(results) == seeders and len(seeded) == len(set(seeded))  # one seeder per key
    creates = [e["key"] for e in events.calls if e["action"] == "create"]
    assert len(creates) == len(set(creates))
    # the operator's values, whoever came first
    assert m["workers"] == "16" and m["db"]["port"] == "6000"
    with m.bind(AppConfig) as cfg:
        assert cfg.current.workers == 16 and cfg.current.db.port == 6000
        assert cfg.current.log_level == "info"


def test_wait_for_and_close(m: EtcdMap) -> None:
    cfg = m.bind(AppConfig)
    assert "AppConfig" in repr(cfg) and m.path in repr(cfg) and "valid" in repr(cfg)
    m.setdefault("db", {})
    m["db"]["host"] = "h2"  # through a nested view: its own index, so wait for "now"
    assert cfg.wait_for(timeout=10)
    assert cfg.current.db.host == "h2"
    cfg.close()
    cfg.close()  # idempotent
    assert "closed" in repr(cfg) and cfg.mirror.watch is not None
    assert not cfg.mirror.watch.running
    m["db"]["host"] = "h3"
    assert cfg.current.db.host == "h2"  # no longer followed


def test_bind_rejects_what_is_not_a_model(m: EtcdMap) -> None:
    with pytest.raises(TypeError, match="BaseModel"):
        m.bind(dict)
    with pytest.raises(TypeError):
        m.bind(AppConfig())  # type: ignore[arg-type]  # an instance, not the class
