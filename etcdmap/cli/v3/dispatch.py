"""The v3 command set: the table of verbs, finding the verb of a command line, its parser,
running it, and ``etcdctl`` 3.5's error lines and exit codes.

A command line is ``etcdmap [global options] <verb> [subverb] [options] [args]``. As with
etcdctl (cobra), options may come anywhere after the verb, global ones included (``-w json``,
``--endpoints``), bool options also as ``--flag=false``, and ``--`` ends the options
(``put <key> -- <value>``, ``watch <key> -- <command>``, ``lock <name> -- <command>``). Only
``--api`` must come before the verb: it chooses the command set.

Errors: etcd's refusals print ``Error: <etcd's text>`` (``etcdserver: ...``), an unreachable
cluster ``Error: context deadline exceeded`` then one line per endpoint tried; the exit code
is the verb's (1 for most, as etcdctl's ``ExitError``).

One run serves one thread.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn

from etcdmap.cli.argparse_internals import bool_options
from etcdmap.cli.common import CommandError, Context
from etcdmap.cli.options import add_global_options, first_word, global_flags
from etcdmap.cli.v3 import (
    auth,
    cluster,
    concurrency,
    endpoints,
    extensions,
    kv,
    lease,
    maintenance,
    roles,
    txn,
    users,
    watch,
)
from etcdmap.cli.v3.verbs import (
    EXIT_BAD_CONNECTION,
    EXIT_ERROR,
    Verb,
    error,
    etcdctl_message,
    parse_go_bool,
)
from etcdmap.errors import EtcdMapError
from etcdmap.v3.errors import AuthenticationFailed

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["GROUPS", "VERBS", "find_verb", "parse_verb", "run_verb", "verb_names"]

_MODULES = (kv, txn, watch, lease, cluster, endpoints, maintenance, concurrency, auth,
            users, roles, extensions)

VERBS: tuple[Verb, ...] = tuple(sorted((v for m in _MODULES for v in m.VERBS),
                                       key=lambda v: v.path))
"""Every verb of the v3 set, in ``--help`` order (etcdctl's: by name)."""

GROUPS: dict[str, str] = {k: v for m in _MODULES for k, v in getattr(m, "GROUPS", {}).items()}
"""The verbs that have sub-verbs (``lease grant``...), with their summaries."""

_BY_PATH = {verb.path: verb for verb in VERBS}


def verb_names() -> frozenset[str]:
    """The first words of the v3 set (``get``, ``lease``, ``dump``...)."""
    return frozenset(verb.path[0] for verb in VERBS)


def find_verb(word: str, rest: Sequence[str]) -> tuple[Verb, list[str]]:
    """The verb named by ``word`` (and, for a group, its sub-verb in ``rest``).

    :param word: the first word of the command.
    :param rest: what follows it on the command line.
    :returns: the verb and its arguments (the sub-verb's word taken out).
    :raises CommandError: no such verb, or a group without a known sub-verb (exit 1, as
        cobra's ``unknown command``).
    :raises SystemExit: ``--help`` after a group: its sub-verbs are printed (exit 0).
    """
    verb = _BY_PATH.get((word,))
    if verb is not None:
        return verb, list(rest)
    if word not in GROUPS:
        raise error(f'unknown command "{word}" for "etcdmap"\n'
                    "Run 'etcdmap --help' for usage.")
    _, valued = global_flags("v3")
    at = first_word(rest, valued)
    sub = rest[at] if at is not None else None
    verb = _BY_PATH.get((word, sub)) if sub is not None else None
    if verb is None and sub is None and any(t in ("-h", "--help") for t in rest):
        print(f"usage: etcdmap [global options] {word} <subcommand> [options]\n\n"
              f"{GROUPS[word]}:", *(line for v, line in zip(VERBS, help_lines(), strict=True)
                                    if v.path[0] == word), sep="\n")
        raise SystemExit(0)
    if verb is None or at is None:
        subs = ", ".join(v.path[1] for v in VERBS if v.path[0] == word)
        what = f'unknown command "{sub}" for "etcdmap {word}"' if sub else f"{word} needs a sub-command"
        raise error(f"{what} (one of: {subs})")
    return verb, [*rest[:at], *rest[at + 1:]]


class _VerbParser(argparse.ArgumentParser):
    """A verb's parser: cobra's words for a bad option, exit 1, nothing on stdout."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            flag = message.removeprefix("unrecognized arguments: ").split()[0]
            if flag == "--api" or flag.startswith("--api="):
                raise CommandError(
                    "Error: --api goes before the command (it chooses the command set): "
                    "etcdmap --api v2|v3 <command> ...", EXIT_ERROR)
            message = f"unknown flag: {flag}"
        elif message.startswith("argument ") and ": " in message:
            flag, _, detail = message.removeprefix("argument ").partition(": ")
            flag = flag.split("/")[-1]
            message = (f"flag needs an argument: {flag}" if detail.startswith("expected one")
                       else detail)
        raise CommandError(f"Error: {message}\nRun '{self.prog} --help' for usage.", EXIT_ERROR)


def verb_parser(verb: Verb) -> argparse.ArgumentParser:
    """The parser of one verb: its options, the global options (which then override those
    given before the verb) and its positional arguments as ``args``."""
    parser = _VerbParser(
        prog=f"etcdmap {verb.name}", usage=f"etcdmap [global options] {verb.usage}",
        description=f"{verb.summary}. {verb.description}".strip(), allow_abbrev=False,
    )
    verb.options(parser)
    add_global_options(parser.add_argument_group("global options"), "v3", suppress=True)
    if verb.own_positionals:
        return parser
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    return parser


def parse_verb(verb: Verb, tokens: Sequence[str], options: argparse.Namespace) -> argparse.Namespace:
    """Parse a verb's part of the command line onto the global options given before it.

    ``--flag=true|false`` is taken for a bool option, as cobra takes it; ``--`` ends the
    options: what follows is in ``args.after`` (and, unless the verb runs it as a command,
    appended to ``args.args``); ``args.dashdash`` says whether there was one.

    :param verb: the verb.
    :param tokens: its arguments.
    :param options: the global options given before the verb (a copy is returned).
    :returns: the complete namespace.
    :raises CommandError: a bad option (exit 1).
    :raises SystemExit: ``--help`` (exit 0).
    """
    parser = verb_parser(verb)
    tokens = list(tokens)
    after: list[str] = []
    dashdash = "--" in tokens
    if dashdash:
        cut = tokens.index("--")
        tokens, after = tokens[:cut], tokens[cut + 1:]
    bools = bool_options(parser)
    kept: list[str] = []
    explicit: dict[str, bool] = {}
    for token in tokens:
        flag, equal, text = token.partition("=")
        action = bools.get(flag) if equal and token.startswith("--") else None
        if action is None:
            kept.append(token)
            continue
        try:
            value = parse_go_bool(text)
        except ValueError as exc:
            raise error(f'invalid argument "{text}" for "{flag}" flag: {exc}') from exc
        explicit[action.dest] = value if action.const else not value
    namespace = argparse.Namespace(**vars(options))
    args = parser.parse_intermixed_args(kept, namespace)
    for dest, value in explicit.items():
        setattr(args, dest, value)
    args.after = after
    args.dashdash = dashdash
    if not verb.own_positionals and not verb.command_after:
        args.args = [*args.args, *after]
    args.verb = verb
    return args


def run_verb(ctx: Context, args: argparse.Namespace) -> int:
    """Run the verb of a parsed command line.

    :returns: the exit code.
    :raises CommandError: what the verb raised, or a failed call as etcdctl reports it.
    """
    verb: Verb = args.verb
    try:
        return int(verb.run(ctx, args))
    except AuthenticationFailed as exc:  # etcdctl authenticates while it connects: exit 2
        raise error(etcdctl_message(exc), EXIT_BAD_CONNECTION) from exc
    except EtcdMapError as exc:
        raise error(etcdctl_message(exc), verb.error_code) from exc


def help_lines() -> list[str]:
    """The verbs of the v3 set, one per line, for ``etcdmap --help``."""
    width = max(len(verb.name) for verb in VERBS) + 2
    return [f"  {verb.name.ljust(width)}{verb.summary}" for verb in VERBS]

