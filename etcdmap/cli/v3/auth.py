"""``auth enable|disable|status`` of the v3 set, as ``etcdctl`` 3.5 has them (etcd-io/etcd
release-3.5:etcdctl/ctlv3/command/auth_command.go), and what the user and role verbs
(:mod:`~etcdmap.cli.v3.users`, :mod:`~etcdmap.cli.v3.roles`) print alike: a write's line or
its answer's header, a list of names. One run serves one thread.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from etcdmap.cli.clients import v3_client
from etcdmap.cli.v3.printing import go_json, go_quote, header_fields, header_json
from etcdmap.cli.v3.verbs import ALL_FORMATS, Verb, bad_args, check_format
from etcdmap.v3.errors import RootRoleMissing

if TYPE_CHECKING:
    from etcdmap.cli.common import Context
    from etcdmap.v3.models import ResponseHeader

__all__ = ["GROUPS", "HEADER_ONLY", "NO_FIELDS", "VERBS", "done", "one_name", "print_names"]

HEADER_ONLY = frozenset({"simple", "json", "fields"})
NO_FIELDS = frozenset({"simple", "json"})


def done(ctx: Context, header: ResponseHeader, text: str) -> int:
    """A write's output: ``text`` (simple), the header (json, fields)."""
    if ctx.output == "json":
        print(go_json({"header": header_json(header)}), file=ctx.stdout)
    elif ctx.output == "fields":
        header_fields(header, ctx.stdout)
    else:
        print(text, file=ctx.stdout)
    return 0


def one_name(args: argparse.Namespace, message: str) -> str:
    """The one name argument of a verb (``message``, exit 128, unless there is exactly one)."""
    if len(args.args) != 1:
        raise bad_args(message)
    return str(args.args[0])


def print_names(ctx: Context, verb: Verb, args: argparse.Namespace, what: str,
                field: str) -> int:
    """``user list`` / ``role list``: one name per line; the response in json (and, for
    roles, fields)."""
    output = check_format(ctx, verb)
    if args.args:
        raise bad_args(f"{what} command requires no arguments")
    auth = v3_client(ctx).auth
    names = auth.user_list() if field == "users" else auth.role_list()
    if output == "json":
        doc: dict[str, object] = {"header": header_json(names.header)}
        if names:
            doc[field] = list(names)
        print(go_json(doc), file=ctx.stdout)
    elif output == "fields":
        header_fields(names.header, ctx.stdout)
        print('"Roles" :' + "".join(f" {go_quote(n)}" for n in names), file=ctx.stdout)
    else:
        for name in names:
            print(name, file=ctx.stdout)
    return 0


def _no_arguments(args: argparse.Namespace, what: str) -> None:
    if args.args:
        raise bad_args(f"auth {what} command does not accept any arguments")


def cmd_auth_enable(ctx: Context, args: argparse.Namespace) -> int:
    """``auth enable``: gives ``root`` the ``root`` role first when it lacks it, as etcdctl."""
    _no_arguments(args, "enable")
    auth = v3_client(ctx).auth
    while True:
        try:
            auth.enable()
            break
        except RootRoleMissing:
            auth.role_add("root")
            auth.user_grant_role("root", "root")
    print("Authentication Enabled", file=ctx.stdout)
    return 0


def cmd_auth_disable(ctx: Context, args: argparse.Namespace) -> int:
    """``auth disable``."""
    _no_arguments(args, "disable")
    v3_client(ctx).auth.disable()
    print("Authentication Disabled", file=ctx.stdout)
    return 0


def cmd_auth_status(ctx: Context, args: argparse.Namespace) -> int:
    """``auth status``: whether auth is on, and the auth revision."""
    output = check_format(ctx, AUTH_STATUS)
    _no_arguments(args, "status")
    status = v3_client(ctx).auth.status()
    if output == "json":
        doc: dict[str, object] = {"header": header_json(status.header)}
        if status.enabled:
            doc["enabled"] = True
        if status.auth_revision:
            doc["authRevision"] = status.auth_revision
        print(go_json(doc), file=ctx.stdout)
    else:
        print("Authentication Status:", "true" if status.enabled else "false", file=ctx.stdout)
        print("AuthRevision:", status.auth_revision, file=ctx.stdout)
    return 0


AUTH_STATUS = Verb(("auth", "status"), "auth status", "Returns authentication status",
                   cmd_auth_status)


VERBS = (
    AUTH_STATUS,
    Verb(("auth", "disable"), "auth disable", "Disables authentication", cmd_auth_disable,
         formats=ALL_FORMATS),
    Verb(("auth", "enable"), "auth enable", "Enables authentication", cmd_auth_enable,
         formats=ALL_FORMATS),
)
"""The verbs of this module, for the v3 command table."""

GROUPS = {"auth": "Enable or disable authentication"}
