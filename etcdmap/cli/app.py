"""The ``etcdmap`` command: an ``etcdctl`` v2 work-alike built on the etcdmap library.

``etcdmap [global options] <command> [options] [args]``, also ``python -m etcdmap``. The global
options, the key, member, user, role, auth and ``cluster-health`` commands, their output formats
(``-o simple|extended|json``) and their exit codes follow ``etcdctl`` v2 (``ETCDCTL_API=2``), so
scripts written for it keep working. Beyond ``etcdctl``: ``dump``/``load`` (a subtree as JSON and
back) and ``serve`` (a local development etcd with the v2 API on).

``--api v2|v3|auto`` (default ``auto``: v3 where the server serves it, else v2) chooses the
etcd API: on v3 the key commands ``get set mk rm ls watch`` and ``dump``/``load`` run on the
Backend protocol (:mod:`etcdmap.cli.backends`, :mod:`etcdmap.cli.store_keys`,
:mod:`etcdmap.cli.dump`); the other commands are v2-only and say so (exit 1).

Exit codes (``etcdctl``'s): 0 success, 1 bad arguments, 2 cannot reach the cluster, 3 refused
credentials, 4 the server answered an error, 5 the cluster is not healthy. Errors go to stderr as
``Error:  <code>: <message> (<cause>) [<index>]``, whatever the output format (as etcdctl does).

The modules behind it: :mod:`etcdmap._cli_common` (context, exit codes),
:mod:`etcdmap._cli_format` (output formats), :mod:`etcdmap._cli_keys` (key commands),
:mod:`etcdmap._cli_admin` (members, health), :mod:`etcdmap._cli_auth` (users, roles, auth),
:mod:`etcdmap._cli_dump` (dump, load) and :mod:`etcdmap._cli_serve` (serve).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from etcdmap.cli import admin as _cli_admin
from etcdmap.cli import auth as _cli_auth
from etcdmap.cli import backends as _cli_backends
from etcdmap.cli import dump as _cli_dump
from etcdmap.cli import keys as _cli_keys
from etcdmap.cli import serve as _cli_serve
from etcdmap.cli.common import (
    DEFAULT_ENDPOINTS,
    EXIT_BAD_ARGS,
    EXIT_BAD_AUTH,
    EXIT_BAD_CONNECTION,
    EXIT_SERVER_ERROR,
    CommandError,
    Context,
    Parser,
    parse_duration,
)
from etcdmap.cli.format import FORMATS
from etcdmap.errors import (
    ClusterError,
    DeadlineExceeded,
    DirectoryTTLUnsupported,
    EtcdMapError,
    InsufficientCredentials,
    InvalidResponseError,
    NoEndpointsError,
    NoLeaderEndpointError,
    TooManyRedirectsError,
    Unauthorized,
)

__all__ = ["build_parser", "exit_code_for", "main"]

ENDPOINTS_ENV = "ETCDMAP_ENDPOINTS"
USERNAME_ENV = "ETCDMAP_USERNAME"
API_ENV = "ETCDMAP_API"


COMMAND_GROUPS = (_cli_keys, _cli_admin, _cli_auth, _cli_dump, _cli_serve)
"""The command table: each module's ``register(subparsers)`` adds its commands."""


def _global_options() -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """The global options as ``(flags, add_argument keywords)``; environment read now."""
    return [
        (("--endpoints",), {
            "metavar": "URLS", "default": os.environ.get(ENDPOINTS_ENV) or DEFAULT_ENDPOINTS,
            "help": f"comma-separated etcd client URLs (env {ENDPOINTS_ENV}; default: %(default)s)",
        }),
        (("-u", "--username"), {
            "metavar": "USER[:PASSWORD]", "default": os.environ.get(USERNAME_ENV) or None,
            "help": f"user[:password]; the password is prompted for when omitted "
                    f"(env {USERNAME_ENV})",
        }),
        (("--ca-file",), {"metavar": "FILE", "help": "verify HTTPS servers with this CA bundle"}),
        (("--cert-file",), {"metavar": "FILE", "help": "client TLS certificate file"}),
        (("--key-file",), {"metavar": "FILE", "help": "client TLS key file"}),
        (("--timeout",), {
            "metavar": "DURATION", "type": parse_duration, "default": 2.0,
            "help": "timeout of one request to one endpoint, e.g. 2s, 500ms (default: 2s)",
        }),
        (("--total-timeout",), {
            "metavar": "DURATION", "type": parse_duration, "default": 5.0,
            "help": "timeout of each call across endpoints, except watches (default: 5s; 0: none)",
        }),
        (("--api",), {
            "choices": _cli_backends.API_CHOICES, "default": os.environ.get(API_ENV) or "auto",
            "help": "the etcd API: v2, v3, or auto (v3 where the server serves it, else v2; "
                    f"env {API_ENV}; default: %(default)s)",
        }),
        (("-o", "--output"), {
            "choices": FORMATS, "default": "simple", "help": "output format (default: %(default)s)",
        }),
        (("--debug",), {
            "action": "store_true", "help": "print a cURL command for every request (on stderr)",
        }),
        (("-D", "--discovery-srv"), {
            "metavar": "DOMAIN", "help": "find the endpoints in this domain's SRV records",
        }),
        (("--discovery-srv-name",), {
            "metavar": "NAME", "default": "", "help": "service name for SRV discovery",
        }),
        (("--insecure-discovery",), {
            "action": "store_true", "help": "accept http:// endpoints found by SRV discovery",
        }),
        (("--no-sync",), {
            "action": "store_true",
            "help": "do not replace the endpoints by the cluster's advertised client URLs first",
        }),
    ]


def build_parser() -> argparse.ArgumentParser:
    """Build the complete command-line parser (global options and every sub-command).

    Defaults that come from the environment (``ETCDMAP_ENDPOINTS``, ``ETCDMAP_USERNAME``) are
    read when this is called.

    :returns: a new parser; ``parse_args`` gives a namespace with ``func`` set to the command.
    """
    from etcdmap._version import __version__  # noqa: PLC0415

    parser = Parser(
        prog="etcdmap",
        description="A command line client for etcd's v2 API (an etcdctl v2 work-alike); "
        "the key commands, dump and load also run on the v3 API (--api).",
        epilog="Exit codes: 0 ok, 1 bad arguments, 2 cannot connect, 3 bad credentials, "
        "4 server error, 5 cluster not healthy.",
    )
    parser.add_argument("--version", action="version", version=f"etcdmap {__version__}")
    group = parser.add_argument_group("global options")
    for flags, options in _global_options():
        group.add_argument(*flags, **options)
    commands = parser.add_subparsers(dest="command", metavar="<command>")
    commands.required = True
    for module in COMMAND_GROUPS:
        module.register(commands)
    for name, sub in commands.choices.items():  # exec-watch has an argument named "command"
        sub.set_defaults(command_name=name)
    return parser


def exit_code_for(error: BaseException) -> int:
    """The exit code for a library error (``etcdctl``'s table).

    :param error: what the command raised.
    :returns: 3 for refused credentials, 2 when the cluster could not be reached or did not
        answer like etcd, 4 otherwise.
    """
    if isinstance(error, (Unauthorized, InsufficientCredentials)):
        return EXIT_BAD_AUTH
    if isinstance(
        error,
        (
            ClusterError,
            DeadlineExceeded,
            InvalidResponseError,
            NoEndpointsError,
            NoLeaderEndpointError,
            TooManyRedirectsError,
        ),
    ):
        return EXIT_BAD_CONNECTION
    return EXIT_SERVER_ERROR


def _report(ctx: Context, error: EtcdMapError) -> None:
    if isinstance(error, ClusterError):
        # etcdctl prints the summary, then one line per endpoint tried.
        print("Error: ", "etcd cluster is unavailable or misconfigured", file=ctx.stderr)
        for i, (endpoint, cause) in enumerate(error.errors):
            print(f"error #{i}: {endpoint}: {cause}", file=ctx.stderr)
        return
    print("Error: ", error, file=ctx.stderr)
    if isinstance(error, DirectoryTTLUnsupported):
        print(
            "hint: etcd 3.5 cannot update a directory's TTL (a server regression; 3.4 can): "
            "set the TTL when creating the directory (mkdir/setdir --ttl)",
            file=ctx.stderr,
        )


EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a process killed by a closed pipe."""


def _silence_stdout() -> None:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (tests capture output in memory)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``etcdmap`` command.

    The console script and ``python -m etcdmap`` call this; tests call it in-process. Output goes
    to :data:`sys.stdout` / :data:`sys.stderr` as they are at call time.

    :param argv: the arguments without the program name (default: ``sys.argv[1:]``).
    :returns: the exit code.
    :raises SystemExit: only from ``--help``, ``--version`` and argument errors (code 1).
    """
    args = build_parser().parse_args(argv)
    ctx = Context(args, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
    try:
        return int(_cli_backends.command_for(ctx, args)(ctx, args))
    except CommandError as exc:
        if exc.message:
            print(exc.message, file=ctx.stderr)
        return exc.code
    except EtcdMapError as exc:
        _report(ctx, exc)
        return exit_code_for(exc)
    except BrokenPipeError:
        # The reader went away (``etcdmap ls -r / | head``): stop quietly, like a process
        # killed by SIGPIPE, and keep the interpreter's final flush from failing again.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except ValueError as exc:  # the library refused an argument (a TTL, a peer URL, ...)
        print("Error: ", exc, file=ctx.stderr)
        return EXIT_BAD_ARGS
    except OSError as exc:  # e.g. an unreadable --ca-file or load FILE
        print("Error: ", exc, file=ctx.stderr)
        return EXIT_BAD_ARGS if isinstance(exc, FileNotFoundError) else EXIT_BAD_CONNECTION
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()
