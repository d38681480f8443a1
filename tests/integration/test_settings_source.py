"""``etcdmap.settings.EtcdSettingsSource`` against real etcd: nested models, the layering
init > environment > etcd > defaults, and a live source that reads no network."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from etcdmap.errors import EtcdMapError
from etcdmap.mapping.emap import EtcdMap
from etcdmap.settings import EtcdSettingsSource
from etcdmap.testing import EtcdServer
from etcdmap.v2.client import Client


class Db(BaseModel):
    host: str = "localhost"
    port: int = 5432
    user: str = "app"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ETCDMAP_T_", env_nested_delimiter="__")

    log_level: str = "info"
    workers: int = 4
    timeout: float = 1.5
    tags: list[str] = []
    db: Db = Db()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        source = SOURCE["etcd"]  # the source under test, set by each test
        return (init_settings, env_settings, source) if source else (init_settings, env_settings)


SOURCE: dict[str, EtcdSettingsSource | None] = {"etcd": None}


@pytest.fixture(autouse=True)
def _reset_source() -> Any:
    yield
    source = SOURCE["etcd"]
    SOURCE["etcd"] = None
    if source is not None:
        source.close()


def test_layering_init_env_etcd_defaults(m: EtcdMap, monkeypatch: pytest.MonkeyPatch) -> None:
    m.update({"log_level": "debug", "workers": "8", "tags": '["a","b"]',
              "db": {"host": "etcd-host", "port": "6543"}, "unknown": "ignored"})
    SOURCE["etcd"] = EtcdSettingsSource(Settings, m)
    monkeypatch.setenv("ETCDMAP_T_DB__PORT", "7000")  # env beats etcd, key by key
    monkeypatch.setenv("ETCDMAP_T_WORKERS", "9")
    s = Settings(log_level="warning")  # init beats everything
    assert s.log_level == "warning"  # init
    assert s.workers == 9 and s.db.port == 7000  # environment
    assert s.db.host == "etcd-host" and s.tags == ["a", "b"]  # etcd (nested, JSON text)
    assert s.timeout == 1.5 and s.db.user == "app"  # defaults
    monkeypatch.delenv("ETCDMAP_T_WORKERS")
    assert Settings().workers == 8 and Settings().log_level == "debug"  # etcd again


def test_source_values_and_missing_directory(client: Client, etcd_prefix: str) -> None:
    m = EtcdMap(client, etcd_prefix)
    source = EtcdSettingsSource(Settings, m)
    assert source() == {} and not source.live and "Settings" in repr(source)
    SOURCE["etcd"] = source
    assert Settings().workers == 4 and Settings().db == Db()  # defaults only
    m["db"] = {"port": "1"}
    assert source() == {"db": {"port": "1"}}
    assert source.get_field_value(Settings.model_fields["db"], "db") == ({"port": "1"}, "db",
                                                                         False)
    m["workers"] = "lots"
    with pytest.raises(ValidationError, match="workers"):
        Settings()


def test_live_source_reads_no_network() -> None:
    with EtcdServer() as server, Client(server.client_url, timeout=1.0) as client:
        m = EtcdMap(client, "/app")
        m.update({"workers": "3", "db": {"host": "h1"}})
        live = EtcdSettingsSource(Settings, m, live=True)
        SOURCE["etcd"] = live
        assert live.live and Settings().workers == 3
        m["workers"] = "5"
        assert live.mirror.wait_for(m.index, 10)
        assert Settings().workers == 5  # kept current by the mirror
        server.kill()  # from now on any read of etcd fails
        s = Settings()
        assert s.workers == 5 and s.db.host == "h1"
        with pytest.raises(EtcdMapError):  # a plain source needs the network
            EtcdSettingsSource(Settings, m)()
        live.close()
        live.close()  # idempotent
        assert Settings().workers == 5  # the last values stay readable
