"""``lock`` and ``elect`` of the v3 set, as ``etcdctl`` 3.5 has them (etcd-io/etcd
release-3.5:etcdctl/ctlv3/command/lock_command.go, elect_command.go), on the client's lock
(``client.lock``) and election (``client.election``) services.

``lock <name>`` prints the lock's key once it holds the lock and keeps it until Ctrl-C or
SIGTERM; ``lock <name> <command> [args]`` runs the command while holding it, with
``ETCD_LOCK_KEY`` and ``ETCD_LOCK_REV`` in its environment, then releases it and exits with
the command's status. ``elect <name> <proposal>`` campaigns, prints the leader key once
elected and stays leader until Ctrl-C (then resigns); ``elect -l <name>`` prints every
leader as it changes.

Must run in the main thread (Ctrl-C and SIGTERM end the wait).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from etcdmap.cli.clients import v3_client
from etcdmap.cli.v3.kv import print_range
from etcdmap.cli.v3.printing import go_quote
from etcdmap.cli.v3.verbs import Verb, bad_args, check_format, error
from etcdmap.v3.models import RangeResponse, ResponseHeader

if TYPE_CHECKING:
    from etcdmap.cli.common import Context

__all__ = ["VERBS"]

_FORMATS = frozenset({"simple", "json", "fields"})


@contextmanager
def _until_signal() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs (the handlers restored after)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_key(ctx: Context, key: str | bytes, output: str) -> None:
    """``display.Get`` of the lock's or the leader's key, read back as etcdctl does."""
    resp = v3_client(ctx).kv.range(key)
    if not resp.kvs:
        raise error("lock lost on init")
    print_range(resp, output, ctx.stdout)
    ctx.stdout.flush()


def _lock_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ttl", type=int, default=10, help="timeout for session")


def cmd_lock(ctx: Context, args: argparse.Namespace) -> int:
    """``lock <lockname> [exec-command arg1 arg2 ...]``."""
    output = check_format(ctx, LOCK)
    if not args.args:
        raise bad_args("lock takes a lock name argument and an optional command to execute")
    name, command = args.args[0], list(args.args[1:])
    with v3_client(ctx).lock(name, ttl=args.ttl) as held:  # Ctrl-C while waiting: exit 130
        key = str(held.key)
        if command:
            env = {"ETCD_LOCK_KEY": key, "ETCD_LOCK_REV": str(held.revision), **os.environ}
            try:
                done = subprocess.run(command, env=env)  # noqa: PLW1510 (its status is ours)
            except FileNotFoundError as exc:
                raise error(f"exec: {go_quote(command[0])}: executable file not found in "
                            "$PATH") from exc
            except OSError as exc:
                raise error(f"exec: {go_quote(command[0])}: {exc.strerror}") from exc
            return done.returncode
        with _until_signal() as stop:  # from the first line printed: Ctrl-C releases it
            _print_key(ctx, key, output)
            stop.wait()
    return 0


def _elect_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-l", "--listen", action="store_true", help="observation mode")


def cmd_elect(ctx: Context, args: argparse.Namespace) -> int:
    """``elect <election-name> [proposal]`` (``-l``: print each leader as it changes)."""
    output = check_format(ctx, ELECT)
    if len(args.args) not in (1, 2):
        raise bad_args("elect takes one election name argument and an optional proposal "
                       "argument")
    if len(args.args) == 1 and not args.listen:
        raise bad_args("no proposal argument but -l not set")
    if len(args.args) == 2 and args.listen:
        raise bad_args("proposal given but -l is set")
    client = v3_client(ctx)
    name = args.args[0]
    election = client.election(name, ttl=60)
    if args.listen:
        try:
            for _value in election.observe():
                # the observer yields values; etcdctl prints the leader's key too
                kv = client.election_service.leader(name)
                if kv is not None:
                    print_range(RangeResponse(ResponseHeader(), (kv,), count=1), output,
                                ctx.stdout)
                    ctx.stdout.flush()
        except KeyboardInterrupt:
            return 0
        raise error("elect: observer lost")
    leading = election.campaign(args.args[1])  # Ctrl-C while campaigning: exit 130
    try:
        with _until_signal() as stop:  # from the first line printed: Ctrl-C resigns
            _print_key(ctx, str(leading.key), output)
            stop.wait()
    finally:
        election.resign()
    return 0


LOCK = Verb(("lock",), "lock <lockname> [exec-command arg1 arg2 ...]", "Acquires a named lock",
            cmd_lock, _lock_options, _FORMATS)
ELECT = Verb(("elect",), "elect <election-name> [proposal]",
             "Observes and participates in leader election", cmd_elect, _elect_options,
             _FORMATS)

VERBS = (ELECT, LOCK)
"""The verbs of this module, for the v3 command table."""
