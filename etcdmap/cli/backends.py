"""Which etcd API a command runs on (``--api v2|v3|auto``) and the store it gets for it.

``--api auto`` (the default) follows the library's rule (:mod:`etcdmap.cli.stores`,
:mod:`etcdmap._api`): v3 wherever the server serves it (etcd 3.4+), v2 only on older servers,
by one probe of ``/version``. ``--api v2`` and ``--api v3`` skip the probe.

On v2 every command runs its own ``etcdctl``-compatible body on the v2 client. On v3 the key
commands (``get set mk rm ls watch``) and ``dump``/``load`` run bodies written against the
:class:`~etcdmap.backend.Backend` protocol (:mod:`etcdmap.cli.store_keys`,
:mod:`etcdmap.cli.dump`), on the store :func:`open_backend` gives; every other command
is v2-only and says so (exit 1).

Nothing here is shared between threads: one :class:`~etcdmap.cli.common.Context` per run.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from etcdmap.cli import dump, store_keys
from etcdmap.cli.common import EXIT_BAD_ARGS, CommandError, Context
from etcdmap.cli.stores import API_CHOICES, hint_v2_keys, open_backend, resolve_api
from etcdmap.errors import V2DisabledError

if TYPE_CHECKING:
    from etcdmap.cli.common import CommandFunc

__all__ = ["API_CHOICES", "LOCAL_COMMANDS", "command_for", "open_backend", "resolve_api",
           "v3_commands"]

LOCAL_COMMANDS = frozenset({"serve"})
"""Commands that talk to no server: they run whatever ``--api`` says."""


def v3_commands() -> dict[str, CommandFunc]:
    """The commands that run on v3, by name: their bodies on the Backend protocol."""
    return {**store_keys.COMMANDS, **dump.COMMANDS}


def _v2_only(ctx: Context, name: str, why: str) -> CommandError:
    return CommandError(
        f"Error:  '{name}' is a v2-only command and this run is on the v3 API ({why}); "
        f"on v3 these work: {', '.join(sorted(v3_commands()))}",
        EXIT_BAD_ARGS,
    )


def command_for(ctx: Context, args: argparse.Namespace) -> CommandFunc:
    """The function that runs the command on this run's API.

    A command that also runs on v3 resolves the API first (the ``auto`` probe); a v2-only
    command under ``auto`` runs its v2 body at once (no probe: its own argument checks come
    first) and, should the server not serve v2, says that the command is v2-only.

    :param ctx: the run.
    :param args: the parsed command line (``args.func`` is the v2 body, ``args.command_name``
        the command's name).
    :returns: ``args.func`` on v2 (and for :data:`LOCAL_COMMANDS`), the Backend body on v3.
    :raises CommandError: the command is v2-only and ``--api v3`` was given (exit 1).
    """
    func: CommandFunc = args.func
    name = str(getattr(args, "command_name", None) or args.command)
    if name in LOCAL_COMMANDS or ctx.options.api == "v2":
        return func
    v3 = v3_commands().get(name)
    if v3 is not None:
        if resolve_api(ctx) == "v2":
            return func
        return v3 if ctx.options.api == "v3" else hint_v2_keys(v3)
    if ctx.options.api == "v3":
        raise _v2_only(ctx, name, "--api v3 was given")
    if ctx.options.api not in API_CHOICES:
        resolve_api(ctx)  # refuses a bad $ETCDMAP_API

    def v2_or_explain(ctx: Context, args: argparse.Namespace) -> int:
        try:
            return func(ctx, args)
        except V2DisabledError as exc:
            ctx.api = "v3"
            raise _v2_only(
                ctx, name, "the server does not serve the v2 API: etcd 3.6+, or 3.4/3.5 "
                "started without --enable-v2"
            ) from exc

    return v2_or_explain
