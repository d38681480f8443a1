"""The v3 command set's pure parts, without a server: etcdctl 3.5's text formats (Go's ``%q``,
durations, byte sizes, tables -- the expected texts are what etcdctl 3.5.1 printed), Go's
number parsing, the txn grammar, and the group help."""

from __future__ import annotations

import io

import pytest

from etcdmap.cli import app
from etcdmap.cli.common import CommandError
from etcdmap.cli.v3.printing import go_duration, go_quote, humanize_bytes, print_table
from etcdmap.cli.v3.txn import argify, go_unquote, parse_compare
from etcdmap.cli.v3.verbs import go_int, parse_go_bool


@pytest.mark.parametrize(("data", "quoted"), [
    (b"foo", '"foo"'), (b'a"b\\c', '"a\\"b\\\\c"'), ("ü\nx\ty".encode(), '"ü\\nx\\ty"'),
    (b"\x00\x7f", '"\\x00\\x7f"'), (b"\xff", '"\\xff"'), ("\u2028".encode(), '"\\u2028"'),
])
def test_go_quote(data: bytes, quoted: str) -> None:
    assert go_quote(data) == quoted


@pytest.mark.parametrize(("seconds", "text"), [
    (0.003198522, "3.198522ms"), (0.00085, "850µs"), (1.5, "1.5s"), (90, "1m30s"),
    (0.000000123, "123ns"), (0, "0s"), (3725, "1h2m5s"),
])
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


@pytest.mark.parametrize(("size", "text"), [
    (9, "9 B"), (20480, "20 kB"), (25000, "25 kB"), (1_500_000, "1.5 MB"), (2_097_152, "2.1 MB"),
])
def test_humanize_bytes(size: int, text: str) -> None:
    assert humanize_bytes(size) == text


def test_table_as_etcdctl_draws_it() -> None:
    out = io.StringIO()
    print_table(["endpoint", "health", "took", "error"],
                [["127.0.0.1:23790", "true", "3.623799ms", ""]], out)
    assert out.getvalue() == (
        "+-----------------+--------+------------+-------+\n"
        "|    ENDPOINT     | HEALTH |    TOOK    | ERROR |\n"
        "+-----------------+--------+------------+-------+\n"
        "| 127.0.0.1:23790 |   true | 3.623799ms |       |\n"
        "+-----------------+--------+------------+-------+\n"
    )


def test_go_numbers_and_bools() -> None:
    assert go_int("6baaa245b3d57f17", 16) == 0x6BAAA245B3D57F17
    assert go_int("-5") == -5
    for text, base, message in (("zz", 16, 'strconv.ParseInt: parsing "zz": invalid syntax'),
                                ("0x10", 16, 'parsing "0x10": invalid syntax'),
                                ("", 10, 'parsing "": invalid syntax'),
                                ("9223372036854775808", 10, "value out of range")):
        with pytest.raises(ValueError, match=message):
            go_int(text, base)
    with pytest.raises(ValueError, match="ParseUint"):
        go_int("-1", 16, unsigned=True)
    assert [parse_go_bool(t) for t in ("true", "T", "1", "false", "F", "0")] == [
        True, True, True, False, False, False]
    with pytest.raises(ValueError, match='strconv.ParseBool: parsing "yes": invalid syntax'):
        parse_go_bool("yes")


def test_txn_words_and_compares() -> None:
    assert argify('put k "a b\\n" \'c d\' e"f') == ["put", "k", "a b\n", "c d", 'e"f']
    assert go_unquote('"\\x41\\u00fc\\101"') == "Aü" + "A"
    assert go_unquote("`raw\\n`") == "raw\\n"
    compare = parse_compare('value("k") = "v"')
    assert compare.fields["target"] == "VALUE" and compare.fields["result"] == "EQUAL"
    assert parse_compare('lease("k") != "6baaa245b3d57f17"').fields["lease"] == str(
        0x6BAAA245B3D57F17)
    for line, message in (('mod("k") > "x"', "invalid txn compare request"),
                          ('foo("k") = "1"', "unknown target foo"),
                          ('value("k") ~ "1"', "unknown operator ~"),
                          ("bogus", "malformed comparison: bogus")):
        with pytest.raises(CommandError, match=message) as info:
            parse_compare(line)
        assert info.value.code == 3


def test_group_and_verb_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        app.main(["--api", "v3", "lease", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "lease keep-alive" in out and "lease timetolive" in out
    with pytest.raises(SystemExit):
        app.main(["--api", "v3", "lease", "grant", "--help"])
    assert "usage: etcdmap [global options] lease grant <ttl>" in capsys.readouterr().out
    assert app.main(["--api", "v3", "lease"]) == 1
    assert "lease needs a sub-command (one of: grant, keep-alive" in capsys.readouterr().err
