"""``role add|delete|get|list|grant-permission|revoke-permission`` of the v3 set, as
``etcdctl`` 3.5 has them (etcd-io/etcd release-3.5:etcdctl/ctlv3/command/role_command.go), on
``client.auth``. A permission is on a key, a range ``[key, end)``, a prefix (``--prefix``) or
every key from one on (``--from-key``). One run serves one thread.
"""

from __future__ import annotations

import argparse
import base64
from typing import TYPE_CHECKING, TextIO

from etcdmap.cli.clients import v3_client
from etcdmap.cli.v3.auth import HEADER_ONLY, done, one_name, print_names
from etcdmap.cli.v3.printing import go_json, go_quote, header_fields, header_json
from etcdmap.cli.v3.verbs import Verb, bad_args, check_format
from etcdmap.v3.wire import prefix_end

if TYPE_CHECKING:
    from etcdmap.cli.common import Context
    from etcdmap.v3.models import Listing, Permission

__all__ = ["GROUPS", "VERBS", "print_role"]

_PERM_NUMBERS = {"READ": 0, "WRITE": 1, "READWRITE": 2}

def cmd_role_add(ctx: Context, args: argparse.Namespace) -> int:
    """``role add <role name>``."""
    check_format(ctx, ROLE_ADD)
    name = one_name(args, "role add command requires role name as its argument")
    return done(ctx, v3_client(ctx).auth.role_add(name), f"Role {name} created")


def cmd_role_delete(ctx: Context, args: argparse.Namespace) -> int:
    """``role delete <role name>``."""
    check_format(ctx, ROLE_DELETE)
    name = one_name(args, "role delete command requires role name as its argument")
    return done(ctx, v3_client(ctx).auth.role_delete(name), f"Role {name} deleted")


def _print_range(perm: Permission, out: TextIO) -> None:
    key, end = perm.key.decode("utf-8", "replace"), perm.range_end.decode("utf-8", "replace")
    if not perm.range_end:
        print(f"\t{key}", file=out)
        return
    line = f"\t[{key}, {end})" if perm.range_end != b"\0" else f"\t[{key}, <open ended>"
    if perm.key and prefix_end(perm.key) == perm.range_end:
        line += f" (prefix {key})"
    print(line, file=out)


def print_role(ctx: Context, role: str, perms: Listing[Permission], output: str) -> None:
    """``display.RoleGet``."""
    out = ctx.stdout
    if output == "json":
        doc: dict[str, object] = {"header": header_json(perms.header)}
        if perms:
            doc["perm"] = [_perm_json(p) for p in perms]
        print(go_json(doc), file=out)
        return
    if output == "fields":
        header_fields(perms.header, out)
        for p in perms:
            print('"PermType" : ', p.perm_type, file=out)
            print(f'"Key" : {go_quote(p.key)}', file=out)
            print(f'"RangeEnd" : {go_quote(p.range_end)}', file=out)
        return
    print(f"Role {role}", file=out)
    print("KV Read:", file=out)
    for p in perms:
        if p.perm_type in ("READ", "READWRITE"):
            _print_range(p, out)
    print("KV Write:", file=out)
    for p in perms:
        if p.perm_type in ("WRITE", "READWRITE"):
            _print_range(p, out)


def _perm_json(perm: Permission) -> dict[str, object]:
    out: dict[str, object] = {}
    if _PERM_NUMBERS[perm.perm_type]:
        out["permType"] = _PERM_NUMBERS[perm.perm_type]
    if perm.key:
        out["key"] = base64.b64encode(perm.key).decode("ascii")
    if perm.range_end:
        out["range_end"] = base64.b64encode(perm.range_end).decode("ascii")
    return out


def cmd_role_get(ctx: Context, args: argparse.Namespace) -> int:
    """``role get <role name>``: its read and write keys and ranges."""
    output = check_format(ctx, ROLE_GET)
    name = one_name(args, "role get command requires role name as its argument")
    print_role(ctx, name, v3_client(ctx).auth.role_get(name), output)
    return 0


def cmd_role_list(ctx: Context, args: argparse.Namespace) -> int:
    """``role list``."""
    return print_names(ctx, ROLE_LIST, args, "role list", "roles")


def _perm_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prefix", action="store_true", help="a prefix permission")
    p.add_argument("--from-key", action="store_true", help="a permission of keys that are "
                   "greater than or equal to the given key using byte compare")


def _perm_range(args: argparse.Namespace, words: list[str]) -> tuple[str, str | None]:
    """etcdctl's ``permRange``: the key and range end of a permission (``None``: one key)."""
    key = words[0]
    if args.prefix and args.from_key:
        raise bad_args("--from-key and --prefix flags are mutually exclusive")
    if not key:
        # the empty key is every key: ["\0", "\0") when asked as a prefix or from-key
        return "\0", "\0" if args.prefix or args.from_key else None
    if len(words) == 1:
        if args.prefix:
            return key, prefix_end(key.encode()).decode("utf-8", "surrogateescape")
        return key, "\0" if args.from_key else None
    if args.prefix:
        raise bad_args("unexpected endkey argument with --prefix flag")
    if args.from_key:
        raise bad_args("unexpected endkey argument with --from-key flag")
    return key, words[1]


def cmd_role_grant(ctx: Context, args: argparse.Namespace) -> int:
    """``role grant-permission [options] <role name> <permission type> <key> [endkey]``."""
    check_format(ctx, ROLE_GRANT)
    if len(args.args) < 3:
        raise bad_args("role grant command requires role name, permission type, and key "
                       "[endkey] as its argument")
    role, kind = args.args[0], args.args[1].upper()
    if kind not in _PERM_NUMBERS:
        raise bad_args(f"invalid permission type: {args.args[1]}")
    key, end = _perm_range(args, list(args.args[2:]))
    header = v3_client(ctx).auth.role_grant_permission(
        role, kind, key, range_end=end.encode("utf-8", "surrogateescape") if end else None)
    return done(ctx, header, f"Role {role} updated")


def cmd_role_revoke(ctx: Context, args: argparse.Namespace) -> int:
    """``role revoke-permission [options] <role name> <key> [endkey]``."""
    check_format(ctx, ROLE_REVOKE)
    if len(args.args) < 2:
        raise bad_args("role revoke-permission command requires role name and key [endkey] "
                       "as its argument")
    role = args.args[0]
    key, end = _perm_range(args, list(args.args[1:]))
    header = v3_client(ctx).auth.role_revoke_permission(
        role, key, range_end=end.encode("utf-8", "surrogateescape") if end else None)
    shown = args.args[1]
    if not end:
        text = f"Permission of key {shown} is revoked from role {role}"
    elif end != "\0":
        text = f"Permission of range [{shown}, {end}) is revoked from role {role}"
    else:
        text = f"Permission of range [{shown}, <open ended> is revoked from role {role}"
    return done(ctx, header, text)


ROLE_ADD = Verb(("role", "add"), "role add <role name>", "Adds a new role", cmd_role_add,
                formats=HEADER_ONLY)
ROLE_DELETE = Verb(("role", "delete"), "role delete <role name>", "Deletes a role",
                   cmd_role_delete, formats=HEADER_ONLY)
ROLE_GET = Verb(("role", "get"), "role get <role name>", "Gets detailed information of a role",
                cmd_role_get, formats=HEADER_ONLY)
ROLE_LIST = Verb(("role", "list"), "role list", "Lists all roles", cmd_role_list,
                 formats=HEADER_ONLY)
ROLE_GRANT = Verb(("role", "grant-permission"),
                  "role grant-permission [options] <role name> <permission type> <key> [endkey]",
                  "Grants a key to a role", cmd_role_grant, _perm_options, HEADER_ONLY)
ROLE_REVOKE = Verb(("role", "revoke-permission"),
                   "role revoke-permission [options] <role name> <key> [endkey]",
                   "Revokes a key from a role", cmd_role_revoke, _perm_options, HEADER_ONLY)

VERBS = (ROLE_ADD, ROLE_DELETE, ROLE_GET, ROLE_GRANT, ROLE_LIST, ROLE_REVOKE)
"""The verbs of this module, for the v3 command table."""

GROUPS = {"role": "Role related commands"}
