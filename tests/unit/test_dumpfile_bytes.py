"""The dump file keeps any value: one that is not UTF-8 (bytes another v3 client stored) is
written as ``value_b64`` and read back exactly; files of earlier versions load unchanged."""

from __future__ import annotations

import io
import json

import pytest

from etcdmap.cli.common import CommandError
from etcdmap.cli.dumpfile import (
    Entry,
    check_storable,
    describe_value,
    dump_document,
    entries_from_node,
    parse_document,
    write_document,
)
from etcdmap.models import Node

RAW = b"\xff\xfe\x00\x80 binary"
TEXT = RAW.decode("utf-8", "surrogateescape")  # how the v3 store hands such a value over


def round_trip(entries: list[Entry]) -> tuple[str, list[Entry]]:
    out = io.StringIO()
    write_document(out, dump_document("/p", 7, entries, api="v3"))
    text = out.getvalue()
    text.encode("utf-8")  # the file is plain UTF-8 (a lone surrogate would not encode)
    return text, parse_document(json.loads(text))


def test_a_value_that_is_not_utf8_round_trips_as_base64() -> None:
    entries = [Entry("", None), Entry("bin", TEXT), Entry("txt", "é\n", 5), Entry("e", "")]
    text, back = round_trip(entries)
    assert back == entries
    assert back[1].value is not None and back[1].value.encode("utf-8", "surrogateescape") == RAW
    nodes = json.loads(text)["nodes"]
    assert nodes[1] == {"key": "bin", "value_b64": "//4AgCBiaW5hcnk="}
    assert nodes[2] == {"key": "txt", "value": "é\n", "ttl": 5}  # text stays readable


def test_a_file_without_value_b64_loads_as_before() -> None:
    old = {"etcdmap_dump": 1, "path": "/p", "index": 3,
           "nodes": [{"key": "", "dir": True}, {"key": "k", "value": "v"}]}
    assert parse_document(old) == [Entry("", None), Entry("k", "v")]


@pytest.mark.parametrize(
    "node",
    [{"key": "k", "value": "v", "value_b64": "dg=="}, {"key": "k", "dir": True, "value_b64": ""},
     {"key": "k", "value_b64": "not base64!"}, {"key": "k", "value_b64": 5}],
)
def test_malformed_value_b64_is_refused(node: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="value_b64|exactly one"):
        parse_document({"etcdmap_dump": 1, "path": "/p", "nodes": [node]})


def test_a_key_that_is_not_utf8_is_refused_with_the_reason() -> None:
    root = Node("/p", dir=True, nodes=(Node(f"/p/{TEXT}", value="v"),))
    with pytest.raises(CommandError, match="is not UTF-8 text.*keeps keys as text"):
        entries_from_node(root)


def test_a_store_without_bytes_refuses_such_values_before_writing() -> None:
    entries = [Entry("", None), Entry("a", "fine"), Entry("bin", TEXT)]
    check_storable(entries, frozenset({"txn", "bytes"}), "v3")
    with pytest.raises(CommandError, match=r"1 value\(s\).*v2 API cannot store: bin.*--api v3"):
        check_storable(entries, frozenset({"dirs"}), "v2")
    check_storable(entries[:2], frozenset({"dirs"}), "v2")


def test_dry_run_describes_such_a_value_by_its_size() -> None:
    assert describe_value("a \"b\"") == '"a \\"b\\""'
    assert describe_value(TEXT) == f"({len(RAW)} bytes, not UTF-8)"
