"""Pure helpers of the typed binding: a model's fields, etcd trees shaped for pydantic,
defaults to seed, field paths that changed, validation errors turned into etcdmap's.

No I/O here; :mod:`etcdmap.mapping.typed` and :mod:`etcdmap.settings` use these on plain dicts (a
mirror's or a map's ``to_dict()``). Needs pydantic (the ``typed`` extra).

Thread-safety: every function is pure (no shared state).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import typing
from collections.abc import Mapping, Sequence, Set
from typing import Any, NamedTuple

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from etcdmap.errors import ConfigValidationError

__all__ = [
    "Field",
    "as_text",
    "changed_paths",
    "config_error",
    "fields_of",
    "is_complex",
    "is_model",
    "model_of",
    "prepare",
    "seed_items",
]

_COMPLEX_ORIGINS = (list, tuple, set, frozenset, dict)


class Field(NamedTuple):
    """One field of a model, as etcd sees it."""

    name: str
    """The attribute name (what :func:`changed_paths` reports)."""
    key: str
    """The etcd key (the alias if the field has one)."""
    annotation: Any
    has_default: bool
    default: Any


def is_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class or a dataclass type (stdlib or pydantic)."""
    return isinstance(tp, type) and (issubclass(tp, BaseModel) or dataclasses.is_dataclass(tp))


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> ``X``; ``X | None`` -> ``X`` (one non-None member only)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        args = typing.get_args(annotation)
        if origin is typing.Union or type(annotation).__name__ == "UnionType":
            members = [a for a in args if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def model_of(annotation: Any) -> type[Any] | None:
    """The model or dataclass type a field holds (through ``Optional``/``Annotated``), or None."""
    inner = _unwrap(annotation)
    return inner if is_model(inner) else None


def is_complex(annotation: Any) -> bool:
    """Whether a field holds a list/tuple/set/dict (a ``str`` value is then parsed as JSON)."""
    inner = _unwrap(annotation)
    if is_model(inner):
        return False
    origin = typing.get_origin(inner) or inner
    if not isinstance(origin, type) or issubclass(origin, (str, bytes)):
        return False
    return issubclass(origin, (*_COMPLEX_ORIGINS, Mapping, Sequence, Set))


def fields_of(model: type[Any]) -> list[Field]:
    """The fields of a pydantic model or a dataclass, in declaration order.

    :raises TypeError: ``model`` is neither.
    """
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [_from_info(name, info) for name, info in model.model_fields.items()]
    if isinstance(model, type) and dataclasses.is_dataclass(model):
        hints = typing.get_type_hints(model, include_extras=True)
        out = []
        for f in dataclasses.fields(model):
            if not f.init:
                continue
            if isinstance(f.default, FieldInfo):  # pydantic dataclass: x: int = Field(5)
                out.append(_from_info(f.name, f.default, hints.get(f.name, Any)))
            elif f.default is not dataclasses.MISSING:
                out.append(Field(f.name, f.name, hints.get(f.name, Any), True, f.default))
            elif f.default_factory is not dataclasses.MISSING:
                out.append(Field(f.name, f.name, hints.get(f.name, Any), True,
                                 f.default_factory()))
            else:
                out.append(Field(f.name, f.name, hints.get(f.name, Any), False, None))
        return out
    raise TypeError(f"expected a pydantic BaseModel subclass or a dataclass type, got {model!r}")


def _from_info(name: str, info: FieldInfo, annotation: Any = None) -> Field:
    key = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    required = info.is_required()
    return Field(name, key or name, info.annotation if annotation is None else annotation,
                 not required, None if required else info.get_default(call_default_factory=True))


def prepare(data: Mapping[str, Any], model: type[Any]) -> dict[str, Any]:
    """Shape an etcd tree for validation against ``model``.

    A ``str`` value of a list/dict/set field is parsed as JSON (as pydantic-settings does
    with environment variables) when it is valid JSON; directories of nested-model fields
    are prepared recursively; everything else is passed as it is (pydantic's lax mode then
    converts ``"5432"`` to ``5432`` and ``"true"`` to ``True``).

    :param data: a plain nested dict (``to_dict()`` of a map or a mirror).
    :param model: the model or dataclass type.
    :returns: a new dict (``data`` is not changed).
    """
    out = dict(data)
    for field in fields_of(model):
        if field.key not in out:
            continue
        value = out[field.key]
        nested = model_of(field.annotation)
        if nested is not None and isinstance(value, Mapping):
            out[field.key] = prepare(value, nested)
        elif isinstance(value, str) and is_complex(field.annotation):
            with contextlib.suppress(ValueError):  # else pydantic reports the field
                out[field.key] = json.loads(value)
    return out


def seed_items(model: type[Any]) -> list[tuple[tuple[str, ...], Any]]:
    """The leaves the model's defaults give: ``[(("db", "port"), 5432), ...]``.

    A field with a default contributes its default dumped in JSON mode (a nested model or a
    dict becomes one leaf per key, an empty one its directory as ``{}``); a field without a
    default whose type is a model or dataclass contributes its own fields' defaults; other
    required fields and ``None`` defaults contribute nothing.

    :param model: the model or dataclass type.
    :returns: ``(key path, JSON-mode value)`` pairs, in declaration order.
    """
    items: list[tuple[tuple[str, ...], Any]] = []
    for field in fields_of(model):
        if field.has_default:
            dumped = TypeAdapter(field.annotation).dump_python(
                field.default, mode="json", by_alias=True)
            _flatten((field.key,), dumped, items)
        else:
            nested = model_of(field.annotation)
            if nested is not None:
                items.extend(((field.key, *path), v) for path, v in seed_items(nested))
    return items


def _flatten(path: tuple[str, ...], value: Any, out: list[tuple[tuple[str, ...], Any]]) -> None:
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            _flatten((*path, str(key)), sub, out)
    elif value is not None:
        out.append((path, value))


def as_text(value: Any) -> str:
    """A JSON-mode default as the ``str`` a string-codec map stores (lax mode reads it back)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, separators=(",", ":"))


def changed_paths(old: Any, new: Any, prefix: str = "") -> tuple[str, ...]:
    """The dotted field paths whose values differ between two dumps
    (``TypeAdapter(model).dump_python(instance)``: field names, nested dicts).

    Nested dicts are compared key by key (``"db.port"``); a key present on one side only is
    reported as itself; anything else that differs is reported at its own path.

    :returns: the paths, sorted (empty when the dumps are equal).
    """
    if isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                paths.append(path)
            elif old[key] != new[key]:
                paths.extend(changed_paths(old[key], new[key], path))
        return tuple(sorted(paths))
    return () if old == new else (prefix,)


def config_error(path: str, model: type[Any], exc: ValidationError) -> ConfigValidationError:
    """Turn pydantic's :class:`~pydantic.ValidationError` into a
    :class:`~etcdmap.errors.ConfigValidationError` naming the fields (dotted paths)."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err["loc"])
        shown = err.get("input") if err["type"] != "missing" else ConfigValidationError.NO_INPUT
        problems.append((loc, err["msg"], shown))
    return ConfigValidationError(path, model.__name__, problems)
