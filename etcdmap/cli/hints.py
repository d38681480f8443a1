"""What to type instead: a verb of the other command set names the verb of this one.

``etcdctl`` v2 and 3.5 share some verbs (``get``, ``watch``, ``member``, ``user``, ``role``,
``auth``) and not others. A v2 habit under v3 (``set``, ``ls``, ``rm -r``) or a v3 habit under
v2 (``put``, ``del``, ``get --prefix``) is answered with the verb to use on this API, or with
the ``--api`` that runs it. Pure data: thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence

from etcdmap.cli.common import CommandError

__all__ = ["ON_V2", "ON_V3", "wrong_set"]

ON_V3: dict[tuple[str, ...], str] = {
    ("set",): "put <key> <value>",
    ("mk",): "put <key> <value> (create only: txn with the compare create(\"<key>\") = \"0\")",
    ("update",): "put <key> <value> (only if it exists: txn with version(\"<key>\") > \"0\")",
    ("setdir",): "mkdir <dir> (v3 has no directories; etcdmap keeps a marker key)",
    ("updatedir",): "mkdir <dir> (v3 has no directories, nor directory TTLs)",
    ("rm",): "del <key> (rm -r: del --prefix <dir>/)",
    ("rmdir",): "del --prefix <dir>/",
    ("ls",): "get --prefix --keys-only <dir>/",
    ("exec-watch",): "watch <key> -- <command> [args]",
    ("cluster-health",): "endpoint health --cluster",
    ("user", "remove"): "user delete <name>",
    ("user", "grant"): "user grant-role <name> <role>",
    ("user", "revoke"): "user revoke-role <name> <role>",
    ("role", "remove"): "role delete <name>",
    ("role", "grant"): "role grant-permission [--prefix] <role> read|write|readwrite <key> "
                       "[range_end]",
    ("role", "revoke"): "role revoke-permission [--prefix] <role> <key> [range_end]",
}
"""A verb of the v2 set typed under v3 -> the v3 way to do it."""

_V3_ONLY = "a v3-only verb (v2 has no counterpart)"

ON_V2: dict[tuple[str, ...], str] = {
    ("put",): "set <key> <value>",
    ("del",): "rm <key> (del --prefix: rm -r <dir>)",
    ("txn",): "set --swap-with-value/--swap-with-index or rm --with-value/--with-index "
              "(compare-and-swap; v2 has no transactions)",
    ("lease",): "set --ttl <seconds> <key> <value> (v2 keys have TTLs, not leases)",
    ("endpoint",): "cluster-health",
    ("compaction",): _V3_ONLY,
    ("alarm",): _V3_ONLY,
    ("defrag",): _V3_ONLY,
    ("snapshot",): _V3_ONLY,
    ("move-leader",): _V3_ONLY,
    ("lock",): _V3_ONLY,
    ("elect",): _V3_ONLY,
    ("version",): "etcdmap --version",
    ("member", "promote"): _V3_ONLY,
    ("auth", "status"): _V3_ONLY,
    ("user", "delete"): "user remove <name>",
    ("user", "grant-role"): "user grant <name> --roles <role>",
    ("user", "revoke-role"): "user revoke <name> --roles <role>",
    ("role", "delete"): "role remove <name>",
    ("role", "grant-permission"): "role grant <role> --path <key> --read|--write|--readwrite",
    ("role", "revoke-permission"): "role revoke <role> --path <key> --read|--write|--readwrite",
    ("get", "--prefix"): "ls --recursive <dir> (or dump <dir>)",
}
"""A verb of the v3 set typed under v2 -> the v2 way to do it."""


def _first_word(rest: Sequence[str]) -> str | None:
    return next((word for word in rest if not word.startswith("-")), None)


def wrong_set(api: str, command: str, rest: Sequence[str], why: str) -> None:
    """Refuse a verb that belongs to the other command set, naming the one to use.

    :param api: the set this run uses, ``"v2"`` or ``"v3"``.
    :param command: the verb.
    :param rest: what follows it.
    :param why: how the API was chosen, e.g. ``"--api v3"``.
    :raises CommandError: the verb is the other set's (exit 1).
    """
    table = ON_V2 if api == "v2" else ON_V3
    sub = _first_word(rest)
    key: tuple[str, ...] | None = None
    if sub is not None and (command, sub) in table:
        key = (command, sub)
    elif (command,) in table:
        key = (command,)
    elif api == "v2" and command == "get" and any(
        t == "--prefix" or t.startswith("--prefix=") for t in rest
    ):
        key = ("get", "--prefix")
    if key is None:
        return
    typed = " ".join(key)
    other = "v3" if api == "v2" else "v2"
    instead = table[key]
    if instead == _V3_ONLY:
        advice = f"it is {instead}: pass --api v3"
    else:
        advice = f"on {api} use: {instead}; or pass --api {other} for etcdctl {other}'s {typed}"
    prefix = "Error:  " if api == "v2" else "Error: "
    raise CommandError(
        f"{prefix}{typed!r} is a {other} command and this run uses the {api} API ({why}); "
        f"{advice}"
    )
