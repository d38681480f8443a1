"""What every command of the v3 set shares: the :class:`Verb` record, ``etcdctl`` 3.5's exit
codes, its argument errors and Go's integer parsing.

A verb is a function ``(ctx, args) -> int`` plus its name path (``("lease", "grant")``), usage,
summary, options and the output formats it has. Its positional arguments arrive as the list
``args.args`` and the verb checks them itself, with ``etcdctl``'s messages and exit code
(:data:`EXIT_BAD_ARGS`, 128), as etcd-io/etcd release-3.5:etcdctl/ctlv3/command does.

Nothing here holds state: thread-safe.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from etcdmap.cli.common import CommandError
from etcdmap.cli.v3.printing import go_quote
from etcdmap.errors import ClusterError, DeadlineExceeded, EtcdMapError, NoEndpointsError
from etcdmap.v3.errors import KeyNotProvided, V3Error

if TYPE_CHECKING:
    from etcdmap.cli.common import CommandFunc, Context

__all__ = [
    "ALL_FORMATS",
    "EXIT_BAD_ARGS",
    "EXIT_BAD_CONNECTION",
    "EXIT_BAD_FEATURE",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID_INPUT",
    "FORMATS",
    "Verb",
    "bad_args",
    "check_format",
    "error",
    "etcdctl_message",
    "go_int",
    "go_int_flag",
    "parse_go_bool",
]

# etcd-io/etcd release-3.5:pkg/cobrautl/error.go
EXIT_ERROR = 1
EXIT_BAD_CONNECTION = 2
EXIT_INVALID_INPUT = 3
EXIT_BAD_FEATURE = 4
EXIT_INTERRUPTED = 5
EXIT_BAD_ARGS = 128

FORMATS = ("simple", "json", "fields", "table", "protobuf")
"""What ``-w`` names in etcdctl 3.5 (``protobuf`` needs protobuf, which etcdmap does not use)."""

ALL_FORMATS = frozenset(FORMATS)
"""For a verb whose output does not depend on ``-w`` (e.g. ``compaction``)."""


def error(message: str, code: int = EXIT_ERROR) -> CommandError:
    """An error printed as etcdctl prints it: ``Error: <message>``.

    :param message: the text after ``Error: ``.
    :param code: the exit code.
    """
    return CommandError(f"Error: {message}", code)


def etcdctl_message(exc: EtcdMapError) -> str:
    """The text etcdctl prints after ``Error: `` for a failed call: etcd's own text for a
    refusal (``etcdserver: ...``), ``context deadline exceeded`` for a cluster that could not
    be reached (then, on the next lines, what each endpoint answered)."""
    if isinstance(exc, KeyNotProvided):
        return "etcdserver: key is not provided"  # the client refuses it before sending
    if isinstance(exc, V3Error):
        return exc.message
    if isinstance(exc, ClusterError):
        lines = [f"error #{i}: {endpoint}: {cause}" for i, (endpoint, cause) in
                 enumerate(exc.errors)]
        return "\n".join(["context deadline exceeded", *lines])
    if isinstance(exc, (DeadlineExceeded, NoEndpointsError)):
        return f"context deadline exceeded\n({exc})"
    return str(exc)


def bad_args(message: str) -> CommandError:
    """A usage error of a verb (exit 128, ``ExitBadArgs``)."""
    return error(message, EXIT_BAD_ARGS)


def _no_options(parser: argparse.ArgumentParser) -> None:
    """A verb without options of its own."""


@dataclass(frozen=True)
class Verb:
    """One command of the v3 set.

    :ivar path: its words, e.g. ``("get",)`` or ``("lease", "grant")``.
    :ivar usage: etcdctl's usage after ``etcdmap``, e.g. ``"get [options] <key> [range_end]"``.
    :ivar summary: one line for ``--help``.
    :ivar run: the body.
    :ivar options: adds the verb's own options to its parser.
    :ivar formats: the ``-w`` formats it prints (others: ``not supported as output format``).
    :ivar error_code: the exit code of a failed call (etcdctl's, which differs by verb).
    :ivar description: more text for the verb's ``--help``.
    :ivar own_positionals: ``options`` declares the positional arguments (etcdmap's own
        verbs); otherwise they arrive as the list ``args.args``.
    :ivar command_after: what follows ``--`` is a command to run (``args.after``), not more
        arguments (``watch``).
    """

    path: tuple[str, ...]
    usage: str
    summary: str
    run: CommandFunc
    options: Callable[[argparse.ArgumentParser], None] = _no_options
    formats: frozenset[str] = field(default=frozenset({"simple", "json"}))
    error_code: int = EXIT_ERROR
    description: str = ""
    own_positionals: bool = False
    command_after: bool = False

    @property
    def name(self) -> str:
        """The words joined, e.g. ``"lease grant"``."""
        return " ".join(self.path)


def check_format(ctx: Context, verb: Verb) -> str:
    """The ``-w`` format of this run, checked against what the verb prints.

    etcdctl checks an unknown format before it connects and an unsupported one after the
    request; etcdmap checks both before sending anything (a write is not applied and then
    reported as an error).

    :returns: the format.
    :raises CommandError: ``unsupported output format`` or ``<f> not supported as output
        format`` (exit 4, ``ExitBadFeature``).
    """
    output = ctx.output
    if output not in FORMATS:
        raise error("unsupported output format", EXIT_BAD_FEATURE)
    if output == "protobuf" and verb.formats != ALL_FORMATS:
        raise error("protobuf not supported as output format (etcdmap speaks JSON to etcd's "
                    "gateway and has no protobuf encoder; use -w json)", EXIT_BAD_FEATURE)
    if output not in verb.formats:
        raise error(f"{output} not supported as output format", EXIT_BAD_FEATURE)
    return output


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_go_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool`` (a bool flag given as ``--flag=false``).

    :raises ValueError: not one of Go's spellings.
    """
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"strconv.ParseBool: parsing {go_quote(text)}: invalid syntax")


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def go_int(text: str, base: int = 10, *, unsigned: bool = False) -> int:
    """Go's ``strconv.ParseInt(text, base, 64)`` (``ParseUint`` with ``unsigned``).

    :param text: the text, e.g. a hexadecimal lease ID.
    :param base: 10 or 16 (no ``0x`` prefix, as in Go with an explicit base).
    :returns: the number.
    :raises ValueError: with Go's message, e.g. ``strconv.ParseInt: parsing "zz": invalid
        syntax``.
    """
    func = "ParseUint" if unsigned else "ParseInt"
    body = text
    negative = False
    if not unsigned and body[:1] in ("+", "-"):
        negative, body = body[0] == "-", body[1:]
    allowed = _DIGITS[:base]
    if not body or any(c.lower() not in allowed for c in body):
        raise ValueError(f"strconv.{func}: parsing {go_quote(text)}: invalid syntax")
    number = int(body, base)
    number = -number if negative else number
    low, high = (0, 2**64 - 1) if unsigned else (-(2**63), 2**63 - 1)
    if not low <= number <= high:
        raise ValueError(f"strconv.{func}: parsing {go_quote(text)}: value out of range")
    return number


def go_int_flag(flag: str) -> Callable[[str], int]:
    """An argparse ``type=`` for an int64 flag, with cobra's message when it is not a number.

    :param flag: e.g. ``"--limit"``.
    """

    def parse(text: str) -> int:
        try:
            return go_int(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(
                f"invalid argument {go_quote(text)} for {go_quote(flag)} flag: {exc}"
            ) from exc

    return parse
