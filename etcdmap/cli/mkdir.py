"""``etcdmap mkdir`` on any store, as the library's ``EtcdMap.mkdir`` does it.

On v2 it is ``etcdctl`` v2's ``mkdir`` (a directory node, create-only; nothing printed in the
simple format, the response in the others). On v3, which has no directories, it makes the
directory's marker key (``/a/b/``, see :mod:`etcdmap.v3.layout`), as ``EtcdMap.mkdir`` and
``load`` do, so that the map, ``dump`` and ``mkdir`` agree on what a directory is; it prints
nothing. One body, on the :class:`~etcdmap.backend.Backend` protocol.

One run serves one thread.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from etcdmap.backend import Cond
from etcdmap.cli.clients import open_backend
from etcdmap.cli.common import EXIT_SUCCESS
from etcdmap.cli.v2.printing import print_response
from etcdmap.v2.models import Response

if TYPE_CHECKING:
    from etcdmap.cli.common import Context

__all__ = ["MKDIR_HELP", "cmd_mkdir", "mkdir_arguments"]

MKDIR_HELP = "make a new directory (fails if it exists)"


def mkdir_arguments(p: argparse.ArgumentParser) -> None:
    """``mkdir``'s arguments (both command sets)."""
    p.add_argument("key")
    p.add_argument("--ttl", type=int, default=0, help="time to live in seconds (0: none)")


def cmd_mkdir(ctx: Context, args: argparse.Namespace) -> int:
    """``mkdir KEY [--ttl N]``: make a directory that must not exist yet."""
    backend = open_backend(ctx)
    node, index = backend.make_dir(args.key, ttl=int(args.ttl) or None, cond=Cond(exists=False))
    if backend.name == "v2" and ctx.output != "simple":  # etcdctl v2 prints nothing in simple
        print_response(Response("create", node, None, index), ctx.output, ctx.stdout)
    return EXIT_SUCCESS
