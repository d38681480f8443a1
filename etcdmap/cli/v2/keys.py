"""The key commands of ``etcdmap``: ``get set mk mkdir setdir update updatedir rm rmdir ls watch
exec-watch``, with ``etcdctl`` v2's options, output and exit codes (``etcdctl/ctlv2/command``).

Values may come from stdin when the argument is omitted (``echo v | etcdmap set /k``), as with
``etcdctl``. Every command runs on :meth:`etcdmap.cli.common.Context.client`. One run serves one
thread.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Generator
from contextlib import closing
from typing import TYPE_CHECKING

from etcdmap.cli.common import EXIT_BAD_ARGS, EXIT_SUCCESS, CommandError, Context
from etcdmap.cli.mkdir import MKDIR_HELP, cmd_mkdir, mkdir_arguments
from etcdmap.cli.v2.printing import print_ls, print_response
from etcdmap.v2.models import Response

if TYPE_CHECKING:
    from etcdmap.cli.common import CommandFunc, Subcommands

__all__ = ["register", "watch_environment"]


def _value(ctx: Context, args: argparse.Namespace) -> str:
    """The value argument, or all of stdin when it is omitted (``etcdctl``'s ``argOrStdin``)."""
    if args.value is not None:
        return str(args.value)
    data = "" if ctx.stdin.isatty() else ctx.stdin.read()
    if not data:
        raise CommandError("Error:  value required", EXIT_BAD_ARGS)
    return data


def _ttl(args: argparse.Namespace) -> int | None:
    # etcdctl: --ttl 0 (the default) means "no TTL".
    return int(args.ttl) or None


def cmd_get(ctx: Context, args: argparse.Namespace) -> int:
    """``get KEY``: print a key's value; a directory is an error (exit 1), as in etcdctl."""
    resp = ctx.client().keys.get(args.key, sort=args.sort, quorum=args.quorum)
    if resp.node is not None and resp.node.dir:
        raise CommandError(f"{resp.node.key}: is a directory", EXIT_BAD_ARGS)
    print_response(resp, ctx.output, ctx.stdout)
    return EXIT_SUCCESS


def cmd_set(ctx: Context, args: argparse.Namespace) -> int:
    """``set KEY VALUE``: write a value; ``--swap-with-*`` make it a compare-and-swap."""
    value = _value(ctx, args)
    resp = ctx.client().keys.set(
        args.key,
        value,
        ttl=_ttl(args),
        prev_value=args.swap_with_value or None,
        prev_index=args.swap_with_index or None,
    )
    print_response(resp, ctx.output, ctx.stdout)
    return EXIT_SUCCESS


def cmd_mk(ctx: Context, args: argparse.Namespace) -> int:
    """``mk KEY VALUE``: create a key that must not exist; ``--in-order``: a new in-order key."""
    value = _value(ctx, args)
    keys = ctx.client().keys
    if args.in_order:
        resp = keys.create_in_order(args.key, value, ttl=_ttl(args))
    else:
        resp = keys.create(args.key, value, ttl=_ttl(args))
    print_response(resp, ctx.output, ctx.stdout)
    return EXIT_SUCCESS


def cmd_update(ctx: Context, args: argparse.Namespace) -> int:
    """``update KEY VALUE``: write a key that must exist."""
    value = _value(ctx, args)
    resp = ctx.client().keys.update(args.key, value, ttl=_ttl(args))
    print_response(resp, ctx.output, ctx.stdout)
    return EXIT_SUCCESS


def _print_dir_response(ctx: Context, resp: Response) -> None:
    # etcdctl prints nothing for directory writes in the simple format.
    if ctx.output != "simple":
        print_response(resp, ctx.output, ctx.stdout)


def cmd_setdir(ctx: Context, args: argparse.Namespace) -> int:
    """``setdir KEY``: create a directory, or set an existing directory's TTL."""
    resp = ctx.client().keys.set(args.key, "", dir=True, ttl=_ttl(args))
    _print_dir_response(ctx, resp)
    return EXIT_SUCCESS


def cmd_updatedir(ctx: Context, args: argparse.Namespace) -> int:
    """``updatedir KEY``: update an existing directory's TTL."""
    resp = ctx.client().keys.set(args.key, "", dir=True, prev_exist=True, ttl=_ttl(args))
    _print_dir_response(ctx, resp)
    return EXIT_SUCCESS


def _print_delete(ctx: Context, resp: Response) -> None:
    # etcdctl: a deleted directory prints nothing in the simple format.
    if resp.node is None or not resp.node.dir or ctx.output != "simple":
        print_response(resp, ctx.output, ctx.stdout)


def cmd_rm(ctx: Context, args: argparse.Namespace) -> int:
    """``rm KEY``: delete a key; ``--dir``/``--recursive`` for directories, ``--with-*`` CAD."""
    resp = ctx.client().keys.delete(
        args.key,
        recursive=args.recursive,
        dir=args.dir,
        prev_value=args.with_value or None,
        prev_index=args.with_index or None,
    )
    _print_delete(ctx, resp)
    return EXIT_SUCCESS


def cmd_rmdir(ctx: Context, args: argparse.Namespace) -> int:
    """``rmdir KEY``: delete an empty directory."""
    _print_delete(ctx, ctx.client().keys.delete(args.key, dir=True))
    return EXIT_SUCCESS


def cmd_ls(ctx: Context, args: argparse.Namespace) -> int:
    """``ls [KEY]``: list a directory (``-r`` recursively, ``-p`` marks directories with ``/``)."""
    resp = ctx.client().keys.get(
        args.key, recursive=args.recursive, sort=args.sort, quorum=args.quorum
    )
    print_ls(resp, ctx.output, ctx.stdout, slash_dirs=args.p)
    return EXIT_SUCCESS


def _key_events(
    ctx: Context, args: argparse.Namespace, *, report_dirs: bool
) -> Generator[Response, None, None]:
    """The changes of ``args.key`` (``--after-index``, ``--recursive``), directory events left
    out (reported on stderr if ``report_dirs``, as ``exec-watch`` does); the watcher is closed
    when the generator is.
    """
    watcher = ctx.client().keys.watcher(
        args.key, after_index=args.after_index, recursive=args.recursive
    )
    try:
        while True:
            resp = watcher.next(timeout=None)
            if resp.node is None or resp.node.dir:
                if report_dirs:
                    key = resp.node.key if resp.node else ""
                    print(f"Ignored dir {key} change", file=ctx.stderr)
                continue
            yield resp
    finally:
        watcher.close()


def cmd_watch(ctx: Context, args: argparse.Namespace) -> int:
    """``watch KEY``: print the next change (``--forever``: every change until Ctrl-C).

    Directory events are skipped, as in etcdctl; with ``--recursive`` each event is preceded by
    ``[action] key``.
    """
    seen = 0
    try:
        with closing(_key_events(ctx, args, report_dirs=False)) as events:
            for resp in events:
                assert resp.node is not None  # _key_events skips the others
                if args.recursive:
                    print(f"[{resp.action}] {resp.node.key}", file=ctx.stdout)
                print_response(resp, ctx.output, ctx.stdout)
                ctx.stdout.flush()
                seen += 1
                if not args.forever or (args.count and seen >= args.count):
                    return EXIT_SUCCESS
    except KeyboardInterrupt:
        pass  # etcdctl exits 0 on Ctrl-C
    return EXIT_SUCCESS


def watch_environment(resp: Response, base: dict[str, str]) -> dict[str, str]:
    """The environment ``exec-watch`` gives its command for one event (``etcdctl``'s names).

    :param resp: the watch event.
    :param base: the environment to extend (not modified).
    :returns: ``base`` plus ``ETCD_WATCH_ACTION``, ``ETCD_WATCH_MODIFIED_INDEX``,
        ``ETCD_WATCH_KEY`` and ``ETCD_WATCH_VALUE``.
    """
    env = dict(base)
    node = resp.node
    env["ETCD_WATCH_ACTION"] = resp.action
    env["ETCD_WATCH_MODIFIED_INDEX"] = str(node.modified_index if node else 0)
    env["ETCD_WATCH_KEY"] = node.key if node else ""
    env["ETCD_WATCH_VALUE"] = (node.value or "") if node else ""
    return env


def cmd_exec_watch(ctx: Context, args: argparse.Namespace) -> int:
    """``exec-watch KEY -- CMD ARGS...``: run a command for every change of a key.

    Unlike etcdctl, the command runs to completion before the next event is read, so runs never
    overlap and see events in order (no event is lost meanwhile: the watch resumes from the next
    index). ``--count N`` stops after N events.
    """
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise CommandError("Error:  key and command to exec required", EXIT_BAD_ARGS)
    seen = 0
    try:
        with closing(_key_events(ctx, args, report_dirs=True)) as events:
            for resp in events:
                ctx.stdout.flush()
                try:
                    subprocess.run(  # noqa: PLW1510 (the command's status is its own business)
                        command, env=watch_environment(resp, dict(os.environ))
                    )
                except OSError as exc:
                    raise CommandError(f"Error:  {command[0]}: {exc}", EXIT_BAD_ARGS) from exc
                seen += 1
                if args.count and seen >= args.count:
                    return EXIT_SUCCESS
    except KeyboardInterrupt:
        pass
    return EXIT_SUCCESS


def _quorum_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quorum", action="store_true", help="require a quorum read")


def _watch_options(p: argparse.ArgumentParser, count_help: str) -> None:
    p.add_argument("--after-index", metavar="N", type=int, default=0, help="watch after this index")
    p.add_argument("-r", "--recursive", action="store_true", help="include child keys")
    p.add_argument("--count", metavar="N", type=int, default=0, help=count_help)


def _key_command(
    commands: Subcommands, name: str, help_text: str, func: CommandFunc, *,
    value: bool = False, ttl: bool = False,
) -> argparse.ArgumentParser:
    """A command on KEY [VALUE] [--ttl]; the caller adds any further options."""
    p = commands.add_parser(name, help=help_text)
    p.add_argument("key")
    if value:
        p.add_argument("value", nargs="?", help="the value (default: read stdin)")
    if ttl:
        p.add_argument("--ttl", type=int, default=0, help="time to live in seconds (0: none)")
    p.set_defaults(func=func)
    return p


def register(commands: Subcommands) -> None:
    """Add the key commands to the ``etcdmap`` parser.

    :param commands: the object returned by ``ArgumentParser.add_subparsers``.
    """
    _register_reads(commands)
    _register_writes(commands)
    _register_watches(commands)


def _register_reads(commands: Subcommands) -> None:
    p = _key_command(commands, "get", "print the value of a key", cmd_get)
    p.add_argument("--sort", action="store_true", help="sort the result")
    _quorum_option(p)

    p = commands.add_parser("ls", help="list a directory")
    p.add_argument("key", nargs="?", default="/")
    p.add_argument("--sort", action="store_true", help="sort the result")
    p.add_argument("-r", "--recursive", action="store_true", help="list all descendants")
    p.add_argument("-p", action="store_true", help="append / to directories")
    _quorum_option(p)
    p.set_defaults(func=cmd_ls)


def _register_writes(commands: Subcommands) -> None:
    p = _key_command(commands, "set", "set the value of a key", cmd_set, value=True, ttl=True)
    p.add_argument("--swap-with-value", default="", help="only if the current value is this")
    p.add_argument("--swap-with-index", type=int, default=0, help="only if modified at index")

    p = _key_command(commands, "mk", "make a new key with a value (fails if it exists)", cmd_mk,
                     value=True, ttl=True)
    p.add_argument("--in-order", action="store_true", help="create an in-order key under KEY")

    p = commands.add_parser("mkdir", help=MKDIR_HELP)  # one body for both sets (mkdir.py)
    mkdir_arguments(p)
    p.set_defaults(func=cmd_mkdir)
    _key_command(commands, "setdir", "create a directory or update its TTL", cmd_setdir, ttl=True)
    _key_command(commands, "update", "update an existing key", cmd_update, value=True, ttl=True)
    _key_command(commands, "updatedir", "update an existing directory's TTL", cmd_updatedir,
                 ttl=True)

    p = _key_command(commands, "rm", "remove a key or a directory", cmd_rm)
    p.add_argument("--dir", action="store_true", help="also remove an empty directory")
    p.add_argument("-r", "--recursive", action="store_true", help="remove a directory tree")
    p.add_argument("--with-value", default="", help="only if the current value is this")
    p.add_argument("--with-index", type=int, default=0, help="only if modified at index")

    _key_command(commands, "rmdir", "remove an empty directory", cmd_rmdir)


def _register_watches(commands: Subcommands) -> None:
    p = _key_command(commands, "watch", "wait for a change of a key and print it", cmd_watch)
    p.add_argument("-f", "--forever", action="store_true", help="print every change until ^C")
    _watch_options(p, "with --forever: stop after N events")

    p = commands.add_parser(
        "exec-watch",
        help="run a command on every change of a key",
        description="Run CMD for every change of KEY, with ETCD_WATCH_ACTION, ETCD_WATCH_KEY, "
        "ETCD_WATCH_VALUE and ETCD_WATCH_MODIFIED_INDEX in its environment.",
        usage="%(prog)s [-h] [--after-index N] [-r] [--count N] KEY -- CMD [ARGS ...]",
    )
    _watch_options(p, "stop after N events (0: never)")
    p.add_argument("key")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_exec_watch)
