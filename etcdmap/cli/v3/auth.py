"""``user …``, ``role …`` and ``auth enable|disable|status`` of the v3 set, as ``etcdctl``
3.5 has them (etcd-io/etcd release-3.5:etcdctl/ctlv3/command/user_command.go,
role_command.go, auth_command.go), on ``client.auth``.

Passwords: ``user add NAME:PASSWORD``, ``--new-user-password``, or asked for twice without
echo (``--interactive=false``: one word read from stdin), as etcdctl does. One run serves one
thread.
"""

from __future__ import annotations

import argparse
import base64
from typing import TYPE_CHECKING, TextIO

from etcdmap.cli.common import ask_password
from etcdmap.cli.stores import v3_client
from etcdmap.cli.v3.printing import go_json, go_quote, header_fields, header_json
from etcdmap.cli.v3.verbs import ALL_FORMATS, Verb, bad_args, check_format
from etcdmap.v3.errors import RootRoleMissing
from etcdmap.v3.wire import prefix_end

if TYPE_CHECKING:
    from etcdmap.cli.common import Context
    from etcdmap.v3.models import Listing, Permission, ResponseHeader

__all__ = ["GROUPS", "VERBS"]

_HEADER_ONLY = frozenset({"simple", "json", "fields"})
_NO_FIELDS = frozenset({"simple", "json"})
_PERM_NUMBERS = {"READ": 0, "WRITE": 1, "READWRITE": 2}


def _done(ctx: Context, header: ResponseHeader, text: str) -> int:
    """A write's output: ``text`` (simple), the header (json, fields)."""
    if ctx.output == "json":
        print(go_json({"header": header_json(header)}), file=ctx.stdout)
    elif ctx.output == "fields":
        header_fields(header, ctx.stdout)
    else:
        print(text, file=ctx.stdout)
    return 0


def _one_name(args: argparse.Namespace, message: str) -> str:
    if len(args.args) != 1:
        raise bad_args(message)
    return str(args.args[0])


def _new_password(ctx: Context, name: str, interactive: bool) -> str:
    """``readPasswordInteractive``, or one word of stdin with ``--interactive=false``."""
    if not interactive:
        words = ctx.stdin.readline().split()
        return words[0] if words else ""
    first = ask_password(f"Password of {name}: ", ctx.stdin, ctx.stderr)
    if not first:
        raise bad_args("empty password")
    second = ask_password(f"Type password of {name} again for confirmation: ", ctx.stdin,
                          ctx.stderr)
    if first != second:
        raise bad_args("given passwords are different")
    return first


# --------------------------------------------------------------------------- user


def _user_add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interactive", action="store_true", default=True,
                   help="Read password from stdin instead of interactive terminal")
    p.add_argument("--new-user-password", default="",
                   help="Supply password from the command line flag")
    p.add_argument("--no-password", action="store_true",
                   help="Create a user without password (CN based auth only)")


def cmd_user_add(ctx: Context, args: argparse.Namespace) -> int:
    """``user add <user name or user:password> [options]``."""
    check_format(ctx, USER_ADD)
    spec = _one_name(args, "user add command requires user name as its argument")
    user, password = spec, ""
    if not args.no_password:
        if args.new_user_password:
            password = args.new_user_password
        elif ":" in spec:
            user, password = spec.split(":", 1)
            if not user:
                raise bad_args("empty user name is not allowed")
        else:
            password = _new_password(ctx, spec, args.interactive)
    header = v3_client(ctx).auth.user_add(user, password, no_password=args.no_password)
    return _done(ctx, header, f"User {user} created")


def cmd_user_delete(ctx: Context, args: argparse.Namespace) -> int:
    """``user delete <user name>``."""
    check_format(ctx, USER_DELETE)
    name = _one_name(args, "user delete command requires user name as its argument")
    return _done(ctx, v3_client(ctx).auth.user_delete(name), f"User {name} deleted")


def _user_get_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detail", action="store_true",
                   help="Show permissions of roles granted to the user")


def cmd_user_get(ctx: Context, args: argparse.Namespace) -> int:
    """``user get <user name> [--detail]``: the user's roles (and their permissions)."""
    output = check_format(ctx, USER_GET)
    name = _one_name(args, "user get command requires user name as its argument")
    auth = v3_client(ctx).auth
    roles = auth.user_get(name)
    if args.detail:
        print(f"User: {name}", file=ctx.stdout)
        for role in roles:
            print(file=ctx.stdout)
            _print_role(ctx, role, auth.role_get(role), output)
    elif output == "json":
        doc: dict[str, object] = {"header": header_json(roles.header)}
        if roles:
            doc["roles"] = list(roles)
        print(go_json(doc), file=ctx.stdout)
    else:
        print(f"User: {name}", file=ctx.stdout)
        print("Roles:" + "".join(f" {role}" for role in roles), file=ctx.stdout)
    return 0


def cmd_user_list(ctx: Context, args: argparse.Namespace) -> int:
    """``user list``."""
    return _print_names(ctx, USER_LIST, args, "user list", "users")


def _interactive_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interactive", action="store_true", default=True,
                   help="If true, read password from stdin instead of interactive terminal")


def cmd_user_passwd(ctx: Context, args: argparse.Namespace) -> int:
    """``user passwd <user name> [--interactive=false]``."""
    check_format(ctx, USER_PASSWD)
    name = _one_name(args, "user passwd command requires user name as its argument")
    password = _new_password(ctx, name, args.interactive)
    return _done(ctx, v3_client(ctx).auth.user_change_password(name, password),
                 "Password updated")


def _user_role(ctx: Context, args: argparse.Namespace, verb: Verb, grant: bool) -> int:
    check_format(ctx, verb)
    if len(args.args) != 2:
        raise bad_args("user grant command requires user name and role name as its argument"
                       if grant else
                       "user revoke-role requires user name and role name as its argument")
    user, role = args.args
    auth = v3_client(ctx).auth
    if grant:
        return _done(ctx, auth.user_grant_role(user, role),
                     f"Role {role} is granted to user {user}")
    return _done(ctx, auth.user_revoke_role(user, role), f"Role {role} is revoked from user {user}")


def cmd_user_grant_role(ctx: Context, args: argparse.Namespace) -> int:
    """``user grant-role <user name> <role name>``."""
    return _user_role(ctx, args, USER_GRANT, grant=True)


def cmd_user_revoke_role(ctx: Context, args: argparse.Namespace) -> int:
    """``user revoke-role <user name> <role name>``."""
    return _user_role(ctx, args, USER_REVOKE, grant=False)


# --------------------------------------------------------------------------- role


def _print_names(ctx: Context, verb: Verb, args: argparse.Namespace, what: str,
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


def cmd_role_add(ctx: Context, args: argparse.Namespace) -> int:
    """``role add <role name>``."""
    check_format(ctx, ROLE_ADD)
    name = _one_name(args, "role add command requires role name as its argument")
    return _done(ctx, v3_client(ctx).auth.role_add(name), f"Role {name} created")


def cmd_role_delete(ctx: Context, args: argparse.Namespace) -> int:
    """``role delete <role name>``."""
    check_format(ctx, ROLE_DELETE)
    name = _one_name(args, "role delete command requires role name as its argument")
    return _done(ctx, v3_client(ctx).auth.role_delete(name), f"Role {name} deleted")


def _print_range(perm: Permission, out: TextIO) -> None:
    key, end = perm.key.decode("utf-8", "replace"), perm.range_end.decode("utf-8", "replace")
    if not perm.range_end:
        print(f"\t{key}", file=out)
        return
    line = f"\t[{key}, {end})" if perm.range_end != b"\0" else f"\t[{key}, <open ended>"
    if perm.key and prefix_end(perm.key) == perm.range_end:
        line += f" (prefix {key})"
    print(line, file=out)


def _print_role(ctx: Context, role: str, perms: Listing[Permission], output: str) -> None:
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
    name = _one_name(args, "role get command requires role name as its argument")
    _print_role(ctx, name, v3_client(ctx).auth.role_get(name), output)
    return 0


def cmd_role_list(ctx: Context, args: argparse.Namespace) -> int:
    """``role list``."""
    return _print_names(ctx, ROLE_LIST, args, "role list", "roles")


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
    return _done(ctx, header, f"Role {role} updated")


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
    return _done(ctx, header, text)


# --------------------------------------------------------------------------- auth


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


USER_ADD = Verb(("user", "add"), "user add <user name or user:password> [options]",
                "Adds a new user", cmd_user_add, _user_add_options, _HEADER_ONLY)
USER_DELETE = Verb(("user", "delete"), "user delete <user name>", "Deletes a user",
                   cmd_user_delete, formats=_HEADER_ONLY)
USER_GET = Verb(("user", "get"), "user get <user name> [options]",
                "Gets detailed information of a user", cmd_user_get, _user_get_options,
                _NO_FIELDS)
USER_LIST = Verb(("user", "list"), "user list", "Lists all users", cmd_user_list,
                 formats=_NO_FIELDS)
USER_PASSWD = Verb(("user", "passwd"), "user passwd <user name> [options]",
                   "Changes password of user", cmd_user_passwd, _interactive_option,
                   _HEADER_ONLY)
USER_GRANT = Verb(("user", "grant-role"), "user grant-role <user name> <role name>",
                  "Grants a role to a user", cmd_user_grant_role, formats=_HEADER_ONLY)
USER_REVOKE = Verb(("user", "revoke-role"), "user revoke-role <user name> <role name>",
                   "Revokes a role from a user", cmd_user_revoke_role, formats=_HEADER_ONLY)
ROLE_ADD = Verb(("role", "add"), "role add <role name>", "Adds a new role", cmd_role_add,
                formats=_HEADER_ONLY)
ROLE_DELETE = Verb(("role", "delete"), "role delete <role name>", "Deletes a role",
                   cmd_role_delete, formats=_HEADER_ONLY)
ROLE_GET = Verb(("role", "get"), "role get <role name>", "Gets detailed information of a role",
                cmd_role_get, formats=_HEADER_ONLY)
ROLE_LIST = Verb(("role", "list"), "role list", "Lists all roles", cmd_role_list,
                 formats=_HEADER_ONLY)
ROLE_GRANT = Verb(("role", "grant-permission"),
                  "role grant-permission [options] <role name> <permission type> <key> [endkey]",
                  "Grants a key to a role", cmd_role_grant, _perm_options, _HEADER_ONLY)
ROLE_REVOKE = Verb(("role", "revoke-permission"),
                   "role revoke-permission [options] <role name> <key> [endkey]",
                   "Revokes a key from a role", cmd_role_revoke, _perm_options, _HEADER_ONLY)
AUTH_STATUS = Verb(("auth", "status"), "auth status", "Returns authentication status",
                   cmd_auth_status)

VERBS = (
    AUTH_STATUS,
    Verb(("auth", "disable"), "auth disable", "Disables authentication", cmd_auth_disable,
         formats=ALL_FORMATS),
    Verb(("auth", "enable"), "auth enable", "Enables authentication", cmd_auth_enable,
         formats=ALL_FORMATS),
    ROLE_ADD, ROLE_DELETE, ROLE_GET, ROLE_GRANT, ROLE_LIST, ROLE_REVOKE,
    USER_ADD, USER_DELETE, USER_GET, USER_GRANT, USER_LIST, USER_PASSWD, USER_REVOKE,
)
"""The verbs of this module, for the v3 command table."""

GROUPS = {"auth": "Enable or disable authentication", "role": "Role related commands",
          "user": "User related commands"}
