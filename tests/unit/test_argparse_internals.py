"""The argparse internals the command line relies on, pinned: each test fails loudly on the
Python release that changes one (etcdmap/cli/argparse_internals.py)."""

from __future__ import annotations

import argparse

import pytest

from etcdmap.cli.argparse_internals import bool_options, subcommand_helps


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="p")
    parser.add_argument("--quiet", action="store_true")
    group = parser.add_argument_group("more")
    group.add_argument("--no-color", "-C", dest="color", action="store_false")
    parser.add_argument("--count", type=int)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("get", help="read a key")
    commands.add_parser("set", help="write a key", aliases=["put"])
    commands.add_parser("hidden")
    return parser


def test_subcommands_with_their_help_in_order() -> None:
    assert subcommand_helps(_parser()) == [("get", "read a key"), ("set", "write a key")]


def test_a_parser_without_subcommands_says_so() -> None:
    with pytest.raises(ValueError, match="no subcommands"):
        subcommand_helps(argparse.ArgumentParser(prog="flat"))


def test_bool_options_by_every_flag_of_theirs() -> None:
    found = bool_options(_parser())
    assert set(found) == {"--quiet", "--no-color", "-C"}
    assert found["-C"] is found["--no-color"] and found["-C"].dest == "color"
    assert found["--quiet"].const is True and found["--no-color"].const is False
