"""``etcdmap dump`` and ``etcdmap load`` on any store (v2, v3): a subtree as JSON, and back.

The file format is :mod:`etcdmap.cli.dumpfile`'s, so a dump read on v2 loads on v3 and back:
``etcdmap dump --ttl /config > f && etcdmap --api v3 load f /config`` migrates a subtree.
The commands run on the :class:`~etcdmap.backend.Backend` :func:`~etcdmap.cli.command_sets.open_backend`
gives. On a store without directory nodes, ``load`` makes only the directories that are empty in
the dump; the others come into being with their keys, and a directory's TTL cannot be kept there
(``load`` says so on stderr). A TTL becomes the store's TTL (v3: a lease granted with the
remaining seconds, aged by the time since the dump).

One run serves one thread.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from etcdmap.backend import Cond
from etcdmap.cli.clients import open_backend
from etcdmap.cli.common import EXIT_BAD_ARGS, EXIT_SUCCESS, CommandError, Context
from etcdmap.cli.dumpfile import (
    Entry,
    Progress,
    check_storable,
    describe_value,
    dump_document,
    entries_from_node,
    plan_load,
    read_document,
    write_document,
)
from etcdmap.errors import KeyNotFound

if TYPE_CHECKING:
    from etcdmap.backend import Backend
    from etcdmap.cli.common import Subcommands

__all__ = ["DUMP_HELP", "LOAD_HELP", "cmd_dump", "cmd_load", "directory_writes",
           "dump_arguments", "load_arguments", "register"]


def cmd_dump(ctx: Context, args: argparse.Namespace) -> int:
    """``dump PATH [--ttl]``: the subtree at PATH as JSON on stdout."""
    backend = open_backend(ctx)
    node, index = backend.read(args.path, recursive=True)
    entries = entries_from_node(node, with_ttl=args.ttl)
    document = dump_document(
        args.path, index, entries, dumped_at=time.time() if args.ttl else None, api=backend.name
    )
    write_document(ctx.stdout, document)
    return EXIT_SUCCESS


def _existing(backend: Backend, dest: str) -> dict[str, bool]:
    try:
        root, _index = backend.read(dest, recursive=True)
    except KeyNotFound:
        return {}
    found: dict[str, bool] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        found[node.key or "/"] = node.dir
        stack.extend(node.nodes)
    return found


def directory_writes(
    writes: list[tuple[str, Entry]], *, real_dirs: bool
) -> tuple[list[tuple[str, Entry]], list[str]]:
    """Which planned directory writes a store needs.

    :param writes: from :func:`~etcdmap.cli.dump.plan_load`, in pre-order.
    :param real_dirs: the store has directory nodes (v2): every directory is made.
    :returns: ``(writes, lost_ttls)``: without real directories, a directory is made only
        when nothing is written below it; ``lost_ttls`` are the directories whose TTL
        cannot be kept for that reason.
    """
    if real_dirs:
        return writes, []
    kept: list[tuple[str, Entry]] = []
    lost: list[str] = []
    for i, (key, entry) in enumerate(writes):
        below = f"{key.rstrip('/')}/"
        # pre-order: whatever is written below a directory comes right after it
        has_children = i + 1 < len(writes) and writes[i + 1][0].startswith(below)
        if entry.dir and has_children:
            if entry.ttl is not None:
                lost.append(key)
            continue
        kept.append((key, entry))
    return kept, lost


def _describe(key: str, entry: Entry) -> str:
    ttl = f" (ttl {entry.ttl})" if entry.ttl is not None else ""
    if entry.dir:
        return f"mkdir {key}{ttl}"
    return f"set {key} {describe_value(entry.value or '')}{ttl}"


def cmd_load(ctx: Context, args: argparse.Namespace) -> int:
    """``load FILE PATH [--dry-run] [--force]``: write a dump under PATH (create-only unless
    ``--force``; refuses before writing anything if a value would overwrite a key)."""
    entries = read_document(ctx, args.file)
    backend = open_backend(ctx)
    check_storable(entries, backend.capabilities, backend.name)
    planned, conflicts = plan_load(entries, args.path, _existing(backend, args.path))
    writes, lost = directory_writes(planned, real_dirs="dirs" in backend.capabilities)
    if args.dry_run:
        for key, entry in writes:
            print(_describe(key, entry), file=ctx.stdout)
    if conflicts and not args.force:
        shown = ", ".join(conflicts[:10]) + (", ..." if len(conflicts) > 10 else "")
        raise CommandError(
            f"Error:  refusing to overwrite {len(conflicts)} existing key(s) under {args.path} "
            f"(use --force): {shown}",
            EXIT_BAD_ARGS,
        )
    for key in lost:
        print(f"warning: {key}: a directory's TTL is not kept on the {backend.name} store "
              "(its keys are written without it)", file=ctx.stderr)
    if args.dry_run:
        return EXIT_SUCCESS
    create = Cond(exists=False)
    progress = Progress(ctx.stderr, len(writes), "load")
    try:
        for key, entry in writes:
            if entry.dir:
                backend.make_dir(key, ttl=entry.ttl)
            else:
                backend.put(key, entry.value or "", ttl=entry.ttl,
                            cond=Cond() if args.force else create)
            progress.step()
    finally:
        progress.finish()
    return EXIT_SUCCESS


DUMP_HELP = "print a subtree as JSON"
LOAD_HELP = "write a dump under a path"


def dump_arguments(p: argparse.ArgumentParser) -> None:
    """``dump``'s arguments (both command sets)."""
    p.add_argument("path")
    p.add_argument("--ttl", action="store_true", help="include remaining TTLs")


def load_arguments(p: argparse.ArgumentParser) -> None:
    """``load``'s arguments (both command sets)."""
    p.add_argument("file", metavar="FILE", help="a file written by dump ('-': stdin)")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--dry-run", action="store_true", help="print what would be written")
    p.add_argument("--force", action="store_true", help="overwrite existing keys")


def register(commands: Subcommands) -> None:
    """Add ``dump`` and ``load`` to the ``etcdmap`` parser of the v2 set.

    :param commands: the object returned by ``ArgumentParser.add_subparsers``.
    """
    p = commands.add_parser("dump", help=DUMP_HELP)
    dump_arguments(p)
    p.set_defaults(func=cmd_dump)
    p = commands.add_parser("load", help=LOAD_HELP)
    load_arguments(p)
    p.set_defaults(func=cmd_load)
