"""A pydantic-settings source that reads an etcd directory.

Layer etcd between the environment and the defaults with ``settings_customise_sources``::

    from pydantic_settings import BaseSettings
    from etcdmap.settings import EtcdSettingsSource   # the public path of this module

    config = etcdmap.connect("http://127.0.0.1:2379", "/config")

    class Settings(BaseSettings):
        log_level: str = "info"
        db: Db = Db()                      # a nested model: the directory /config/db

        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                       dotenv_settings, file_secret_settings):
            # init > environment > etcd > defaults
            return init_settings, env_settings, EtcdSettingsSource(settings_cls, config)

    Settings().db.port                     # from /config/db/port, unless DB__PORT... is set

The directory maps onto the fields as in :mod:`etcdmap.mapping.typed`: a field is the key of its
name (or alias), a nested model a directory, a string in a list/dict/set field is parsed as
JSON; pydantic's lax mode converts the strings. pydantic-settings merges nested models
across sources, so the environment can override ``db.port`` while etcd gives ``db.host``.

Without ``live``, each construction of the settings reads the directory (one recursive
GET). With ``live=True`` the source keeps a :meth:`~etcdmap.mapping.EtcdMap.mirror`, so
constructing settings reads no network and always sees the latest values; then create the
source once (after the class) and return that object from ``settings_customise_sources``,
and :meth:`EtcdSettingsSource.close` it at exit. Needs the ``typed`` extra (pydantic and
pydantic-settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

try:
    from pydantic.fields import FieldInfo
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "etcdmap.settings needs pydantic-settings: pip install 'etcdmap[typed]'"
    ) from exc

from etcdmap.mapping.typed_fields import fields_of, prepare

__all__ = ["EtcdSettingsSource"]


class EtcdSettingsSource(PydanticBaseSettingsSource):
    """A pydantic-settings source over the directory of an :class:`~etcdmap.mapping.EtcdMap`.

    :param settings_cls: the ``BaseSettings`` subclass.
    :param emap: the map of the directory (any backend).
    :param live: keep a live mirror of the directory (no network read per construction);
        close the source (or use it as a context manager) to stop the mirror's watch.
    :raises EtcdMapError: ``live=True`` and the first read failed.

    Thread-safety: a source may be used by several threads constructing settings at once
    (each call reads one snapshot; the mirror is thread-safe).
    """

    def __init__(self, settings_cls: type[BaseSettings], emap: Any, *, live: bool = False) -> None:
        super().__init__(settings_cls)
        self._map = emap
        self._mirror: Any = emap.mirror() if live else None
        self._fields = {f.name: f for f in fields_of(settings_cls)}

    @property
    def live(self) -> bool:
        """Whether the source reads a live mirror rather than etcd."""
        return self._mirror is not None

    @property
    def mirror(self) -> Any:
        """The :class:`~etcdmap.mapping.mirror.Mirror` of a live source (``None`` otherwise)."""
        return self._mirror

    def _snapshot(self) -> dict[str, Any]:
        """The directory as a plain nested dict: from the mirror, or one recursive GET."""
        data = self._mirror.to_dict() if self._mirror is not None else self._map.to_dict()
        return prepare(data, self.settings_cls)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """One field's value from a fresh snapshot (``__call__`` reads one snapshot for all).

        :returns: ``(value or None, key, False)``.
        :raises EtcdMapError: the read failed (not live).
        """
        key = self._fields[field_name].key if field_name in self._fields else field_name
        return self._snapshot().get(key), key, False

    def __call__(self) -> dict[str, Any]:
        """The values etcd has for the settings' fields, keyed by field key (alias or name);
        fields etcd lacks are left out (a later source or the default fills them).

        :raises EtcdMapError: the read failed (not live).
        """
        data = self._snapshot()
        return {f.key: _plain(data[f.key]) for f in self._fields.values() if f.key in data}

    def close(self, timeout: float = 2.0) -> None:
        """Stop the live mirror's watch (the last values stay readable); idempotent.

        :param timeout: seconds to wait for the watch thread.
        """
        if self._mirror is not None:
            self._mirror.close(timeout)

    def __enter__(self) -> EtcdSettingsSource:
        """:returns: the source itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Call :meth:`close`."""
        self.close()

    def __repr__(self) -> str:
        return (f"EtcdSettingsSource({self.settings_cls.__name__}, path={self._map.path!r}, "
                f"live={self.live})")


def _plain(value: Any) -> Any:
    """Nested mappings as fresh dicts (pydantic-settings deep-merges them in place)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value
