"""The access-control commands of ``etcdmap``: ``user``, ``role`` and ``auth``, with ``etcdctl``
v2's arguments and messages (``etcdctl/ctlv2/command/{user,role,auth}_commands.go``).

Passwords are never taken from the command line unless given as ``user:password``; otherwise
they are prompted for without echo (:func:`etcdmap.cli.common.ask_password`). One run serves
one thread.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from etcdmap.cli.common import (
    EXIT_BAD_ARGS,
    EXIT_SUCCESS,
    CommandError,
    Context,
    ask_password,
    split_user_password,
)
from etcdmap.errors import AuthNotFound
from etcdmap.models import Permission

if TYPE_CHECKING:
    from etcdmap.cli.common import CommandFunc, Subcommands

__all__ = ["canonical_path", "register"]


# --------------------------------------------------------------------------- user


def _new_password(ctx: Context, spec: str) -> tuple[str, str]:
    name, password = split_user_password(spec)
    if password is None:
        password = ask_password("New password: ", ctx.stdin, ctx.stderr)
    return name, password


def cmd_user_add(ctx: Context, args: argparse.Namespace) -> int:
    """``user add NAME[:PASSWORD]``: create a user (the password is prompted for if omitted)."""
    name, password = _new_password(ctx, args.user)
    ctx.client().users.add(name, password)
    print(f"User {name} created", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_user_remove(ctx: Context, args: argparse.Namespace) -> int:
    """``user remove NAME``."""
    ctx.client().users.remove(args.user)
    print(f"User {args.user} removed", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_user_get(ctx: Context, args: argparse.Namespace) -> int:
    """``user get NAME``: the user and its roles."""
    user = ctx.client().users.get(args.user)
    print(f"User: {user.name}", file=ctx.stdout)
    print(f"Roles: {' '.join(user.roles)}", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_user_list(ctx: Context, args: argparse.Namespace) -> int:
    """``user list``: one user name per line."""
    for name in ctx.client().users.list():
        print(name, file=ctx.stdout)
    return EXIT_SUCCESS


def _roles(args: argparse.Namespace) -> list[str]:
    roles = [r for spec in args.roles or () for r in spec.split(",") if r]
    if not roles:
        raise CommandError("No roles specified; please use `--roles`", EXIT_BAD_ARGS)
    return roles


def cmd_user_grant(ctx: Context, args: argparse.Namespace) -> int:
    """``user grant NAME --roles R[,R...]``."""
    ctx.client().users.grant(args.user, _roles(args))
    print(f"User {args.user} updated", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_user_revoke(ctx: Context, args: argparse.Namespace) -> int:
    """``user revoke NAME --roles R[,R...]``."""
    ctx.client().users.revoke(args.user, _roles(args))
    print(f"User {args.user} updated", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_user_passwd(ctx: Context, args: argparse.Namespace) -> int:
    """``user passwd NAME``: change a password (prompted for, never echoed)."""
    password = ask_password("New password: ", ctx.stdin, ctx.stderr)
    ctx.client().users.change_password(args.user, password)
    print("Password updated", file=ctx.stdout)
    return EXIT_SUCCESS


# --------------------------------------------------------------------------- role


def canonical_path(path: str) -> str:
    """The canonical form of a role's key pattern (etcd's ``pathutil.CanonicalURLPath``).

    :param path: e.g. ``"foo//bar/../baz/"``.
    :returns: e.g. ``"/foo/baz/"``: rooted, cleaned, trailing ``/`` kept.
    """
    if not path:
        return "/"
    rooted = path if path.startswith("/") else "/" + path
    parts: list[str] = []
    for part in rooted.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    clean = "/" + "/".join(parts)
    if rooted.endswith("/") and clean != "/":
        clean += "/"
    return clean


def cmd_role_add(ctx: Context, args: argparse.Namespace) -> int:
    """``role add NAME``."""
    roles = ctx.client().roles
    try:
        roles.get(args.role)
    except AuthNotFound:
        pass
    else:
        raise CommandError(f"Role {args.role} already exists", EXIT_BAD_ARGS)
    roles.add(args.role)
    print(f"Role {args.role} created", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_role_remove(ctx: Context, args: argparse.Namespace) -> int:
    """``role remove NAME``."""
    ctx.client().roles.remove(args.role)
    print(f"Role {args.role} removed", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_role_get(ctx: Context, args: argparse.Namespace) -> int:
    """``role get NAME``: the role's read and write key patterns."""
    role = ctx.client().roles.get(args.role)
    print(f"Role: {role.name}", file=ctx.stdout)
    print("KV Read:", file=ctx.stdout)
    for pattern in role.read:
        print(f"\t{pattern}", file=ctx.stdout)
    print("KV Write:", file=ctx.stdout)
    for pattern in role.write:
        print(f"\t{pattern}", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_role_list(ctx: Context, args: argparse.Namespace) -> int:
    """``role list``: one role name per line."""
    for name in ctx.client().roles.list():
        print(name, file=ctx.stdout)
    return EXIT_SUCCESS


def _permission(args: argparse.Namespace) -> tuple[str, Permission]:
    if not args.path:
        raise CommandError("No path specified; please use `--path`", EXIT_BAD_ARGS)
    if canonical_path(args.path) != args.path:
        raise CommandError(
            f"Not canonical path; please use `--path={canonical_path(args.path)}`", EXIT_BAD_ARGS
        )
    chosen = [p for flag, p in ((args.read, Permission.READ), (args.write, Permission.WRITE),
                                (args.readwrite, Permission.READ_WRITE)) if flag]
    if len(chosen) != 1:
        raise CommandError(
            "Please specify exactly one of --read, --write or --readwrite", EXIT_BAD_ARGS
        )
    return args.path, chosen[0]


def _role_grant_revoke(ctx: Context, args: argparse.Namespace, grant: bool) -> int:
    path, permission = _permission(args)
    roles = ctx.client().roles
    before = roles.get(args.role)
    if grant:
        after = roles.grant_kv(args.role, [path], permission)
    else:
        after = roles.revoke_kv(args.role, [path], permission)
    if after == before:
        print(f"Role unchanged; already {'granted' if grant else 'revoked'}", file=ctx.stdout)
    print(f"Role {args.role} updated", file=ctx.stdout)
    return EXIT_SUCCESS


def cmd_role_grant(ctx: Context, args: argparse.Namespace) -> int:
    """``role grant NAME --path P (--read|--write|--readwrite)``."""
    return _role_grant_revoke(ctx, args, grant=True)


def cmd_role_revoke(ctx: Context, args: argparse.Namespace) -> int:
    """``role revoke NAME --path P (--read|--write|--readwrite)``."""
    return _role_grant_revoke(ctx, args, grant=False)


# --------------------------------------------------------------------------- auth


def cmd_auth(ctx: Context, args: argparse.Namespace) -> int:
    """``auth enable|disable``."""
    auth = ctx.client().auth
    if args.action == "enable":
        auth.enable()
        print("Authentication Enabled", file=ctx.stdout)
    else:
        auth.disable()
        print("Authentication Disabled", file=ctx.stdout)
    return EXIT_SUCCESS


def _add_group(
    commands: Subcommands,
    noun: str,
    help_text: str,
    *,
    named: tuple[tuple[str, CommandFunc, str], ...],
    list_func: CommandFunc,
    changes: tuple[tuple[str, CommandFunc], ...],
    change_help: str,
) -> list[argparse.ArgumentParser]:
    """Add the ``user`` or ``role`` group: ``named`` sub-commands taking the NOUN argument,
    ``list``, then ``grant`` and ``revoke``.

    :param noun: the group's name, also the name of its positional argument.
    :param named: (name, function, help) of each sub-command taking only the NOUN argument.
    :param list_func: the function of ``list``.
    :param changes: (name, function) of ``grant`` and ``revoke``.
    :param change_help: their help, with ``{}`` for the name.
    :returns: the ``grant`` and ``revoke`` parsers, for the caller to add their options to.
    """
    group = commands.add_parser(noun, help=help_text)
    sub = group.add_subparsers(dest=f"{noun}_command", metavar="<subcommand>", required=True)
    for name, func, name_help in named:
        p = sub.add_parser(name, help=name_help)
        p.add_argument(noun)
        p.set_defaults(func=func)
    p = sub.add_parser("list", help=f"list the {noun}s")
    p.set_defaults(func=list_func)
    change_parsers: list[argparse.ArgumentParser] = []
    for name, func in changes:
        p = sub.add_parser(name, help=change_help.format(name))
        p.add_argument(noun)
        p.set_defaults(func=func)
        change_parsers.append(p)
    return change_parsers


def register(commands: Subcommands) -> None:
    """Add ``user``, ``role`` and ``auth`` to the ``etcdmap`` parser.

    :param commands: the object returned by ``ArgumentParser.add_subparsers``.
    """
    user_commands = (
        ("add", cmd_user_add, "add a user (NAME or NAME:PASSWORD)"),
        ("remove", cmd_user_remove, "remove a user"),
        ("get", cmd_user_get, "show a user's roles"),
        ("passwd", cmd_user_passwd, "change a user's password"),
    )
    for p in _add_group(
        commands,
        "user",
        "manage auth users",
        named=user_commands,
        list_func=cmd_user_list,
        changes=(("grant", cmd_user_grant), ("revoke", cmd_user_revoke)),
        change_help="{} roles to a user",
    ):
        p.add_argument("--roles", action="append", help="role names (repeat or comma-separate)")

    role_commands = (
        ("add", cmd_role_add, "add a role"),
        ("remove", cmd_role_remove, "remove a role"),
        ("get", cmd_role_get, "show a role's permissions"),
    )
    for p in _add_group(
        commands,
        "role",
        "manage auth roles",
        named=role_commands,
        list_func=cmd_role_list,
        changes=(("grant", cmd_role_grant), ("revoke", cmd_role_revoke)),
        change_help="{} a key pattern to a role",
    ):
        p.add_argument("--path", default="", help="key pattern (a trailing * is a prefix)")
        p.add_argument("--read", action="store_true", help="read access")
        p.add_argument("--write", action="store_true", help="write access")
        p.add_argument("--readwrite", "--rw", action="store_true", help="read and write access")

    auth = commands.add_parser("auth", help="enable or disable authentication")
    auth.add_argument("action", choices=("enable", "disable"))
    auth.set_defaults(func=cmd_auth)
