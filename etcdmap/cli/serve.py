"""``etcdmap serve``: a local development etcd with the v2 API enabled.

It runs :class:`etcdmap.testing.EtcdServer` (the binary of the ``server`` extra,
``$ETCDMAP_ETCD_BIN`` or ``etcd`` on ``PATH``) on loopback, prints the endpoint, and stops etcd
cleanly on Ctrl-C or SIGTERM. Without ``--data-dir`` the data lives in a temporary directory that
is removed at exit; a ``--data-dir`` is kept, so the next ``serve`` finds the same keys.

Must run in the main thread (it installs signal handlers).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

from etcdmap.cli.common import (
    EXIT_BAD_ARGS,
    EXIT_SERVER_ERROR,
    EXIT_SUCCESS,
    CommandError,
    Context,
)

if TYPE_CHECKING:
    from etcdmap.cli.common import Subcommands

__all__ = ["SERVE_HELP", "cmd_serve", "register", "serve_arguments"]

_POLL = 0.5
"""Seconds between two checks that etcd is still alive while serving."""


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    """``serve [--data-dir DIR] [--port N]``: run etcd until Ctrl-C or SIGTERM.

    :raises CommandError: etcd could not start (exit 1) or died while serving (exit 4).
    """
    from etcdmap import testing  # noqa: PLC0415 (only this command needs the server code)

    data_dir = os.path.abspath(args.data_dir) if args.data_dir else None
    if data_dir is not None:
        os.makedirs(data_dir, mode=0o700, exist_ok=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {
        sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        try:
            server = testing.EtcdServer(
                name=args.name, data_dir=data_dir, client_port=args.port or None
            )
        except testing.EtcdStartError as exc:  # no usable binary
            raise CommandError(f"Error:  {exc}", EXIT_BAD_ARGS) from exc
        try:
            server.start()
        except testing.EtcdStartError as exc:
            server.close()
            raise CommandError(f"Error:  {exc}", EXIT_BAD_ARGS) from exc
        try:
            version = ".".join(map(str, server.version))
            print(server.client_url, file=ctx.stdout)
            ctx.stdout.flush()
            print(
                f"etcd {version} serving the v2 API at {server.client_url} "
                f"(data: {server.data_dir}); Ctrl-C to stop\n"
                f"  export ETCDMAP_ENDPOINTS={server.client_url}",
                file=ctx.stderr,
            )
            ctx.stderr.flush()
            while not stop.wait(_POLL):
                if not server.is_running:
                    raise CommandError(
                        f"Error:  etcd exited unexpectedly\n{server.log_tail()}",
                        EXIT_SERVER_ERROR,
                    )
        finally:
            server.close()
        print("etcd stopped", file=ctx.stderr)
        return EXIT_SUCCESS
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


SERVE_HELP = "run a local development etcd with v2 enabled"


def serve_arguments(p: argparse.ArgumentParser) -> None:
    """``serve``'s arguments (both command sets)."""
    p.add_argument("--data-dir", help="keep etcd's data here (default: a temporary directory)")
    p.add_argument("--port", type=int, default=2379, help="client port (0: any free port)")
    p.add_argument("--name", default="etcdmap-dev", help="the member name")


def register(commands: Subcommands) -> None:
    """Add ``serve`` to the ``etcdmap`` parser of the v2 set.

    :param commands: the object returned by ``ArgumentParser.add_subparsers``.
    """
    p = commands.add_parser("serve", help=SERVE_HELP)
    serve_arguments(p)
    p.set_defaults(func=cmd_serve)
