"""``user add|delete|get|list|passwd|grant-role|revoke-role`` of the v3 set, as ``etcdctl``
3.5 has them (etcd-io/etcd release-3.5:etcdctl/ctlv3/command/user_command.go), on
``client.auth``.

Passwords: ``user add NAME:PASSWORD``, ``--new-user-password``, or asked for twice without
echo (``--interactive=false``: one word read from stdin), as etcdctl does. One run serves one
thread.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from etcdmap.cli.clients import v3_client
from etcdmap.cli.common import ask_password
from etcdmap.cli.v3.auth import HEADER_ONLY, NO_FIELDS, done, one_name, print_names
from etcdmap.cli.v3.printing import go_json, header_json
from etcdmap.cli.v3.roles import print_role
from etcdmap.cli.v3.verbs import Verb, bad_args, check_format

if TYPE_CHECKING:
    from etcdmap.cli.common import Context

__all__ = ["GROUPS", "VERBS"]


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
    spec = one_name(args, "user add command requires user name as its argument")
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
    return done(ctx, header, f"User {user} created")


def cmd_user_delete(ctx: Context, args: argparse.Namespace) -> int:
    """``user delete <user name>``."""
    check_format(ctx, USER_DELETE)
    name = one_name(args, "user delete command requires user name as its argument")
    return done(ctx, v3_client(ctx).auth.user_delete(name), f"User {name} deleted")


def _user_get_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detail", action="store_true",
                   help="Show permissions of roles granted to the user")


def cmd_user_get(ctx: Context, args: argparse.Namespace) -> int:
    """``user get <user name> [--detail]``: the user's roles (and their permissions)."""
    output = check_format(ctx, USER_GET)
    name = one_name(args, "user get command requires user name as its argument")
    auth = v3_client(ctx).auth
    roles = auth.user_get(name)
    if args.detail:
        print(f"User: {name}", file=ctx.stdout)
        for role in roles:
            print(file=ctx.stdout)
            print_role(ctx, role, auth.role_get(role), output)
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
    return print_names(ctx, USER_LIST, args, "user list", "users")


def _interactive_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interactive", action="store_true", default=True,
                   help="If true, read password from stdin instead of interactive terminal")


def cmd_user_passwd(ctx: Context, args: argparse.Namespace) -> int:
    """``user passwd <user name> [--interactive=false]``."""
    check_format(ctx, USER_PASSWD)
    name = one_name(args, "user passwd command requires user name as its argument")
    password = _new_password(ctx, name, args.interactive)
    return done(ctx, v3_client(ctx).auth.user_change_password(name, password),
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
        return done(ctx, auth.user_grant_role(user, role),
                     f"Role {role} is granted to user {user}")
    return done(ctx, auth.user_revoke_role(user, role), f"Role {role} is revoked from user {user}")


def cmd_user_grant_role(ctx: Context, args: argparse.Namespace) -> int:
    """``user grant-role <user name> <role name>``."""
    return _user_role(ctx, args, USER_GRANT, grant=True)


def cmd_user_revoke_role(ctx: Context, args: argparse.Namespace) -> int:
    """``user revoke-role <user name> <role name>``."""
    return _user_role(ctx, args, USER_REVOKE, grant=False)


USER_ADD = Verb(("user", "add"), "user add <user name or user:password> [options]",
                "Adds a new user", cmd_user_add, _user_add_options, HEADER_ONLY)
USER_DELETE = Verb(("user", "delete"), "user delete <user name>", "Deletes a user",
                   cmd_user_delete, formats=HEADER_ONLY)
USER_GET = Verb(("user", "get"), "user get <user name> [options]",
                "Gets detailed information of a user", cmd_user_get, _user_get_options,
                NO_FIELDS)
USER_LIST = Verb(("user", "list"), "user list", "Lists all users", cmd_user_list,
                 formats=NO_FIELDS)
USER_PASSWD = Verb(("user", "passwd"), "user passwd <user name> [options]",
                   "Changes password of user", cmd_user_passwd, _interactive_option,
                   HEADER_ONLY)
USER_GRANT = Verb(("user", "grant-role"), "user grant-role <user name> <role name>",
                  "Grants a role to a user", cmd_user_grant_role, formats=HEADER_ONLY)
USER_REVOKE = Verb(("user", "revoke-role"), "user revoke-role <user name> <role name>",
                   "Revokes a role from a user", cmd_user_revoke_role, formats=HEADER_ONLY)

VERBS = (USER_ADD, USER_DELETE, USER_GET, USER_GRANT, USER_LIST, USER_PASSWD, USER_REVOKE)
"""The verbs of this module, for the v3 command table."""

GROUPS = {"user": "User related commands"}
