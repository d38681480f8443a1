"""The key commands ``get set mk rm ls watch`` written against the Backend protocol.

These bodies run when the command is on the v3 API (``--api v3``, or ``auto`` on a server
without v2); they work on any :class:`~etcdmap.backend.Backend` (v2, v3, memory), which
:func:`etcdmap.cli.backends.open_backend` gives. Options and output formats are those of the
v2 commands (:mod:`etcdmap.cli.keys`), where the store has the data: on v3 an index is a
revision (``Created-Index`` = ``create_revision``, ``Modified-Index`` = ``mod_revision``,
``Index`` = the header revision), and a write reports no previous node.

``rm`` reads the key first: a file is then deleted on the condition that it is still the
version read (retried if it changed meanwhile), so ``PrevNode.Value`` is exact; ``--dir``
deletes a directory only if the read found it empty.

One run serves one thread.
"""

from __future__ import annotations

import argparse
from contextlib import closing
from dataclasses import replace
from typing import TYPE_CHECKING

from etcdmap.backend import ALWAYS, Cond, Progress
from etcdmap.cli.common import EXIT_BAD_ARGS, EXIT_SUCCESS, CommandError, Context
from etcdmap.cli.format import print_ls, print_response
from etcdmap.cli.keys import _ttl, _value
from etcdmap.cli.stores import open_backend
from etcdmap.errors import CompareFailed, DirectoryNotEmpty, NotAFile
from etcdmap.models import Node
from etcdmap.v2.models import Response

if TYPE_CHECKING:
    from etcdmap.backend import Backend
    from etcdmap.cli.common import CommandFunc

__all__ = ["COMMANDS"]

_RM_ATTEMPTS = 5


def _written(node: Node, value: str) -> Node:
    return node if node.value is not None else replace(node, value=value)


def cmd_get(ctx: Context, args: argparse.Namespace) -> int:
    """``get KEY``: a key's value; a directory is an error (exit 1)."""
    node, index = open_backend(ctx).read(args.key, quorum=args.quorum)
    if node.dir:
        raise CommandError(f"{node.key}: is a directory", EXIT_BAD_ARGS)
    print_response(Response("get", node, None, index), ctx.output, ctx.stdout)
    return EXIT_SUCCESS


def cmd_set(ctx: Context, args: argparse.Namespace) -> int:
    """``set KEY VALUE [--ttl] [--swap-with-value V] [--swap-with-index N]``."""
    value = _value(ctx, args)
    cond = Cond(value=args.swap_with_value or None, revision=args.swap_with_index or None)
    node, index = open_backend(ctx).put(args.key, value, ttl=_ttl(args), cond=cond)
    action = "set" if cond == ALWAYS else "compareAndSwap"
    print_response(Response(action, _written(node, value), None, index), ctx.output, ctx.stdout)
    return EXIT_SUCCESS


def cmd_mk(ctx: Context, args: argparse.Namespace) -> int:
    """``mk KEY VALUE [--ttl] [--in-order]``: create a key that must not exist."""
    value = _value(ctx, args)
    backend = open_backend(ctx)
    if args.in_order:
        if "in_order" not in backend.capabilities:
            raise CommandError(f"Error:  the {backend.name} store has no in-order keys")
        node, index = backend.append(args.key, value, ttl=_ttl(args))
    else:
        node, index = backend.put(args.key, value, ttl=_ttl(args), cond=Cond(exists=False))
    print_response(Response("create", _written(node, value), None, index), ctx.output, ctx.stdout)
    return EXIT_SUCCESS


def _delete_file(backend: Backend, args: argparse.Namespace) -> tuple[Node, int, str]:
    """Delete a file, knowing exactly which version: ``(previous node, index, action)``."""
    given = Cond(value=args.with_value or None, revision=args.with_index or None)
    for _ in range(_RM_ATTEMPTS):
        prev, _index = backend.read(args.key)
        if prev.dir:
            raise NotAFile("Not a file", prev.key, _index)
        if given != ALWAYS:
            return prev, backend.delete(args.key, cond=given), "compareAndDelete"
        try:  # only the version just read, so that PrevNode is the value deleted
            return prev, backend.delete(args.key, cond=Cond(revision=prev.modified_index)), "delete"
        except CompareFailed:
            continue  # written meanwhile: read again
    return prev, backend.delete(args.key), "delete"  # a very busy key: report the last read


def cmd_rm(ctx: Context, args: argparse.Namespace) -> int:
    """``rm KEY [--dir] [-r] [--with-value V] [--with-index N]``."""
    backend = open_backend(ctx)
    node, index = backend.read(args.key)
    if not node.dir:
        prev, index, action = _delete_file(backend, args)
        resp = Response(action, Node(prev.key, modified_index=index), prev, index)
        print_response(resp, ctx.output, ctx.stdout)
        return EXIT_SUCCESS
    if args.with_value or args.with_index:
        raise NotAFile("Not a file", node.key, index)
    if not (args.dir or args.recursive):
        raise NotAFile("Not a file", node.key, index)
    if node.nodes and not args.recursive:
        raise DirectoryNotEmpty("Directory not empty", node.key, index)
    index = backend.delete(args.key, recursive=True)
    if ctx.output != "simple":  # as on v2: a deleted directory prints nothing in simple
        resp = Response("delete", Node(node.key, dir=True, modified_index=index), node, index)
        print_response(resp, ctx.output, ctx.stdout)
    return EXIT_SUCCESS


def cmd_ls(ctx: Context, args: argparse.Namespace) -> int:
    """``ls [KEY] [-r] [-p]``: list a directory."""
    node, index = open_backend(ctx).read(args.key, recursive=args.recursive, quorum=args.quorum)
    print_ls(Response("get", node, None, index), ctx.output, ctx.stdout, slash_dirs=args.p)
    return EXIT_SUCCESS


def cmd_watch(ctx: Context, args: argparse.Namespace) -> int:
    """``watch KEY [-f] [-r] [--after-index N] [--count N]``: print the next change(s).

    ``--after-index N`` reports changes with an index (v3: revision) above N; without it,
    changes after now. Directory events are skipped, as on v2.
    """
    backend = open_backend(ctx)
    after = args.after_index or backend.current_index(args.key)
    seen = 0
    try:
        with closing(backend.changes(args.key, after=after, recursive=args.recursive)) as stream:
            for item in stream:
                if isinstance(item, Progress) or item.node.dir:
                    continue
                if args.recursive:
                    print(f"[{item.action}] {item.node.key}", file=ctx.stdout)
                resp = Response(item.action, item.node, item.prev_node, item.index)
                print_response(resp, ctx.output, ctx.stdout)
                ctx.stdout.flush()
                seen += 1
                if not args.forever or (args.count and seen >= args.count):
                    return EXIT_SUCCESS
    except KeyboardInterrupt:
        pass  # as etcdctl: exit 0 on Ctrl-C
    return EXIT_SUCCESS


COMMANDS: dict[str, CommandFunc] = {
    "get": cmd_get,
    "set": cmd_set,
    "mk": cmd_mk,
    "rm": cmd_rm,
    "ls": cmd_ls,
    "watch": cmd_watch,
}
"""The key commands that run on any store, by name (the parsers are :mod:`etcdmap.cli.keys`')."""
