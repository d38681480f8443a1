"""Pure logic of the typed binding (no server): fields, shaping, seed items, changed paths,
the error, and that etcdmap imports without pydantic."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from typing import Annotated, Optional

import pydantic
import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from etcdmap.errors import ConfigValidationError, EtcdMapError
from etcdmap.mapping.typed_fields import (
    as_text,
    changed_paths,
    config_error,
    fields_of,
    is_complex,
    model_of,
    prepare,
    seed_items,
)


class Db(BaseModel):
    host: str = "localhost"
    port: int = 5432


class App(BaseModel):
    level: str = Field("info", alias="log-level")
    sizes: list[int] = [1]
    db: Db = Db()
    backup: Optional[Db] = None  # noqa: UP045 - the typing spelling must work too
    name: str


@dataclasses.dataclass
class Dc:
    inner: Db
    flags: dict[str, bool] = dataclasses.field(default_factory=dict)
    n: Annotated[int, "meta"] = 3


@pydantic.dataclasses.dataclass
class PDc:
    x: int = Field(7)


def test_fields_of_models_and_dataclasses() -> None:
    app = {f.name: f for f in fields_of(App)}
    assert app["level"].key == "log-level" and app["level"].default == "info"
    assert not app["name"].has_default and app["db"].default == Db()
    dc = {f.name: f for f in fields_of(Dc)}
    assert not dc["inner"].has_default and dc["flags"].default == {} and dc["n"].default == 3
    assert [(f.name, f.default) for f in fields_of(PDc)] == [("x", 7)]
    with pytest.raises(TypeError):
        fields_of(dict)


def test_model_of_and_is_complex() -> None:
    hints = {f.name: f.annotation for f in fields_of(App)}
    assert model_of(hints["backup"]) is Db and model_of(hints["db"]) is Db
    assert model_of(hints["sizes"]) is None and model_of(int | None) is None
    assert is_complex(hints["sizes"]) and is_complex(dict[str, int]) and is_complex(set[int])
    assert not is_complex(str) and not is_complex(hints["db"]) and not is_complex(int)


def test_prepare_parses_json_text_of_complex_fields_only() -> None:
    data = {"sizes": "[1, 2]", "name": "[x]", "db": {"port": "1"}, "backup": {"host": "b"},
            "other": "[3]"}
    assert prepare(data, App) == {"sizes": [1, 2], "name": "[x]", "db": {"port": "1"},
                                  "backup": {"host": "b"}, "other": "[3]"}
    assert prepare({"sizes": "not json"}, App) == {"sizes": "not json"}  # pydantic will say
    assert data["sizes"] == "[1, 2]"  # not mutated
    assert prepare({"inner": {"port": "2"}, "flags": '{"a": true}'}, Dc)["flags"] == {"a": True}


def test_seed_items_flatten_defaults() -> None:
    assert seed_items(App) == [(("log-level",), "info"), (("sizes",), [1]),
                               (("db", "host"), "localhost"), (("db", "port"), 5432)]
    # a required nested model contributes its own defaults; an empty dict its directory
    assert seed_items(Dc) == [(("inner", "host"), "localhost"), (("inner", "port"), 5432),
                              (("flags",), {}), (("n",), 3)]


def test_as_text_round_trips_through_lax_mode() -> None:
    assert [as_text(v) for v in ("s", True, False, 5432, 0.5, [1, "a"], {"k": 1})] == [
        "s", "true", "false", "5432", "0.5", '[1,"a"]', '{"k":1}']
    assert TypeAdapter(bool).validate_python(as_text(False)) is False
    assert TypeAdapter(float).validate_python(as_text(0.1)) == 0.1


def test_changed_paths() -> None:
    old = {"a": 1, "db": {"host": "h", "port": 1}, "gone": 1}
    new = {"a": 1, "db": {"host": "h2", "port": 1}, "new": 2}
    assert changed_paths(old, new) == ("db.host", "gone", "new")
    assert changed_paths(old, old) == ()
    assert changed_paths({"d": None}, {"d": {"x": 1}}) == ("d",)


def test_config_error_names_fields() -> None:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(App).validate_python({"db": {"port": "x"}, "sizes": "y"})
    err = config_error("/cfg", App, info.value)
    assert isinstance(err, ConfigValidationError) and isinstance(err, ValueError)
    assert isinstance(err, EtcdMapError)
    assert err.fields == ("sizes", "db.port", "name") and err.path == "/cfg" and err.model == "App"
    text = str(err)
    assert text.startswith("/cfg: invalid configuration for App (3 problems")
    assert "db.port: " in text and "(got 'x')" in text and "name: Field required" in text
    assert "name: Field required (got" not in text  # a missing field has no input
    single = ConfigValidationError("/c", "M", [("", "bad", 1)])
    assert "(1 problem:" in str(single) and "(root): bad (got 1)" in str(single)


def test_library_imports_without_pydantic() -> None:
    code = textwrap.dedent("""
        import sys
        sys.modules["pydantic"] = None          # makes "import pydantic" fail
        sys.modules["pydantic_settings"] = None
        import etcdmap
        from etcdmap import signals
        assert signals.config_changed.name == "config_changed"
        m = etcdmap.EtcdMap(etcdmap.Client("http://127.0.0.1:9"), "/x")
        class C: pass
        for attempt in (lambda: m.bind(C), lambda: __import__("etcdmap.settings")):
            try:
                attempt()
            except ImportError as exc:
                assert "pip install 'etcdmap[typed]'" in str(exc), exc
            else:
                raise SystemExit("no ImportError")
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
