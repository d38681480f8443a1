"""``lease grant|revoke|timetolive|list|keep-alive`` of the v3 set, as ``etcdctl`` 3.5 has them
(etcd-io/etcd release-3.5:etcdctl/ctlv3/command/lease_command.go), on ``client.lease``.

Lease IDs are hexadecimal on the command line and in the simple output, decimal in json and
fields. ``keep-alive`` refreshes the lease every third of its TTL, as etcd's Go client does,
and prints each refresh until the lease is gone (or Ctrl-C). One run serves one thread.
"""

from __future__ import annotations

import argparse
import base64
import time
from typing import TYPE_CHECKING

from etcdmap.cli.clients import v3_client
from etcdmap.cli.v3.printing import go_json, go_quote, header_fields, header_json
from etcdmap.cli.v3.verbs import EXIT_BAD_CONNECTION, Verb, bad_args, check_format, error, go_int
from etcdmap.errors import EtcdMapError
from etcdmap.v3.errors import V3Error

if TYPE_CHECKING:
    from etcdmap.cli.common import Context
    from etcdmap.v3.models import KeepAliveResponse, ResponseHeader

__all__ = ["GROUPS", "VERBS"]

_MAX_TTL = 9_000_000_000
_FORMATS = frozenset({"simple", "json", "fields"})


def _lease_id(text: str) -> int:
    """``leaseFromArgs``: a hexadecimal lease ID."""
    try:
        return go_int(text, 16)
    except ValueError as exc:
        raise bad_args(f"bad lease ID arg ({exc}), expecting ID in Hex") from exc


def _flat(header: ResponseHeader, **fields: object) -> dict[str, object]:
    """A clientv3 answer that embeds the header: its fields first, then ``fields``."""
    return {**header_json(header), **fields}


def cmd_grant(ctx: Context, args: argparse.Namespace) -> int:
    """``lease grant <ttl>``."""
    output = check_format(ctx, GRANT)
    if len(args.args) != 1:
        raise bad_args("lease grant command needs TTL argument")
    try:
        ttl = go_int(args.args[0])
    except ValueError as exc:
        raise bad_args(f"bad TTL ({exc})") from exc
    if ttl > _MAX_TTL:  # the client refuses what etcd would refuse
        raise error("failed to grant lease (etcdserver: too large lease TTL)")
    try:
        # etcd raises a TTL below its minimum (about 2 s) to it, 0 and negative ones too
        lease = v3_client(ctx).lease.grant(max(ttl, 1))
    except V3Error as exc:
        raise error(f"failed to grant lease ({exc.message})") from exc
    if output == "json":
        print(go_json(_flat(lease.header, ID=lease.id, TTL=lease.ttl, Error="")),
              file=ctx.stdout)
    elif output == "fields":
        header_fields(lease.header, ctx.stdout)
        print('"ID" :', lease.id, file=ctx.stdout)
        print('"TTL" :', lease.ttl, file=ctx.stdout)
    else:
        print(f"lease {lease.id:016x} granted with TTL({lease.ttl}s)", file=ctx.stdout)
    return 0


def cmd_revoke(ctx: Context, args: argparse.Namespace) -> int:
    """``lease revoke <leaseID>``: the lease and its keys go."""
    output = check_format(ctx, REVOKE)
    if len(args.args) != 1:
        raise bad_args("lease revoke command needs 1 argument")
    lease_id = _lease_id(args.args[0])
    try:
        header = v3_client(ctx).lease.revoke(lease_id)
    except V3Error as exc:
        raise error(f"failed to revoke lease ({exc.message})") from exc
    if output == "json":
        print(go_json({"header": header_json(header)}), file=ctx.stdout)
    elif output == "fields":
        header_fields(header, ctx.stdout)
    else:
        print(f"lease {lease_id:016x} revoked", file=ctx.stdout)
    return 0


def _timetolive_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keys", action="store_true", help="Get keys attached to this lease")


def cmd_timetolive(ctx: Context, args: argparse.Namespace) -> int:
    """``lease timetolive <leaseID> [--keys]``."""
    output = check_format(ctx, TIMETOLIVE)
    if len(args.args) != 1:
        raise bad_args("lease timetolive command needs lease ID as argument")
    lease_id = _lease_id(args.args[0])
    info = v3_client(ctx).lease.time_to_live(lease_id, keys=args.keys)
    out = ctx.stdout
    if output == "json":
        keys = [base64.b64encode(k).decode("ascii") for k in info.keys] or None
        print(go_json(_flat(info.header, id=info.id, ttl=info.ttl,
                            **{"granted-ttl": info.granted_ttl}, keys=keys)), file=out)
    elif output == "fields":
        header_fields(info.header, out)
        print('"ID" :', info.id, file=out)
        print('"TTL" :', info.ttl, file=out)
        print('"GrantedTTL" :', info.granted_ttl, file=out)
        for key in info.keys:
            print(f'"Key" : {go_quote(key)}', file=out)
    elif info.granted_ttl == 0 and info.ttl == -1:
        print(f"lease {info.id:016x} already expired", file=out)
    else:
        text = (f"lease {info.id:016x} granted with TTL({info.granted_ttl}s), "
                f"remaining({info.ttl}s)")
        if args.keys:
            names = " ".join(k.decode("utf-8", "replace") for k in info.keys)
            text += f", attached keys([{names}])"
        print(text, file=out)
    return 0


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    """``lease list``: every live lease."""
    output = check_format(ctx, LIST)
    leases = v3_client(ctx).lease.leases()
    out = ctx.stdout
    if output == "json":
        items = [{"id": lease} for lease in leases]
        print(go_json(_flat(leases.header, leases=items)), file=out)
    elif output == "fields":
        header_fields(leases.header, out)
        for lease in leases:
            print('"ID" :', lease, file=out)
    else:
        print(f"found {len(leases)} leases", file=out)
        for lease in leases:
            print(f"{lease:016x}", file=out)
    return 0


def _keepalive_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--once", action="store_true", help="Resets the keep-alive time to its "
                   "original value and exits immediately")


def _print_keepalive(ctx: Context, resp: KeepAliveResponse) -> None:
    if ctx.output == "json":
        print(go_json(_flat(resp.header, ID=resp.id, TTL=resp.ttl)), file=ctx.stdout)
    elif ctx.output == "fields":
        header_fields(resp.header, ctx.stdout)
        print('"ID" :', resp.id, file=ctx.stdout)
        print('"TTL" :', resp.ttl, file=ctx.stdout)
    else:
        print(f"lease {resp.id:016x} keepalived with TTL({resp.ttl})", file=ctx.stdout)
    ctx.stdout.flush()


def cmd_keep_alive(ctx: Context, args: argparse.Namespace) -> int:
    """``lease keep-alive [--once] <leaseID>``: refresh until the lease is gone (or Ctrl-C)."""
    check_format(ctx, KEEP_ALIVE)
    if len(args.args) != 1:
        raise bad_args("lease keep-alive command needs lease ID as argument")
    lease_id = _lease_id(args.args[0])
    leases = v3_client(ctx).lease
    if args.once:
        resp = leases.keepalive_once(lease_id)
        if resp.ttl <= 0:  # etcd's Go client reports a lease that is gone as not found
            raise error("etcdserver: requested lease not found", EXIT_BAD_CONNECTION)
        _print_keepalive(ctx, resp)
        return 0
    try:
        while True:
            try:
                resp = leases.keepalive_once(lease_id)
            except EtcdMapError:
                time.sleep(0.5)  # etcd's Go client retries too: the lease may still be alive
                continue
            if resp.ttl <= 0:
                break
            _print_keepalive(ctx, resp)
            time.sleep(max(resp.ttl / 3, 0.5))
    except KeyboardInterrupt:
        return 0
    if ctx.output == "simple":
        print(f"lease {lease_id:016x} expired or revoked.", file=ctx.stdout)
    return 0


GRANT = Verb(("lease", "grant"), "lease grant <ttl>", "Creates leases", cmd_grant,
             formats=_FORMATS)
REVOKE = Verb(("lease", "revoke"), "lease revoke <leaseID>", "Revokes leases", cmd_revoke,
              formats=_FORMATS)
TIMETOLIVE = Verb(("lease", "timetolive"), "lease timetolive <leaseID> [options]",
                  "Get lease information", cmd_timetolive, _timetolive_options, _FORMATS,
                  error_code=EXIT_BAD_CONNECTION)
LIST = Verb(("lease", "list"), "lease list", "List all active leases", cmd_list,
            formats=_FORMATS, error_code=EXIT_BAD_CONNECTION)
KEEP_ALIVE = Verb(("lease", "keep-alive"), "lease keep-alive [options] <leaseID>",
                  "Keeps leases alive (renew)", cmd_keep_alive, _keepalive_options, _FORMATS,
                  error_code=EXIT_BAD_CONNECTION)

VERBS = (GRANT, KEEP_ALIVE, LIST, REVOKE, TIMETOLIVE)
"""The verbs of this module, for the v3 command table."""

GROUPS = {"lease": "Lease related commands"}
