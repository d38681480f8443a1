"""``alarm list|disarm``, ``defrag``, ``snapshot save``, ``move-leader`` and ``version`` of the
v3 set, as ``etcdctl`` 3.5 has them (etcd-io/etcd release-3.5:etcdctl/ctlv3/command/
alarm_command.go, defrag_command.go, snapshot_command.go, move_leader_command.go,
version_command.go), on ``client.maintenance``.

``snapshot restore`` and ``snapshot status`` read a database file (bbolt), which etcdctl
3.5 already hands to ``etcdutl``; etcdmap says to use ``etcdutl``. One run serves one thread.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from etcdmap.cli.clients import v3_client
from etcdmap.cli.v3.endpoints import cluster_option, endpoint_urls
from etcdmap.cli.v3.printing import go_json, header_fields, header_json
from etcdmap.cli.v3.verbs import (
    ALL_FORMATS,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    Verb,
    bad_args,
    check_format,
    error,
    go_int,
)
from etcdmap.errors import EtcdMapError
from etcdmap.v3.models import Listing

if TYPE_CHECKING:
    from etcdmap.cli.common import Context
    from etcdmap.v3.maintenance import Alarm

__all__ = ["VERBS"]

_ALARM_NUMBERS = {"NONE": 0, "NOSPACE": 1, "CORRUPT": 2}


def _print_alarms(ctx: Context, alarms: Sequence[Alarm]) -> None:
    """``display.Alarm``: one ``%+v`` line per alarm; the response in json and fields (with
    its header for ``alarm list``; ``alarm disarm`` gathers the answers of one disarm per
    alarm, with no header, as clientv3's ``AlarmDisarm`` does)."""
    header = alarms.header if isinstance(alarms, Listing) else None
    output = ctx.output
    if output == "json":
        doc: dict[str, object] = {}
        if header is not None:
            doc["header"] = header_json(header)
        if alarms:
            doc["alarms"] = [{"memberID": a.member_id, "alarm": _ALARM_NUMBERS.get(a.alarm, 0)}
                             for a in alarms]
        print(go_json(doc), file=ctx.stdout)
    elif output == "fields":
        if header is not None:
            header_fields(header, ctx.stdout)
        for alarm in alarms:
            print('"MemberID" :', alarm.member_id, file=ctx.stdout)
            print('"AlarmType" :', alarm.alarm, file=ctx.stdout)
            print(file=ctx.stdout)
    else:
        for alarm in alarms:  # Go's %+v of the proto message: its text form
            print(f"memberID:{alarm.member_id} alarm:{alarm.alarm} ", file=ctx.stdout)


def cmd_alarm(ctx: Context, args: argparse.Namespace) -> int:
    """``alarm list``: the members' alarms (NOSPACE, CORRUPT); ``alarm disarm``: disarm them
    all, printing the ones disarmed."""
    verb: Verb = args.verb
    check_format(ctx, verb)
    if args.args:
        raise bad_args(f"alarm {verb.path[1]} command accepts no arguments")
    maintenance = v3_client(ctx).maintenance
    _print_alarms(ctx, maintenance.alarms() if verb is ALARM_LIST else maintenance.disarm())
    return 0


def _defrag_options(p: argparse.ArgumentParser) -> None:
    cluster_option(p)
    p.add_argument("--data-dir", default="", help="(etcdutl's: a data directory not in use)")


def cmd_defrag(ctx: Context, args: argparse.Namespace) -> int:
    """``defrag [--cluster]``: defragment each endpoint's database, one at a time."""
    check_format(ctx, DEFRAG)
    if args.data_dir:
        raise error("--data-dir defragments a database file, which etcdmap cannot open (it "
                    "talks to etcd's gateway): use `etcdutl defrag --data-dir`")
    client = v3_client(ctx)
    failures = 0
    for shown, url in endpoint_urls(ctx, args.cluster):
        try:
            client.maintenance.defragment(endpoint=url)
        except EtcdMapError as exc:
            print(f"Failed to defragment etcd member[{shown}] ({exc})", file=ctx.stderr)
            failures += 1
        else:
            print(f"Finished defragmenting etcd member[{shown}]", file=ctx.stdout)
    return EXIT_ERROR if failures else 0


def cmd_snapshot_save(ctx: Context, args: argparse.Namespace) -> int:
    """``snapshot save <filename>``: the backend database of one member into a file."""
    check_format(ctx, SNAPSHOT_SAVE)
    if len(args.args) != 1:
        raise bad_args("snapshot save expects one argument")
    urls = endpoint_urls(ctx, False)
    if len(urls) != 1:
        shown = " ".join(s for s, _ in urls)
        raise error(f"snapshot must be requested to one selected node, not multiple [{shown}]",
                    EXIT_INTERRUPTED)
    path = args.args[0]
    try:
        v3_client(ctx).maintenance.snapshot(path)
    except OSError as exc:
        raise error(f"could not write {path} ({exc})", EXIT_INTERRUPTED) from exc
    print(f"Snapshot saved at {path}", file=ctx.stdout)
    return 0


def cmd_snapshot_file(ctx: Context, args: argparse.Namespace) -> int:
    """``snapshot status|restore``: etcdutl's business (a database file, not the server)."""
    verb = args.verb.path[1]
    raise error(f"snapshot {verb} reads a database file, not the server: use `etcdutl "
                f"snapshot {verb}` (etcdctl 3.5 also points there)")


def cmd_move_leader(ctx: Context, args: argparse.Namespace) -> int:
    """``move-leader <transferee-member-id>``: ask the leader (found among the endpoints) to
    hand leadership to a member."""
    check_format(ctx, MOVE_LEADER)
    if len(args.args) != 1:
        raise bad_args("move-leader command needs 1 argument")
    try:
        target = go_int(args.args[0], 16, unsigned=True)
    except ValueError as exc:
        raise bad_args(str(exc)) from exc
    urls = endpoint_urls(ctx, False)
    for _shown, url in urls:
        status = v3_client(ctx).maintenance.status(endpoint=url)
        if status.is_leader:
            v3_client(ctx, [url]).maintenance.move_leader(target)
            print(f"Leadership transferred from {status.leader:x} to {target:x}",
                  file=ctx.stdout)
            return 0
    shown = " ".join(s for s, _ in urls)
    raise bad_args(f"no leader endpoint given at [{shown}]")


def cmd_version(ctx: Context, args: argparse.Namespace) -> int:
    """``version``: etcdmap's version and the etcd API version it speaks."""
    from etcdmap._version import __version__  # noqa: PLC0415

    print("etcdmap version:", __version__, file=ctx.stdout)
    print("API version: 3.5", file=ctx.stdout)
    return 0


_ALARM_FORMATS = frozenset({"simple", "json", "fields"})

ALARM_LIST = Verb(("alarm", "list"), "alarm list", "Lists all alarms", cmd_alarm,
                  formats=_ALARM_FORMATS)
ALARM_DISARM = Verb(("alarm", "disarm"), "alarm disarm", "Disarms all alarms", cmd_alarm,
                    formats=_ALARM_FORMATS)
DEFRAG = Verb(("defrag",), "defrag [--cluster]", "Defragments the storage of the etcd members "
              "with given endpoints", cmd_defrag, _defrag_options, ALL_FORMATS)
SNAPSHOT_SAVE = Verb(("snapshot", "save"), "snapshot save <filename>",
                     "Stores an etcd node backend snapshot to a given file", cmd_snapshot_save,
                     formats=ALL_FORMATS, error_code=EXIT_INTERRUPTED)
MOVE_LEADER = Verb(("move-leader",), "move-leader <transferee-member-id>",
                   "Transfers leadership to another etcd cluster member.", cmd_move_leader,
                   formats=frozenset({"simple"}))

VERBS = (
    ALARM_DISARM, ALARM_LIST, DEFRAG, MOVE_LEADER, SNAPSHOT_SAVE,
    Verb(("snapshot", "restore"), "snapshot restore <filename>", "(etcdutl's) Restores an etcd "
         "member snapshot to an etcd directory", cmd_snapshot_file, formats=ALL_FORMATS),
    Verb(("snapshot", "status"), "snapshot status <filename>", "(etcdutl's) Gets backend "
         "snapshot status of a given file", cmd_snapshot_file, formats=ALL_FORMATS),
    Verb(("version",), "version", "Prints the version of etcdmap", cmd_version,
         formats=ALL_FORMATS),
)
"""The verbs of this module, for the v3 command table."""

GROUPS = {"alarm": "Alarm related commands", "snapshot": "Manages etcd node snapshots"}
