"""The two command sets of ``etcdmap`` and which one a run uses.

- **v2** (``--api v2``): the ``etcdctl`` v2 work-alike (``ETCDCTL_API=2``), parsed by
  :func:`build_parser`: the key verbs (:mod:`etcdmap.cli.v2.keys`), members and
  ``cluster-health`` (:mod:`etcdmap.cli.v2.members`), users, roles and auth
  (:mod:`etcdmap.cli.v2.auth`). Global options go before the command, as in etcdctl v2.
- **v3** (``--api v3``): the ``etcdctl`` 3.5 work-alike (``ETCDCTL_API=3``), parsed verb by
  verb (:mod:`etcdmap.cli.v3.dispatch`).
- Both: ``dump``, ``load``, ``mkdir`` (on the Backend protocol) and ``serve``.

``--api auto`` (the default) asks the server which API to use (:func:`etcdmap.cli.clients.
resolve_api`); ``serve`` talks to no server and asks nothing. A verb of the other set is
answered with the verb to use (:mod:`etcdmap.cli.hints`).

Nothing here is shared between threads: one :class:`~etcdmap.cli.common.Context` per run.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from etcdmap.cli import dump, serve
from etcdmap.cli.argparse_internals import subcommand_helps
from etcdmap.cli.clients import API_CHOICES, resolve_api
from etcdmap.cli.common import CommandError, Context, Parser
from etcdmap.cli.hints import wrong_set
from etcdmap.cli.options import API_ENV, add_global_options, finish, global_flags
from etcdmap.cli.v2 import auth, keys, members
from etcdmap.cli.v2.printing import FORMATS as V2_FORMATS
from etcdmap.cli.v3 import dispatch
from etcdmap.errors import EtcdMapError

__all__ = ["LOCAL_COMMANDS", "api_option", "build_parser", "choose_api", "parse_command_line",
           "v2_help_lines", "why"]

LOCAL_COMMANDS = frozenset({"serve"})
"""Commands that talk to no server: under ``auto`` they run without asking one."""

V2_GROUPS = (keys, members, auth, dump, serve)
"""The v2 set: each module's ``register(subparsers)`` adds its commands."""

_V2_DESCRIPTION = (
    "The v2 command set is active: a work-alike of etcdctl for etcd's v2 API "
    "(ETCDCTL_API=2). The v3 set (etcdctl 3.5's verbs: put, get --prefix, del, txn, lease, "
    "lock...) runs with --api v3 or {env}=v3."
)


def api_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--api`` (its default from ``$ETCDMAP_API``, read now; checked by
    ``resolve_api``)."""
    parser.add_argument(
        "--api", choices=API_CHOICES, default=os.environ.get(API_ENV) or "auto",
        help="the command set and etcd API: v2, v3, or auto (asks the server; "
             f"env {API_ENV}; default: %(default)s)",
    )


class _V2Parser(Parser):
    """The v2 set's parser: a global option after the command says where it goes."""

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> argparse.Namespace:
        parsed: argparse.Namespace
        parsed, extras = self.parse_known_args(args, namespace)
        flags, _ = global_flags("v2")
        for extra in extras:
            if extra.split("=", 1)[0] in flags:
                raise CommandError(
                    f"Error:  global options go before the command: {extra} "
                    "(etcdmap [global options] <command> [options] [args])"
                )
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    """The parser of the v2 set (global options and every v2 command).

    :returns: a new parser; ``parse_args`` gives a namespace with ``func`` set to the command
        and the global options not given left at ``None`` (see :func:`etcdmap.cli.options.finish`).
    """
    from etcdmap._version import __version__  # noqa: PLC0415

    parser = _V2Parser(
        prog="etcdmap",
        description=_V2_DESCRIPTION.format(env=API_ENV),
        epilog="Exit codes: 0 ok, 1 bad arguments, 2 cannot connect, 3 bad credentials, "
        "4 server error, 5 cluster not healthy.",
    )
    parser.add_argument("--version", action="version", version=f"etcdmap {__version__}")
    group = parser.add_argument_group("global options")
    api_option(group)
    add_global_options(group, "v2", output_choices=V2_FORMATS)
    commands = parser.add_subparsers(dest="command", metavar="<command>")
    commands.required = True
    for module in V2_GROUPS:
        module.register(commands)
    for name, sub in commands.choices.items():  # exec-watch has an argument named "command"
        sub.set_defaults(command_name=name)
    return parser


def v2_help_lines() -> list[str]:
    """The commands of the v2 set, one per line, for ``etcdmap --help``."""
    helps = subcommand_helps(build_parser())
    width = max(len(name) for name, _ in helps) + 2
    return [f"  {name.ljust(width)}{text}" for name, text in helps]


def why(ctx: Context) -> str:
    """How this run's API was chosen, for messages (``"--api v3"``, ``"auto chose v2"``)."""
    if ctx.options.api == "auto":
        return f"--api auto chose {ctx.api} for this server"
    return f"--api {ctx.options.api}"


def choose_api(ctx: Context, command: str | None, *, helping: bool = False) -> str:
    """The command set of this run: ``--api`` as given, or asked of the server under ``auto``.

    :param ctx: the run (its options from the first pass, finished).
    :param command: the verb (``None``: none given).
    :param helping: ``--help`` was given after the verb: under ``auto``, a server that cannot
        be reached gives the v3 set's help instead of an error.
    :returns: ``"v2"`` or ``"v3"``.
    :raises CommandError: an unknown API in ``$ETCDMAP_API``.
    :raises etcdmap.errors.ClusterError: ``auto`` could not reach the server (exit 2).
    """
    if ctx.options.api == "auto" and (command is None or command in LOCAL_COMMANDS):
        return "v2" if command is None else "v3"
    if not helping:
        return resolve_api(ctx)
    try:
        return resolve_api(ctx)
    except EtcdMapError:  # help must not depend on a reachable server
        return "v3"


def parse_command_line(
    ctx: Context, argv: Sequence[str], front: argparse.Namespace, api: str
) -> argparse.Namespace:
    """The complete command line on ``api``'s set, global options finished.

    :param ctx: the run.
    :param argv: the whole command line.
    :param front: the first pass (global options before the command, ``command``, ``rest``).
    :param api: the set.
    :returns: the options; ``func`` is the body to run.
    :raises CommandError: a verb of the other set (naming the one to use), a global option
        after a v2 command, or a v3 verb's bad arguments.
    :raises SystemExit: ``--help`` (0), a v2 usage error (1).
    """
    command = str(front.command)
    if command not in LOCAL_COMMANDS:
        wrong_set(api, command, front.rest, why(ctx))
    if api == "v2":
        args = build_parser().parse_args(argv)
    else:
        verb, tokens = dispatch.find_verb(command, front.rest)
        args = dispatch.parse_verb(verb, tokens, front)
        args.func = dispatch.run_verb
    finish(args, api)
    return args
