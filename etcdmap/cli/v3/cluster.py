"""``member list|add|remove|update|promote`` of the v3 set, as ``etcdctl`` 3.5 has them
(etcd-io/etcd release-3.5:etcdctl/ctlv3/command/member_command.go), on ``client.members``.

Member IDs are hexadecimal on the command line and in the simple output, decimal in json and
fields, as etcdctl prints them. ``member add`` to a cluster whose running members would lose
their quorum (one member gaining a second voter) says so on stderr; stdout stays etcdctl's.

One run serves one thread.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from etcdmap.cli.clients import v3_client
from etcdmap.cli.common import quorum_warning
from etcdmap.cli.v3.printing import (
    go_bool,
    go_json,
    go_quote,
    header_fields,
    header_json,
    print_table,
)
from etcdmap.cli.v3.verbs import Verb, bad_args, check_format, go_int
from etcdmap.v3.models import MemberAddResponse

if TYPE_CHECKING:
    from etcdmap.cli.common import Context
    from etcdmap.v3.models import Member, MembersResponse

__all__ = ["GROUPS", "VERBS"]


def _member_json(member: Member) -> dict[str, object]:
    out: dict[str, object] = {"ID": member.id}
    if member.name:
        out["name"] = member.name
    if member.peer_urls:
        out["peerURLs"] = list(member.peer_urls)
    if member.client_urls:
        out["clientURLs"] = list(member.client_urls)
    if member.is_learner:
        out["isLearner"] = True
    return out


def _members_json(resp: MembersResponse | MemberAddResponse) -> dict[str, object]:
    out: dict[str, object] = {"header": header_json(resp.header)}
    if isinstance(resp, MemberAddResponse):
        out["member"] = _member_json(resp.member)
    if resp.members:
        out["members"] = [_member_json(m) for m in resp.members]
    return out


def _rows(resp: MembersResponse) -> list[list[str]]:
    return [[f"{m.id:x}", "started" if m.name else "unstarted", m.name, ",".join(m.peer_urls),
             ",".join(m.client_urls), go_bool(m.is_learner)] for m in resp.members]


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    """``member list``: one line per member (ID, status, name, peer and client URLs,
    learner)."""
    output = check_format(ctx, LIST)
    resp = v3_client(ctx).members.list()
    out = ctx.stdout
    if output == "json":
        print(go_json(_members_json(resp)), file=out)
    elif output == "fields":
        header_fields(resp.header, out)
        for m in resp.members:
            print('"ID" :', m.id, file=out)
            print(f'"Name" : {go_quote(m.name)}', file=out)
            for url in m.peer_urls:
                print(f'"PeerURL" : {go_quote(url)}', file=out)
            for url in m.client_urls:
                print(f'"ClientURL" : {go_quote(url)}', file=out)
            print('"IsLearner" :', go_bool(m.is_learner), file=out)
            print(file=out)
    elif output == "table":
        print_table(["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"],
                    _rows(resp), out)
    else:
        for row in _rows(resp):
            print(", ".join(row), file=out)
    return 0


def _peer_urls_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--peer-urls", default="", help="comma separated peer URLs for the member.")


def _add_options(p: argparse.ArgumentParser) -> None:
    _peer_urls_option(p)
    p.add_argument("--learner", action="store_true",
                   help="indicates if the new member is raft learner")


def cmd_add(ctx: Context, args: argparse.Namespace) -> int:
    """``member add <memberName> --peer-urls=URLS [--learner]``: prints the ``ETCD_*``
    settings to start the new member with."""
    output = check_format(ctx, ADD)
    if not args.args:
        raise bad_args("member name not provided")
    if len(args.args) > 1:
        hint = "".join(f", did you mean --peer-urls={a}" for a in args.args
                       if a.lower().startswith("http"))
        raise bad_args(f"too many arguments{hint}")
    if not args.peer_urls:
        raise bad_args("member peer urls not provided")
    name = args.args[0]
    resp = v3_client(ctx).members.add(args.peer_urls.split(","), learner=args.learner)
    new_id = resp.member.id
    if output == "json":
        print(go_json(_members_json(resp)), file=ctx.stdout)
    else:
        print(f"Member {new_id:16x} added to cluster {resp.header.cluster_id:16x}",
              file=ctx.stdout)
        conf = [f"{name if m.id == new_id else m.name}={url}"
                for m in resp.members for url in m.peer_urls]
        print(file=ctx.stdout)
        print(f"ETCD_NAME={go_quote(name)}", file=ctx.stdout)
        print(f"ETCD_INITIAL_CLUSTER={go_quote(','.join(conf))}", file=ctx.stdout)
        print(f"ETCD_INITIAL_ADVERTISE_PEER_URLS={go_quote(args.peer_urls)}", file=ctx.stdout)
        print('ETCD_INITIAL_CLUSTER_STATE="existing"', file=ctx.stdout)
    voters = [m for m in resp.members if not m.is_learner]
    started = sum(1 for m in voters if m.name and m.id != new_id)
    warning = quorum_warning(started, len(voters))
    if warning:
        print(warning, file=ctx.stderr)
    return 0


def _member_id(args: argparse.Namespace) -> int:
    if len(args.args) != 1:
        raise bad_args("member ID is not provided")
    try:
        return go_int(args.args[0], 16, unsigned=True)
    except ValueError as exc:
        raise bad_args(f"bad member ID arg ({exc}), expecting ID in Hex") from exc


def _changed(ctx: Context, output: str, member_id: int, resp: MembersResponse, done: str) -> None:
    if output == "json":
        print(go_json(_members_json(resp)), file=ctx.stdout)
    else:
        print(f"Member {member_id:16x} {done} cluster {resp.header.cluster_id:16x}",
              file=ctx.stdout)


def cmd_remove(ctx: Context, args: argparse.Namespace) -> int:
    """``member remove <memberID>`` (hexadecimal)."""
    output = check_format(ctx, REMOVE)
    member_id = _member_id(args)
    _changed(ctx, output, member_id, v3_client(ctx).members.remove(member_id), "removed from")
    return 0


def cmd_update(ctx: Context, args: argparse.Namespace) -> int:
    """``member update <memberID> --peer-urls=URLS``."""
    output = check_format(ctx, UPDATE)
    member_id = _member_id(args)
    if not args.peer_urls:
        raise bad_args("member peer urls not provided")
    resp = v3_client(ctx).members.update(member_id, args.peer_urls.split(","))
    _changed(ctx, output, member_id, resp, "updated in")
    return 0


def cmd_promote(ctx: Context, args: argparse.Namespace) -> int:
    """``member promote <memberID>``: a learner becomes a voting member."""
    output = check_format(ctx, PROMOTE)
    member_id = _member_id(args)
    _changed(ctx, output, member_id, v3_client(ctx).members.promote(member_id), "promoted in")
    return 0


LIST = Verb(("member", "list"), "member list", "Lists all members in the cluster", cmd_list,
            formats=frozenset({"simple", "json", "fields", "table"}))
ADD = Verb(("member", "add"), "member add <memberName> [options]",
           "Adds a member into the cluster", cmd_add, _add_options)
REMOVE = Verb(("member", "remove"), "member remove <memberID>",
              "Removes a member from the cluster", cmd_remove)
UPDATE = Verb(("member", "update"), "member update <memberID> [options]",
              "Updates a member in the cluster", cmd_update, _peer_urls_option)
PROMOTE = Verb(("member", "promote"), "member promote <memberID>",
               "Promotes a non-voting member in the cluster", cmd_promote)

VERBS = (ADD, LIST, PROMOTE, REMOVE, UPDATE)
"""The verbs of this module, for the v3 command table."""

GROUPS = {"member": "Membership related commands"}
