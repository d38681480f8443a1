"""Which etcd API a command runs on (``--api v2|v3|auto``) and the store it gets for it.

``--api auto`` (the default) probes the server once: a v2 ``GET`` of a hidden, normally absent
key answers etcd's JSON ``Key not found`` (or another v2 error) where v2 is served, and ``404 page not found``
(:class:`~etcdmap.errors.V2DisabledError`) where it is not (etcd 3.6+, or 3.4/3.5 started
without ``--enable-v2``): then the command runs on v3. ``--api v2`` and ``--api v3`` skip the
probe.

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

from etcdmap.cli.common import EXIT_BAD_ARGS, CommandError, Context, endpoint_list
from etcdmap.errors import EtcdError, V2DisabledError

if TYPE_CHECKING:
    from etcdmap.backend import Backend
    from etcdmap.cli.common import CommandFunc
    from etcdmap.v3 import Client as V3Client

__all__ = [
    "API_CHOICES",
    "LOCAL_COMMANDS",
    "command_for",
    "open_backend",
    "resolve_api",
    "v3_commands",
]

API_CHOICES = ("auto", "v2", "v3")
"""The values ``--api`` accepts."""

LOCAL_COMMANDS = frozenset({"serve"})
"""Commands that talk to no server: they run whatever ``--api`` says."""

_PROBE_KEY = "/_etcdmap_api_probe"


def v3_commands() -> dict[str, CommandFunc]:
    """The commands that run on v3, by name: their bodies on the Backend protocol."""
    from etcdmap.cli import dump, store_keys  # noqa: PLC0415 (import cycle at load)

    return {**store_keys.COMMANDS, **dump.COMMANDS}


def _serves_v2(ctx: Context) -> bool:
    """One v2 read of a hidden, normally absent key: ``True`` unless v2 is not served."""
    try:
        ctx.unsynced_client().keys.get(_PROBE_KEY)
    except EtcdError:  # etcd's v2 JSON error (not found, or no read permission on it)
        return True
    except V2DisabledError:
        return False
    return True  # the key exists: v2 is served all the same


def resolve_api(ctx: Context) -> str:
    """The API this run uses, ``"v2"`` or ``"v3"`` (probing the server once for ``auto``).

    :param ctx: the run.
    :returns: ``"v2"`` or ``"v3"``; cached in ``ctx.api``.
    :raises etcdmap.errors.ClusterError: the probe reached no endpoint (exit 2).
    """
    if ctx.api is None:
        choice = str(getattr(ctx.options, "api", "v2") or "v2")
        if choice not in API_CHOICES:  # from $ETCDMAP_API, which argparse does not check
            raise CommandError(
                f"Error:  unknown API {choice!r} (use one of {', '.join(API_CHOICES)})"
            )
        if choice == "auto":
            choice = "v2" if _serves_v2(ctx) else "v3"
            if ctx.options.debug:
                print(f"api: {choice} (probed)", file=ctx.stderr)
        ctx.api = choice
    return ctx.api


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
        return func if resolve_api(ctx) == "v2" else v3
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


def _v3_client(ctx: Context) -> V3Client:
    """An ``etcdmap.v3.Client`` from the global options (endpoints, timeouts, TLS, user)."""
    from etcdmap.v3 import Client as V3Client  # noqa: PLC0415 (only v3 runs need it)

    opts = ctx.options
    if opts.discovery_srv:
        raise CommandError("Error:  --discovery-srv is not supported with the v3 API yet")
    username, password = ctx.credentials()
    cert: str | tuple[str, str] | None = None
    if opts.cert_file:
        cert = (opts.cert_file, opts.key_file) if opts.key_file else opts.cert_file
    return V3Client(
        endpoint_list(opts.endpoints),
        timeout=opts.total_timeout or None,
        request_timeout=opts.timeout or None,
        username=username,
        password=password,
        verify=opts.ca_file or True,
        cert=cert,
    )


def open_backend(ctx: Context) -> Backend:
    """The store the Backend command bodies run on: the ONE place that builds it.

    On v2 it is ``client.backend`` of the run's v2 client; on v3 the ``backend`` of an
    ``etcdmap.v3.Client`` built from the global options. Built once per run and closed with
    the run (:meth:`~etcdmap.cli.common.Context.close`); a store set on ``ctx.backend``
    beforehand (tests) is used as is.

    :param ctx: the run.
    :returns: an :class:`~etcdmap.backend.Backend`.
    """
    if ctx.backend is not None:
        given: Backend = ctx.backend
        return given
    if resolve_api(ctx) == "v2":
        v2: Backend = ctx.client().backend
        ctx.backend = v2  # owned by the v2 client, which the context closes
        return v2
    backend: Backend = _v3_client(ctx).backend
    ctx.backend = backend
    ctx.add_closer(backend.close)
    return backend
