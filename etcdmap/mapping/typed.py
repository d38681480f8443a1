"""Typed live configuration: bind a pydantic model or a dataclass to an etcd directory.

::

    class Db(BaseModel):
        host: str = "localhost"
        port: int = 5432

    class AppConfig(BaseModel):
        log_level: str = "info"
        debug: bool = False
        db: Db = Db()

    with m.bind(AppConfig, seed=True) as cfg:      # m: an EtcdMap over e.g. /config
        cfg.current.db.port                         # 5432: an int, from the string "5432"
        m["db"]["port"] = "6432"
        cfg.wait_for(m.index)                       # read-your-writes, as on the mirror
        cfg.current.db.port                         # 6432

How etcd maps onto the model: a field is the key of its name (or its alias); a nested model
or dataclass field is a directory; values are validated by pydantic in its lax mode, so the
strings of the default codec convert (``"5432"`` -> ``5432``, ``"true"`` -> ``True``); values
of the ``json`` codec are validated as they are; a string in a list/dict/set field is parsed
as JSON first (as pydantic-settings does with environment variables). Keys the model does
not name are ignored (unless the model forbids extra keys).

The handle (:class:`LiveConfig`) keeps a :meth:`~etcdmap.mapping.EtcdMap.mirror` of the
directory and revalidates it after each change, in the mirror's watch thread:

* a valid change replaces :attr:`LiveConfig.current` (a new instance; never mutate it) and
  sends :data:`etcdmap.signals.config_changed` with the dotted paths of the fields that
  changed;
* an invalid one keeps the last valid instance, sets :attr:`LiveConfig.error`, logs a
  warning on the ``etcdmap.typed`` logger and sends :data:`etcdmap.signals.config_invalid`;
  the next valid change clears the error.

Multi-key writes are not atomic in etcd v2 (assigning a dict deletes the old subtree, then
writes key by key): the handle may see, and report, an intermediate state that does not
validate; the last write brings it back. Prefer writing single keys to a bound directory.

Seeding (``seed=True``) writes each default of the model that etcd lacks, one atomic
create-if-absent per key (``EtcdMap.create``), before the mirror starts: an operator's value
always wins, and concurrent processes seeding the same defaults write each key once.

This module needs pydantic (``pip install 'etcdmap[typed]'``); ``import etcdmap`` does not.
It uses the mapping layer's public API only, so it works on any backend of
:class:`~etcdmap.mapping.EtcdMap`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

try:
    from pydantic import TypeAdapter, ValidationError
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "typed configuration needs pydantic: pip install 'etcdmap[typed]'"
    ) from exc

from etcdmap import signals
from etcdmap._closing import Closing
from etcdmap.errors import ConfigValidationError, NodeExists
from etcdmap.mapping.typed_fields import (
    as_text,
    changed_paths,
    config_error,
    is_model,
    prepare,
    seed_items,
)

__all__ = ["LiveConfig", "bind", "seed_defaults"]

T = TypeVar("T")

log = logging.getLogger("etcdmap.typed")


class LiveConfig(Closing, Generic[T]):
    """A model instance kept current with an etcd directory (see the module docstring).

    Get one from :meth:`etcdmap.mapping.EtcdMap.bind` or :func:`bind`. Use it as a context
    manager, or call :meth:`close` (which stops its mirror's watch).

    Thread-safe: :attr:`current`, :attr:`error` and :attr:`index` may be read from any
    thread (each is one attribute read of an immutable value; read ``current`` once into a
    local to see one consistent instance); updates happen in the mirror's watch thread,
    under a lock.
    """

    def __init__(self, model: type[T], mirror: Any, path: str) -> None:
        """Validate the mirror's content and start following it (use :func:`bind`).

        :raises ConfigValidationError: the content does not validate (nothing is kept then).
        """
        self._model = model
        self._adapter: TypeAdapter[T] = TypeAdapter(model)
        self._mirror = mirror
        self._path = path
        self._lock = threading.Lock()
        self._closed = False
        self.seeded: tuple[tuple[str, ...], ...] = ()
        """The key paths :func:`bind` seeded with defaults (``seed=True``), e.g. ``(("db", "port"),)``."""
        with self._lock:
            signals.changed.connect(self._on_change, sender=mirror, weak=False)
            try:
                index = mirror.index  # read before the snapshot: the snapshot is at least this
                self._data: dict[str, Any] = mirror.to_dict()
                self._current: T = self._validate(self._data)
            except BaseException:
                signals.changed.disconnect(self._on_change, sender=mirror)
                raise
            self._error: ConfigValidationError | None = None
            self._index: int = index

    # ------------------------------------------------------------------ public

    @property
    def current(self) -> T:
        """The latest valid instance of the model (a new object after each change of a
        field's value; the same object while the fields keep their values)."""
        return self._current

    @property
    def error(self) -> ConfigValidationError | None:
        """The error of the last change if it did not validate, else ``None``."""
        return self._error

    @property
    def index(self) -> int:
        """The etcd index of the last change the handle validated (valid or not)."""
        return self._index

    @property
    def model(self) -> type[T]:
        """The bound model class."""
        return self._model

    @property
    def path(self) -> str:
        """The bound etcd directory."""
        return self._path

    @property
    def mirror(self) -> Any:
        """The :class:`~etcdmap.mapping.mirror.Mirror` the handle follows (read-only use)."""
        return self._mirror

    def wait_for(self, index: int | None = None, timeout: float | None = 5.0) -> bool:
        """Wait until :attr:`current` (or :attr:`error`) reflects every change up to
        ``index``: read-your-writes, as :meth:`etcdmap.mapping.mirror.Mirror.wait_for`.

        After ``m["port"] = "1"``, ``cfg.wait_for(m.index)`` makes ``cfg.current.port == 1``
        (or sets :attr:`error`). Without ``index``, waits for every write that completed
        before the call (one quorum read first).

        :param index: an etcd index (e.g. ``m.index`` after a write), or ``None``.
        :param timeout: seconds to wait at most (``None``: no limit).
        :returns: ``True`` when reached, ``False`` on timeout.
        :raises EtcdMapError: reading the current index failed (``index=None`` only).
        """
        # The watch sends the signals of an event (and so revalidates) before it advances
        # the mirror's index: reaching the index implies this handle saw the change.
        return bool(self._mirror.wait_for(index, timeout))

    def close(self, timeout: float = 2.0) -> None:
        """Stop following etcd (disconnect from the mirror and stop its watch); idempotent.
        :attr:`current` stays readable.

        :param timeout: seconds to wait for the watch thread.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            signals.changed.disconnect(self._on_change, sender=self._mirror)
        self._mirror.close(timeout)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("invalid" if self._error else "valid")
        return (f"<LiveConfig {self._model.__name__} at {self._path!r} index={self._index} "
                f"{state}>")

    # ------------------------------------------------------------------ internals

    def _validate(self, data: Mapping[str, Any]) -> T:
        try:
            return self._adapter.validate_python(prepare(data, self._model))
        except ValidationError as exc:
            raise config_error(self._path, self._model, exc) from exc

    def _on_change(self, sender: object, **event: Any) -> None:
        # Runs in the mirror's watch thread after the change was applied to the mirror.
        outcome = self._changed(event)
        if outcome is not None:
            signals.send(outcome[0], self, outcome[1])

    def _changed(self, event: Mapping[str, Any]) -> tuple[Any, dict[str, Any]] | None:
        """Revalidate after the mirror's event ``event``: the signal to send and its payload,
        if any (the asyncio binding, :mod:`etcdmap.aio.typed`, sends it on its loop)."""
        with self._lock:
            if self._closed:
                return None
            outcome = self._revalidate(max(self._index, int(event.get("index") or 0)))
        if outcome is not None and outcome[0] is signals.config_invalid:
            log.warning("%s", outcome[1]["error"])
        return outcome

    def _revalidate(self, index: int) -> tuple[Any, dict[str, Any]] | None:
        """Validate the mirror's content (under the lock): the signal to send, if any."""
        data = self._mirror.to_dict()
        self._index = index
        if data == self._data:
            return None
        self._data = data
        try:
            new = self._validate(data)
        except ConfigValidationError as exc:
            self._error = exc
            return signals.config_invalid, {"error": exc, "fields": exc.fields,
                                            "current": self._current, "index": index}
        old, recovered = self._current, self._error is not None
        paths = changed_paths(self._adapter.dump_python(old), self._adapter.dump_python(new))
        self._error = None
        if not paths:  # e.g. a key the model does not name: keep the same instance
            new = old
            if not recovered:
                return None
        self._current = new
        return signals.config_changed, {"current": new, "previous": old, "changed": paths,
                                        "index": index, "recovered": recovered}


def seed_defaults(emap: Any, model: type[Any]) -> tuple[tuple[str, ...], ...]:
    """Write each default of ``model`` that ``emap``'s directory lacks, one atomic
    create-if-absent per key: an existing key (an operator's value) is never overwritten.

    Values are written with the map's codec; a codec that refuses a non-string default (the
    default ``str`` codec) gets its text (``5432`` -> ``"5432"``, ``True`` -> ``"true"``,
    a list -> JSON), which the binding reads back. A key whose parent is a file is skipped
    (the binding's validation then reports it).

    :param emap: the :class:`~etcdmap.mapping.EtcdMap` of the directory.
    :param model: a pydantic model class or a dataclass type.
    :returns: the key paths this call created (others existed or were created concurrently).
    :raises TypeError: ``model`` is neither a model nor a dataclass.
    :raises EtcdMapError: a write failed.

    Thread-safety: safe to run concurrently, in threads or processes.
    """
    views: dict[tuple[str, ...], Any] = {(): emap}
    written: list[tuple[str, ...]] = []
    for path, value in seed_items(model):
        parent = _parent_view(views, path[:-1])
        if parent is None:
            log.warning("seeding %s/%s: a parent key is not a directory; skipped",
                        emap.path.rstrip("/"), "/".join(path))
        elif _create(parent, path[-1], value):
            written.append(path)
    return tuple(written)


def _parent_view(views: dict[tuple[str, ...], Any], path: tuple[str, ...]) -> Any:
    """The map view of directory ``path`` (created if missing), or None if it is a file."""
    if path in views:
        return views[path]
    parent = _parent_view(views, path[:-1])
    view = None if parent is None else parent.setdefault(path[-1], {})
    views[path] = view if isinstance(view, Mapping) else None
    return views[path]


def _create(parent: Any, key: str, value: Any) -> bool:
    """Create ``key`` if absent. :returns: whether this call created it."""
    try:
        if isinstance(value, dict):  # an empty mapping default: its directory
            before = key in parent
            parent.setdefault(key, {})
            return not before
        try:
            parent.create(key, value)
        except TypeError:  # the codec takes strings only
            parent.create(key, as_text(value))
    except NodeExists:
        return False
    return True


def bind(emap: Any, model: type[T], *, seed: bool = False) -> LiveConfig[T]:
    """Bind ``model`` to ``emap``'s directory: :meth:`etcdmap.mapping.EtcdMap.bind`.

    :param emap: the :class:`~etcdmap.mapping.EtcdMap` of the directory.
    :param model: a pydantic ``BaseModel`` subclass or a dataclass type (stdlib or pydantic).
    :param seed: first write the model's defaults that etcd lacks (see :func:`seed_defaults`).
    :returns: the started :class:`LiveConfig` (a context manager; ``close()``).
    :raises TypeError: ``model`` is neither a model nor a dataclass.
    :raises ConfigValidationError: the directory's content does not validate (a
        ``ValueError`` naming the fields).
    :raises EtcdMapError: reading or seeding etcd failed.
    """
    if not is_model(model):
        raise TypeError(
            f"bind() takes a pydantic BaseModel subclass or a dataclass type, got {model!r}")
    seeded = seed_defaults(emap, model) if seed else ()
    if seeded:
        log.info("seeded %d default(s) into %s", len(seeded), emap.path)
    mirror = emap.mirror()
    try:
        handle = LiveConfig(model, mirror, emap.path)
    except BaseException:
        mirror.close()
        raise
    handle.seeded = seeded
    return handle
