"""The ``etcdmap`` command: ``etcdctl``'s work-alike for etcd's v2 and v3 APIs.

``etcdmap [global options] <command> [options] [args]``, also ``python -m etcdmap``. Two
command sets (:mod:`etcdmap.cli.command_sets`), chosen by ``--api`` (or ``$ETCDMAP_API``):

- ``--api v2``: ``etcdctl`` v2's commands, options, output formats (``-o simple|extended|
  json``) and exit codes (0 ok, 1 bad arguments, 2 cannot connect, 3 refused credentials, 4
  server error, 5 cluster not healthy; errors as ``Error:  <code>: <message> (<cause>)
  [<index>]``);
- ``--api v3``: ``etcdctl`` 3.5's (``ETCDCTL_API=3``): verbs, flags, ``-w simple|json|fields|
  table``, ``Error: <message>`` and its exit codes (1 for a failed call, 128 for bad
  arguments...);
- ``--api auto`` (the default): the server is asked which to use.

Beyond ``etcdctl`` on both: ``dump``/``load`` (a subtree as JSON and back), ``mkdir`` (as the
library makes a directory) and ``serve`` (a local development etcd).

The command line is read twice: a first pass finds the global options before the command,
the command and ``--api``; once the set is known, that set's parser reads it all.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from collections.abc import Sequence

from etcdmap.cli.clients import API_CHOICES
from etcdmap.cli.command_sets import (
    api_option,
    build_parser,
    choose_api,
    parse_command_line,
    v2_help_lines,
)
from etcdmap.cli.common import (
    EXIT_BAD_ARGS,
    EXIT_BAD_AUTH,
    EXIT_BAD_CONNECTION,
    EXIT_SERVER_ERROR,
    CommandError,
    Context,
    Parser,
)
from etcdmap.cli.options import (
    API_ENV,
    ENDPOINTS_ENV,
    USERNAME_ENV,
    add_global_options,
    finish,
    first_word,
    global_flags,
)
from etcdmap.cli.v3.dispatch import help_lines
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

__all__ = ["API_ENV", "ENDPOINTS_ENV", "USERNAME_ENV", "build_parser", "exit_code_for", "main"]


def front_parser() -> argparse.ArgumentParser:
    """The first pass: every global option of both sets, then the command and the rest.

    Public so that a test can build a :class:`~etcdmap.cli.common.Context` the way
    :func:`main` does and run a command in-process on a backend of its choice.

    :returns: a new parser; ``parse_args`` gives ``api``, the global options, ``command``
        and ``rest`` (the words after the command).
    """
    from etcdmap._version import __version__  # noqa: PLC0415

    parser = Parser(prog="etcdmap", add_help=False, allow_abbrev=False)
    parser.add_argument("-h", "--help", action="store_true")
    parser.add_argument("--version", action="version", version=f"etcdmap {__version__}")
    parser.add_argument("--api", choices=API_CHOICES,
                        default=os.environ.get(API_ENV) or "auto")
    add_global_options(parser, None)
    parser.add_argument("command", nargs="?")
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def top_help(api: str) -> str:
    """``etcdmap --help``: which command set is active, how to switch, the commands.

    :param api: ``--api`` as given (``auto`` lists both sets: the server decides).
    """
    if api == "auto":
        active = ("Active command set: chosen per server (--api auto asks the server which API "
                  f"to use). Choose one with --api v2|v3 or {API_ENV}=v2|v3.")
    else:
        other = "v3" if api == "v2" else "v2"
        active = (f"Active command set: {api} (etcdctl {'v2' if api == 'v2' else '3.5'}'s "
                  f"commands). Switch with --api {other} or {API_ENV}={other}.")
    lines = ["usage: etcdmap [global options] <command> [options] [args]", "",
             "A work-alike of etcdctl: the v2 set (--api v2, as ETCDCTL_API=2 etcdctl) and the "
             "v3 set (--api v3, as ETCDCTL_API=3 etcdctl 3.5).", active, ""]
    if api in ("v3", "auto"):
        lines += ["v3 commands (global options may also follow the command):",
                  *help_lines(), ""]
    if api in ("v2", "auto"):
        lines += ["v2 commands (global options go before the command):", *v2_help_lines(), ""]
    options = argparse.ArgumentParser(prog="etcdmap", add_help=False, usage=argparse.SUPPRESS)
    api_option(options)
    add_global_options(options, "v2")
    lines += [options.format_help().replace("options:", "global options:").rstrip(), "",
              "The v3 set also takes etcdctl 3.5's spellings: --user, --password, --cacert, "
              "--cert, --key, --dial-timeout, --command-timeout, -w/--write-out, -d, "
              "and its ETCDCTL_* environment variables.",
              "'etcdmap [--api v2|v3] <command> --help' shows a command's options."]
    return "\n".join(lines) + "\n"


def exit_code_for(error: BaseException) -> int:
    """The exit code for a library error on the v2 set (``etcdctl`` v2's table).

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
    """A library error as etcdctl v2 prints it."""
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


def _run(ctx: Context, argv: list[str], front: argparse.Namespace) -> int:
    """Choose the set, parse the command line on it and run the command."""
    probe = copy.copy(front)
    finish(probe, None)
    ctx.options = probe
    if front.command is None:
        if front.help:
            print(top_help(probe.api), end="", file=ctx.stdout)
            return 0
        raise CommandError("Error:  no command given ('etcdmap --help' lists them)",
                           EXIT_BAD_ARGS)
    at = first_word(argv, global_flags(None)[1]) or 0
    front.rest = argv[at + 1:]  # argparse drops a "--" right after the command
    helping = front.help or any(t in ("-h", "--help") for t in front.rest)
    if front.help:  # "etcdmap --help get": the command's own help
        argv = [t for t in argv[:at] if t not in ("-h", "--help")] + argv[at:] + ["--help"]
        front.rest = [*front.rest, "--help"]
    api = choose_api(ctx, front.command, helping=helping)
    ctx.options = parse_command_line(ctx, argv, front, api)
    return int(ctx.options.func(ctx, ctx.options))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``etcdmap`` command.

    The console script and ``python -m etcdmap`` call this; tests call it in-process. Output goes
    to :data:`sys.stdout` / :data:`sys.stderr` as they are at call time.

    :param argv: the arguments without the program name (default: ``sys.argv[1:]``).
    :returns: the exit code.
    :raises SystemExit: only from ``--help``, ``--version`` and v2 argument errors (code 1).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    front = front_parser().parse_args(argv)
    ctx = Context(front, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
    try:
        return _run(ctx, argv, front)
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
