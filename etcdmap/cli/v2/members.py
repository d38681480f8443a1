"""The membership commands of ``etcdmap``: ``member list|add|remove|update`` and
``cluster-health``, with ``etcdctl`` v2's arguments and messages
(``etcdctl/ctlv2/command/member_commands.go``, ``cluster_health.go``).

One run serves one thread.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING

from etcdmap.cli.common import (
    EXIT_BAD_ARGS,
    EXIT_CLUSTER_NOT_HEALTHY,
    EXIT_SUCCESS,
    CommandError,
    Context,
    quorum_warning,
)
from etcdmap.errors import EtcdMapError
from etcdmap.v2 import stats
from etcdmap.v2.models import Member

if TYPE_CHECKING:
    from etcdmap.cli.common import Subcommands

__all__ = ["format_member", "register"]

HEALTH_INTERVAL = 10.0
"""Seconds between two checks of ``cluster-health --forever`` (etcdctl's value)."""


def _go_quote(text: str) -> str:
    """Go's ``%q`` for the strings we print (names and URLs): a JSON string literal."""
    return json.dumps(text, ensure_ascii=False)


def format_member(member: Member, leader_id: str | None) -> str:
    """One line of ``member list``, as etcdctl prints it.

    :param member: the member.
    :param leader_id: the leader's id (``None``: unknown).
    :returns: ``<id>: name=<n> peerURLs=<u,..> clientURLs=<u,..> isLeader=<true|false>``, or
        ``<id>[unstarted]: peerURLs=<u,..>`` for a member that has not started yet.
    """
    peers = ",".join(member.peer_urls)
    if not member.name:
        return f"{member.id}[unstarted]: peerURLs={peers}"
    is_leader = "true" if member.id == leader_id else "false"
    return (
        f"{member.id}: name={member.name} peerURLs={peers} "
        f"clientURLs={','.join(member.client_urls)} isLeader={is_leader}"
    )


# --------------------------------------------------------------------------- member


def cmd_member_list(ctx: Context, args: argparse.Namespace) -> int:
    """``member list``: one line per member, marking the leader."""
    members = ctx.client().members
    listed = members.list()
    leader = members.leader()
    for member in listed:
        print(format_member(member, leader.id if leader else None), file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_member_add(ctx: Context, args: argparse.Namespace) -> int:
    """``member add NAME PEERURLS``: add a member (comma-separated peer URLs, as etcdctl
    takes them); print the settings to start it with. When the running members no longer
    make a quorum with the new one (a one-member cluster), say so on stderr."""
    members = ctx.client().members
    added = members.add([u for u in args.peer_urls.split(",") if u])
    print(f"Added member named {args.name} with ID {added.id} to cluster", file=ctx.stdout)
    conf: list[str] = []
    listed = members.list()
    for member in listed:
        name = args.name if member.id == added.id else member.name
        conf.extend(f"{name}={url}" for url in member.peer_urls)
    print(file=ctx.stdout)
    print(f"ETCD_NAME={_go_quote(args.name)}", file=ctx.stdout)
    print(f"ETCD_INITIAL_CLUSTER={_go_quote(','.join(conf))}", file=ctx.stdout)
    print('ETCD_INITIAL_CLUSTER_STATE="existing"', file=ctx.stdout)
    started = sum(1 for m in listed if m.name and m.id != added.id)
    warning = quorum_warning(started, max(len(listed), started + 1))
    if warning:
        print(warning, file=ctx.stderr)
    return EXIT_SUCCESS


def cmd_member_remove(ctx: Context, args: argparse.Namespace) -> int:
    """``member remove ID``: remove a member, after checking the id against the member list."""
    members = ctx.client().members
    found = False
    for member in members.list():
        found = found or member.id == args.member_id
        if member.name == args.member_id:
            print(
                f"Found a member named {member.name}; if this is correct, please use its ID, "
                f"eg:\n\tetcdmap member remove {member.id}",
                file=ctx.stderr,
            )
    if not found:
        raise CommandError(
            f"Couldn't find a member in the cluster with an ID of {args.member_id}.",
            EXIT_BAD_ARGS,
        )
    members.remove(args.member_id)
    print(f"Removed member {args.member_id} from cluster", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_member_update(ctx: Context, args: argparse.Namespace) -> int:
    """``member update ID PEERURLS``: replace a member's peer URLs (comma-separated)."""
    urls = [u for u in args.peer_urls.split(",") if u]
    ctx.client().members.update(args.member_id, urls)
    print(f"Updated member with ID {args.member_id} in cluster", file=ctx.stdout)
    return EXIT_SUCCESS


# --------------------------------------------------------------------------- health


def _check_once(ctx: Context) -> bool:
    client = ctx.client(sync=False)
    try:
        members = client.members.list()
    except EtcdMapError:
        print("cluster may be unhealthy: failed to list members", file=ctx.stdout)
        raise
    healthy = 0
    for member in members:
        if not member.client_urls:
            print(
                f"member {member.id} is unreachable: no available published client urls",
                file=ctx.stdout,
            )
            continue
        checked = False
        for url in member.client_urls:
            health = stats.health(
                client.transport, endpoint=url, timeout=ctx.options.total_timeout or None
            )
            if not health.endpoint:  # nobody answered
                print(
                    f"failed to check the health of member {member.id} on {url}: "
                    f"{health.reason}",
                    file=ctx.stdout,
                )
                continue
            checked = True
            if health.healthy:
                print(f"member {member.id} is healthy: got healthy result from {url}",
                      file=ctx.stdout)
                healthy += 1
            else:
                print(f"member {member.id} is unhealthy: got unhealthy result from {url} "
                      f"({health.reason})", file=ctx.stdout)
            break
        if not checked:
            urls = " ".join(member.client_urls)
            print(f"member {member.id} is unreachable: [{urls}] are all unreachable",
                  file=ctx.stdout)
    if healthy == len(members):
        print("cluster is healthy", file=ctx.stdout)
    elif healthy == 0:
        print("cluster is unavailable", file=ctx.stdout)
    else:
        print("cluster is degraded", file=ctx.stdout)
    return healthy == len(members)


def cmd_cluster_health(ctx: Context, args: argparse.Namespace) -> int:
    """``cluster-health [--forever]``: ask every member's ``/health``; exit 5 unless all healthy."""
    try:
        while True:
            ok = _check_once(ctx)
            if not args.forever:
                return EXIT_SUCCESS if ok else EXIT_CLUSTER_NOT_HEALTHY
            print(f"\nnext check after {HEALTH_INTERVAL:g} second...\n", file=ctx.stdout)
            ctx.stdout.flush()
            time.sleep(HEALTH_INTERVAL)
    except KeyboardInterrupt:
        return EXIT_SUCCESS


def register(commands: Subcommands) -> None:
    """Add ``member`` and ``cluster-health`` to the ``etcdmap`` parser.

    :param commands: the object returned by ``ArgumentParser.add_subparsers``.
    """
    member = commands.add_parser("member", help="list, add, remove and update members")
    sub = member.add_subparsers(dest="member_command", metavar="<subcommand>", required=True)
    p = sub.add_parser("list", help="list the members")
    p.set_defaults(func=cmd_member_list)
    p = sub.add_parser("add", help="add a member")
    p.add_argument("name")
    p.add_argument("peer_urls", metavar="PEERURLS", help="comma-separated")
    p.set_defaults(func=cmd_member_add)
    p = sub.add_parser("remove", help="remove a member")
    p.add_argument("member_id", metavar="ID")
    p.set_defaults(func=cmd_member_remove)
    p = sub.add_parser("update", help="set a member's peer URLs")
    p.add_argument("member_id", metavar="ID")
    p.add_argument("peer_urls", metavar="PEERURLS", help="comma-separated")
    p.set_defaults(func=cmd_member_update)

    p = commands.add_parser("cluster-health", help="check the health of every member")
    p.add_argument("-f", "--forever", action="store_true", help="check every 10 s until ^C")
    p.set_defaults(func=cmd_cluster_health)
