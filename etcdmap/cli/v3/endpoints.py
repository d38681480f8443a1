"""``endpoint health|status|hashkv`` of the v3 set, as ``etcdctl`` 3.5 has them
(etcd-io/etcd release-3.5:etcdctl/ctlv3/command/ep_command.go), and the endpoint list that
``--cluster`` replaces by the members' client URLs (also for ``defrag``).

``endpoint health`` asks every endpoint at once (a linearizable read of the key ``health``,
which goes through raft, then the alarm list) and prints the answers in the order of the
endpoints; etcdctl prints them as they arrive. ``endpoint hashkv`` needs etcd's HashKV call,
which the HTTP gateway routes only from etcd 3.5.10 on: on older members the error says so
instead of printing another hash.

One run serves one thread (the health checks run on worker threads of their own).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from etcdmap.cli.clients import v3_client
from etcdmap.cli.common import endpoint_list
from etcdmap.cli.v3.printing import (
    go_bool,
    go_duration,
    go_json,
    go_quote,
    header_fields,
    header_json,
    humanize_bytes,
    print_table,
)
from etcdmap.cli.v3.verbs import (
    EXIT_ERROR,
    Verb,
    check_format,
    error,
    etcdctl_message,
    go_int_flag,
)
from etcdmap.errors import EtcdMapError
from etcdmap.v3.errors import PermissionDenied

if TYPE_CHECKING:
    from etcdmap.cli.common import Context
    from etcdmap.v3.models import Status

__all__ = ["GROUPS", "VERBS", "cluster_option", "endpoint_urls"]


def endpoint_urls(ctx: Context, cluster: bool) -> list[tuple[str, str]]:
    """The endpoints a per-endpoint verb visits: ``(as shown, URL)``.

    :param cluster: ``--cluster``: every member's client URLs, from the member list.
    :returns: the ``--endpoints`` as given (etcdctl prints them so), or the client URLs.
    :raises CommandError: the member list could not be read (exit 1).
    """
    if not cluster:
        shown = [part.strip() for part in ctx.options.endpoints.split(",") if part.strip()]
        return list(zip(shown, endpoint_list(ctx.options.endpoints), strict=True))
    try:
        members = v3_client(ctx).members.list().members
    except EtcdMapError as exc:
        raise error("failed to fetch endpoints from etcd cluster member list: "
                    f"{etcdctl_message(exc)}") from exc
    return [(url, url) for member in members for url in member.client_urls]


def cluster_option(p: argparse.ArgumentParser) -> None:
    """``--cluster``: every member's client URLs instead of ``--endpoints``."""
    p.add_argument("--cluster", action="store_true",
                   help="use all endpoints from the cluster member list")


# --------------------------------------------------------------------------- health


@dataclass
class Health:
    """One endpoint's health, as etcdctl's ``epHealth``."""

    endpoint: str
    health: bool = False
    took: str = ""
    error: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"endpoint": self.endpoint, "health": self.health,
                                  "took": self.took}
        if self.error:
            out["error"] = self.error
        return out


def _check(ctx: Context, shown: str, url: str) -> Health:
    client = v3_client(ctx, [url])
    started = time.monotonic()
    result = Health(shown)
    try:
        client.kv.range("health")
        result.health = True
    except PermissionDenied:
        result.health = True  # the read went through raft: the member is healthy
    except EtcdMapError as exc:
        result.error = etcdctl_message(exc).split("\n", 1)[0]
    result.took = go_duration(time.monotonic() - started)
    if result.health:
        try:
            alarms = list(client.maintenance.alarms())
        except EtcdMapError:
            result.health, result.error = False, "Unable to fetch the alarm list"
        else:
            if alarms:
                names = "".join(f"{a.alarm if a.alarm in ('NOSPACE', 'CORRUPT') else 'UNKNOWN'} "
                                for a in alarms)
                result.health, result.error = False, f"Active Alarm(s): {names}"
    return result


def cmd_health(ctx: Context, args: argparse.Namespace) -> int:
    """``endpoint health [--cluster]``: exit 1 (``unhealthy cluster``) unless all healthy."""
    output = check_format(ctx, HEALTH)
    urls = endpoint_urls(ctx, args.cluster)
    with ThreadPoolExecutor(max_workers=max(1, min(len(urls), 8))) as pool:
        results = list(pool.map(lambda pair: _check(ctx, *pair), urls))
    if output == "json":
        print(go_json([r.to_json() for r in results]), file=ctx.stdout)
    elif output == "fields":
        for r in results:
            print(f'"Endpoint" : {go_quote(r.endpoint)}', file=ctx.stdout)
            print('"Health" :', go_bool(r.health), file=ctx.stdout)
            print('"Took" :', r.took, file=ctx.stdout)
            print('"Error" :', r.error, file=ctx.stdout)
            print(file=ctx.stdout)
    elif output == "table":
        print_table(["endpoint", "health", "took", "error"],
                    [[r.endpoint, go_bool(r.health), r.took, r.error] for r in results],
                    ctx.stdout)
    else:
        for r in results:
            if r.error:
                print(f"{r.endpoint} is unhealthy: failed to commit proposal: {r.error}",
                      file=ctx.stderr)
            else:
                print(f"{r.endpoint} is healthy: successfully committed proposal: took = "
                      f"{r.took}", file=ctx.stdout)
    if any(r.error for r in results):
        raise error("unhealthy cluster")
    return 0


# --------------------------------------------------------------------------- status


def _status_json(status: Status) -> dict[str, object]:
    """``pb.StatusResponse`` as Go marshals it (zero fields left out)."""
    out: dict[str, object] = {"header": header_json(status.header)}
    for name, value in (("version", status.version), ("dbSize", status.db_size),
                        ("leader", status.leader), ("raftIndex", status.raft_index),
                        ("raftTerm", status.raft_term),
                        ("raftAppliedIndex", status.raft_applied_index),
                        ("errors", list(status.errors)), ("dbSizeInUse", status.db_size_in_use),
                        ("isLearner", status.is_learner)):
        if value:
            out[name] = value
    return out


def _status_row(shown: str, s: Status) -> list[str]:
    return [shown, f"{s.header.member_id:x}", s.version, humanize_bytes(s.db_size),
            go_bool(s.is_leader), go_bool(s.is_learner), str(s.raft_term), str(s.raft_index),
            str(s.raft_applied_index), ", ".join(s.errors)]


_STATUS_HEADER = ["endpoint", "ID", "version", "db size", "is leader", "is learner",
                  "raft term", "raft index", "raft applied index", "errors"]


def _print_status_fields(ctx: Context, shown: str, s: Status) -> None:
    out = ctx.stdout
    header_fields(s.header, out)
    print(f'"Version" : {go_quote(s.version)}', file=out)
    print('"DBSize" :', s.db_size, file=out)
    print('"Leader" :', s.leader, file=out)
    print('"IsLearner" :', go_bool(s.is_learner), file=out)
    print('"RaftIndex" :', s.raft_index, file=out)
    print('"RaftTerm" :', s.raft_term, file=out)
    print('"RaftAppliedIndex" :', s.raft_applied_index, file=out)
    print('"Errors" :', f"[{' '.join(s.errors)}]", file=out)
    print(f'"Endpoint" : {go_quote(shown)}', file=out)
    print(file=out)


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    """``endpoint status [--cluster]``: each member's version, database size, raft state."""
    output = check_format(ctx, STATUS)
    client = v3_client(ctx)
    found: list[tuple[str, Status]] = []
    failed = False
    for shown, url in endpoint_urls(ctx, args.cluster):
        try:
            found.append((shown, client.maintenance.status(endpoint=url)))
        except EtcdMapError as exc:
            failed = True
            print(f"Failed to get the status of endpoint {shown} "
                  f"({etcdctl_message(exc).split(chr(10), 1)[0]})", file=ctx.stderr)
    if output == "json":
        print(go_json([{"Endpoint": shown, "Status": _status_json(s)} for shown, s in found]),
              file=ctx.stdout)
    elif output == "fields":
        for shown, s in found:
            _print_status_fields(ctx, shown, s)
    elif output == "table":
        print_table(_STATUS_HEADER, [_status_row(shown, s) for shown, s in found], ctx.stdout)
    else:
        for shown, s in found:
            print(", ".join(_status_row(shown, s)), file=ctx.stdout)
    return EXIT_ERROR if failed else 0


def cmd_hashkv(ctx: Context, args: argparse.Namespace) -> int:
    """``endpoint hashkv [--cluster] [--rev N]``: each member's hash of its key-value history.

    etcd's HTTP gateway routes HashKV from etcd 3.5.10 on; on older members the client's
    error says that the gateway cannot reach it (and etcdctl, over gRPC, can).
    """
    output = check_format(ctx, HASHKV)
    client = v3_client(ctx)
    found = []
    failure: EtcdMapError | None = None
    for shown, url in endpoint_urls(ctx, args.cluster):
        try:
            found.append((shown, client.maintenance.hash_kv(args.rev, endpoint=url)))
        except EtcdMapError as exc:
            failure = exc
            print(f"Failed to get the hash of endpoint {shown} "
                  f"({etcdctl_message(exc).split(chr(10), 1)[0]})", file=ctx.stderr)
    out = ctx.stdout
    if output == "json":
        print(go_json([{"Endpoint": shown, "HashKV": {
            "header": header_json(h.header), **({"hash": h.hash} if h.hash else {}),
            **({"compact_revision": h.compact_revision} if h.compact_revision else {})}}
            for shown, h in found]), file=out)
    elif output == "fields":
        for shown, h in found:
            header_fields(h.header, out)
            print(f'"Endpoint" : {go_quote(shown)}', file=out)
            print('"Hash" :', h.hash, file=out)
            print(file=out)
    elif output == "table":
        print_table(["endpoint", "hash"], [[shown, str(h.hash)] for shown, h in found], out)
    else:
        for shown, h in found:
            print(f"{shown}, {h.hash}", file=out)
    if failure is not None:
        raise error(etcdctl_message(failure))
    return 0


def _hashkv_options(p: argparse.ArgumentParser) -> None:
    cluster_option(p)
    p.add_argument("--rev", type=go_int_flag("--rev"), default=0,
                   help="maximum revision to hash (default: all revisions)")


_TABLE_FORMATS = frozenset({"simple", "json", "fields", "table"})

HEALTH = Verb(("endpoint", "health"), "endpoint health [--cluster]",
              "Checks the healthiness of endpoints specified in `--endpoints` flag", cmd_health,
              cluster_option, _TABLE_FORMATS)
STATUS = Verb(("endpoint", "status"), "endpoint status [--cluster]",
              "Prints out the status of endpoints specified in `--endpoints` flag", cmd_status,
              cluster_option, _TABLE_FORMATS)

HASHKV = Verb(("endpoint", "hashkv"), "endpoint hashkv [--cluster] [--rev N]",
              "Prints the KV history hash for each endpoint in --endpoints (etcd 3.5.10+)",
              cmd_hashkv, _hashkv_options, _TABLE_FORMATS)

VERBS = (HASHKV, HEALTH, STATUS)
"""The verbs of this module, for the v3 command table."""

GROUPS = {"endpoint": "Endpoint related commands"}
