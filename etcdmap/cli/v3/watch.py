"""``watch`` of the v3 set, as ``etcdctl`` 3.5 has it (etcd-io/etcd release-3.5:etcdctl/
ctlv3/command/watch_command.go): the events of a key, a prefix or a range, from now or from
``--rev``, printed message by message, and an optional command run for each event with
``ETCD_WATCH_REVISION``, ``ETCD_WATCH_EVENT_TYPE``, ``ETCD_WATCH_KEY`` and ``ETCD_WATCH_VALUE``
in its environment (the last three quoted, as etcdctl quotes them).

The watch runs until Ctrl-C, or until etcd cancels it (a compacted ``--rev``, a permission
refused): then ``watch was canceled (...)`` and ``Error: watch is canceled by the server``
(exit 5). A broken stream is reopened where it stopped, on another member if need be, without
losing or repeating an event. The key may also come from ``ETCDCTL_WATCH_KEY`` (and
``ETCDCTL_WATCH_RANGE_END``). ``-i`` (etcdctl's interactive mode) is not supported.

One run serves one thread.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from typing import TYPE_CHECKING

from etcdmap.cli.clients import v3_client
from etcdmap.cli.v3.printing import (
    go_json,
    go_quote,
    header_fields,
    header_json,
    kv_fields,
    kv_json,
    print_kv,
)
from etcdmap.cli.v3.verbs import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    Verb,
    bad_args,
    check_format,
    error,
    go_int_flag,
)
from etcdmap.v3.errors import V3Error

if TYPE_CHECKING:
    from etcdmap.cli.common import Context
    from etcdmap.v3.models import Event, WatchResponse

__all__ = ["VERBS", "event_environment"]


def _watch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--interactive", action="store_true", help="(not supported)")
    p.add_argument("--prefix", action="store_true", help="Watch on a prefix if prefix is set")
    p.add_argument("--rev", type=go_int_flag("--rev"), default=0,
                   help="Revision to start watching")
    p.add_argument("--prev-kv", action="store_true",
                   help="get the previous key-value pair before the event happens")
    p.add_argument("--progress-notify", action="store_true",
                   help="get periodic watch progress notification from server")


def event_environment(resp: WatchResponse, event: Event, base: dict[str, str]) -> dict[str, str]:
    """The environment of the command run for one event (etcdctl's names and quoting).

    :param resp: the message the event came in (its header revision).
    :param event: the event.
    :param base: the environment to extend (not changed).
    """
    env = dict(base)
    env["ETCD_WATCH_REVISION"] = str(resp.header.revision)
    env["ETCD_WATCH_EVENT_TYPE"] = go_quote(event.type)
    env["ETCD_WATCH_KEY"] = go_quote(event.kv.key)
    env["ETCD_WATCH_VALUE"] = go_quote(event.kv.value)
    return env


def _event_json(event: Event) -> dict[str, object]:
    out: dict[str, object] = {}
    if event.type == "DELETE":
        out["type"] = 1
    out["kv"] = kv_json(event.kv)
    if event.prev_kv is not None:
        out["prev_kv"] = kv_json(event.prev_kv)
    return out


def _print(ctx: Context, resp: WatchResponse) -> None:
    """``display.Watch`` of one message."""
    out = ctx.stdout
    if ctx.output == "json":
        print(go_json({"Header": header_json(resp.header),
                       "Events": [_event_json(e) for e in resp.events] or None,
                       "CompactRevision": resp.compact_revision, "Canceled": resp.canceled,
                       "Created": False}), file=out)
    elif ctx.output == "fields":
        header_fields(resp.header, out)
        for event in resp.events:
            print('"Type" :', event.type, file=out)
            if event.prev_kv is not None:
                kv_fields(event.prev_kv, out, "Prev")
            kv_fields(event.kv, out)
    else:
        for event in resp.events:
            print(event.type, file=out)
            if event.prev_kv is not None:
                print_kv(event.prev_kv, out)
            print_kv(event.kv, out)
    out.flush()


def _watch_words(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The key (and range end) to watch and the command to run (``parseWatchArgs``)."""
    env_key = os.environ.get("ETCDCTL_WATCH_KEY", "")
    env_range = os.environ.get("ETCDCTL_WATCH_RANGE_END", "")
    if not env_key and env_range:
        raise bad_args(f"ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END={env_range!r}")
    words, command = list(args.args), list(args.after)
    if args.dashdash and not command:
        raise bad_args("bad number of arguments (found separator --, but no commands)")
    if env_key:
        if words:
            raise bad_args("bad number of arguments (found conflicting environment key)")
        words = [env_key, env_range] if env_range else [env_key]
    if not words:
        raise bad_args("bad number of arguments")
    if len(words) == 2 and args.prefix:
        raise bad_args("`range_end` and `--prefix` are mutually exclusive")
    return words, command


def _run_command(ctx: Context, command: list[str], resp: WatchResponse) -> None:
    for event in resp.events:
        try:
            done = subprocess.run(  # noqa: PLW1510 (the status is checked below)
                command, env=event_environment(resp, event, dict(os.environ)))
        except OSError as exc:
            raise error(f"command {_go_strings(command)} error ({exc})") from exc
        if done.returncode:
            raise error(f"command {_go_strings(command)} error (exit status {done.returncode})")


def _go_strings(words: list[str]) -> str:
    """Go's ``%q`` of a ``[]string``."""
    return "[" + " ".join(go_quote(w) for w in words) + "]"


def cmd_watch(ctx: Context, args: argparse.Namespace) -> int:
    """``watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]``."""
    check_format(ctx, WATCH)
    if args.interactive:
        raise error("interactive watch (-i) is not supported by etcdmap: run one watch per "
                    "command")
    words, command = _watch_words(args)
    options: dict[str, object] = {"prefix": args.prefix, "prev_kv": args.prev_kv,
                                  "progress_notify": args.progress_notify}
    if len(words) == 2:
        options["range_end"] = words[1]
    if args.rev > 0:
        options["start_revision"] = args.rev
    watcher = v3_client(ctx).watch(words[0], **options)  # type: ignore[arg-type]
    try:
        for resp in watcher.responses():
            if resp.created:
                continue
            if resp.is_progress:
                print(f"progress notify: {resp.header.revision}", file=ctx.stdout)
            _print(ctx, resp)
            if command:
                _run_command(ctx, command, resp)
    except KeyboardInterrupt:
        return 130
    except V3Error as exc:  # etcd canceled the watch: compacted revision, no permission...
        print(f"watch was canceled ({exc.message})", file=ctx.stderr)
        raise error("watch is canceled by the server", EXIT_INTERRUPTED) from exc
    finally:
        watcher.close()
    return EXIT_ERROR


WATCH = Verb(("watch",), "watch [options] [key or prefix] [range_end] [--] [exec-command arg1 "
             "arg2 ...]", "Watches events stream on keys or prefixes", cmd_watch, _watch_options,
             frozenset({"simple", "json", "fields"}), command_after=True)

VERBS = (WATCH,)
"""The verbs of this module, for the v3 command table."""
