"""``get``, ``put``, ``del`` and ``compaction`` of the v3 set, as ``etcdctl`` 3.5 has them
(etcd-io/etcd release-3.5:etcdctl/ctlv3/command/get_command.go, put_command.go,
del_command.go, compaction_command.go). Under ``--api auto``, ``get`` of a key that v3 does not
have prints nothing on stdout, as etcdctl, and a hint on stderr when the v2 store has it.

The argument checks (:func:`range_request`, :func:`put_request`, :func:`delete_request`) are
shared with ``txn``, whose operations are these verbs' command lines. One run serves one
thread.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from etcdmap.cli.clients import v2_keys_note, v3_client
from etcdmap.cli.common import stdin_bytes
from etcdmap.cli.v3.printing import (
    delete_json,
    go_json,
    header_fields,
    kv_fields,
    print_kv,
    put_json,
    range_json,
)
from etcdmap.cli.v3.verbs import (
    ALL_FORMATS,
    EXIT_BAD_FEATURE,
    Verb,
    bad_args,
    check_format,
    error,
    go_int,
    go_int_flag,
)

if TYPE_CHECKING:
    from typing import TextIO

    from etcdmap.cli.common import Context
    from etcdmap.v3.models import DeleteResponse, PutResponse, RangeResponse

__all__ = [
    "VERBS",
    "RangeRequest",
    "delete_options",
    "delete_request",
    "get_options",
    "print_delete",
    "print_put",
    "print_range",
    "put_options",
    "put_request",
    "range_request",
]

_ORDERS = {"": "NONE", "ASCEND": "ASCEND", "DESCEND": "DESCEND"}
_TARGETS = {"": "KEY", "CREATE": "CREATE", "KEY": "KEY", "MODIFY": "MOD", "VALUE": "VALUE",
            "VERSION": "VERSION"}


@dataclass
class RangeRequest:
    """A key, a prefix or a range, and the options of a read or a delete.

    :ivar key: the key (``"\\0"`` with ``range_end="\\0"``: every key).
    :ivar options: keyword arguments for ``client.kv.range`` / ``delete`` and ``Op``.
    """

    key: str
    options: dict[str, Any] = field(default_factory=dict)


def _key_range(words: list[str], prefix: bool, from_key: bool) -> RangeRequest:
    """etcdctl's rules for ``<key> [range_end]``, ``--prefix`` and ``--from-key``."""
    if prefix and from_key:
        raise bad_args("`--prefix` and `--from-key` cannot be set at the same time, choose one")
    request = RangeRequest(words[0])
    if len(words) > 1:
        if prefix or from_key:
            raise bad_args("too many arguments, only accept one argument when `--prefix` or "
                           "`--from-key` is set")
        request.options["range_end"] = words[1]
    if prefix and request.key:
        request.options["prefix"] = True
    elif prefix or from_key:  # an empty prefix is every key, as --from-key ""
        request.key = request.key or "\0"
        request.options["range_end"] = "\0"
    return request


def get_options(p: argparse.ArgumentParser) -> None:
    """``get``'s options."""
    p.add_argument("--consistency", default="l", help="Linearizable(l) or Serializable(s)")
    p.add_argument("--order", default="", help="Order of results; ASCEND or DESCEND "
                   "(ASCEND by default)")
    p.add_argument("--sort-by", default="", help="Sort target; CREATE, KEY, MODIFY, VALUE, "
                   "or VERSION")
    p.add_argument("--limit", type=go_int_flag("--limit"), default=0,
                   help="Maximum number of results")
    p.add_argument("--prefix", action="store_true", help="Get keys with matching prefix")
    p.add_argument("--from-key", action="store_true", help="Get keys that are greater than "
                   "or equal to the given key using byte compare")
    p.add_argument("--rev", type=go_int_flag("--rev"), default=0,
                   help="Specify the kv revision")
    p.add_argument("--keys-only", action="store_true", help="Get only the keys")
    p.add_argument("--count-only", action="store_true", help="Get only the count")
    p.add_argument("--print-value-only", action="store_true",
                   help='Only write values when using the "simple" output format')


def range_request(args: argparse.Namespace) -> RangeRequest:
    """The read ``get`` (or a txn ``get`` line) asks for (``getGetOp``).

    :raises CommandError: etcdctl's argument errors (exit 128; 4 for a bad sort or
        consistency).
    """
    words = list(args.args)
    if not words:
        raise bad_args("get command needs one argument as key and an optional argument as "
                       "range_end")
    if args.prefix and args.from_key:
        raise bad_args("`--prefix` and `--from-key` cannot be set at the same time, choose one")
    if args.keys_only and args.count_only:
        raise bad_args("`--keys-only` and `--count-only` cannot be set at the same time, "
                       "choose one")
    if args.consistency not in ("l", "s"):
        raise error(f'unknown consistency flag "{args.consistency}"', EXIT_BAD_FEATURE)
    request = _key_range(words, args.prefix, args.from_key)
    options = request.options
    if args.consistency == "s":
        options["serializable"] = True
    if args.limit:
        options["limit"] = args.limit
    if args.rev > 0:
        options["revision"] = args.rev
    order = _ORDERS.get(args.order.upper())
    if order is None:
        raise error(f"bad sort order {args.order}", EXIT_BAD_FEATURE)
    target = _TARGETS.get(args.sort_by.upper())
    if target is None:
        raise error(f"bad sort target {args.sort_by}", EXIT_BAD_FEATURE)
    if target != "KEY" and order == "NONE":
        # etcd sorts ascending when a target other than the key comes without an order
        # (etcd-io/etcd release-3.5:server/etcdserver/apply.go, Range)
        order = "ASCEND"
    if order != "NONE":
        options.update(sort_order=order, sort_target=target)
    if args.keys_only:
        options["keys_only"] = True
    if args.count_only:
        options["count_only"] = True
    return request


def print_range(resp: RangeResponse, output: str, out: TextIO, *, value_only: bool = False) -> None:
    """``display.Get`` in the simple, json and fields formats."""
    if output == "json":
        print(go_json(range_json(resp)), file=out)
    elif output == "fields":
        header_fields(resp.header, out)
        for kv in resp.kvs:
            kv_fields(kv, out)
        print('"More" :', "true" if resp.more else "false", file=out)
        print('"Count" :', resp.count, file=out)
    else:
        for kv in resp.kvs:
            print_kv(kv, out, value_only=value_only)


def cmd_get(ctx: Context, args: argparse.Namespace) -> int:
    """``get [options] <key> [range_end]``."""
    output = check_format(ctx, GET)
    request = range_request(args)
    if args.count_only and output != "fields":
        raise bad_args("--count-only is only for `--write-out=fields`")
    if args.print_value_only and output != "simple":
        raise bad_args("print-value-only is only for `--write-out=simple`")
    resp = v3_client(ctx).kv.range(request.key, **request.options)
    print_range(resp, output, ctx.stdout, value_only=args.print_value_only)
    if not resp.count and "range_end" not in request.options:
        note = v2_keys_note(ctx, request.key)  # under --api auto: the v2 store has it?
        if note is not None:
            print(note, file=ctx.stderr)
    return 0


# --------------------------------------------------------------------------- put


def put_options(p: argparse.ArgumentParser) -> None:
    """``put``'s options."""
    p.add_argument("--lease", default="0", help="lease ID (in hexadecimal) to attach to the key")
    p.add_argument("--prev-kv", action="store_true",
                   help="return the previous key-value pair before modification")
    p.add_argument("--ignore-value", action="store_true",
                   help="updates the key using its current value")
    p.add_argument("--ignore-lease", action="store_true",
                   help="updates the key using its current lease")


def put_request(args: argparse.Namespace, stdin: TextIO | None) -> tuple[str, bytes | str, dict[str, Any]]:
    """The key, value and options of ``put`` (``getPutOp``).

    :param stdin: where a missing value is read from (``None``: nowhere, as in a txn).
    :raises CommandError: etcdctl's argument errors (exit 128).
    """
    words = list(args.args)
    usage = "put command needs 1 argument and input from stdin or 2 arguments"
    if not words:
        raise bad_args(usage)
    if args.ignore_value and len(words) > 1:
        raise bad_args("put command needs only 1 argument when 'ignore-value' is set")
    value: bytes | str = b""
    if not args.ignore_value:
        value = words[1] if len(words) > 1 else (stdin_bytes(stdin) if stdin else b"")
        if not value:
            raise bad_args(usage)
    try:
        lease = go_int(args.lease, 16)
    except ValueError as exc:
        raise bad_args(f"bad lease ID ({exc}), expecting ID in Hex") from exc
    options: dict[str, Any] = {}
    if lease:
        options["lease"] = lease
    for name in ("prev_kv", "ignore_value", "ignore_lease"):
        if getattr(args, name):
            options[name] = True
    return words[0], value, options


def print_put(resp: PutResponse, output: str, out: TextIO) -> None:
    """``display.Put``."""
    if output == "json":
        print(go_json(put_json(resp)), file=out)
    elif output == "fields":
        header_fields(resp.header, out)
        if resp.prev_kv is not None:
            kv_fields(resp.prev_kv, out, "Prev")
    else:
        print("OK", file=out)
        if resp.prev_kv is not None:
            print_kv(resp.prev_kv, out)


def cmd_put(ctx: Context, args: argparse.Namespace) -> int:
    """``put [options] <key> <value>`` (the value from stdin when omitted)."""
    output = check_format(ctx, PUT)
    key, value, options = put_request(args, ctx.stdin)
    print_put(v3_client(ctx).kv.put(key, value, **options), output, ctx.stdout)
    return 0


# --------------------------------------------------------------------------- del


def delete_options(p: argparse.ArgumentParser) -> None:
    """``del``'s options."""
    p.add_argument("--prefix", action="store_true", help="delete keys with matching prefix")
    p.add_argument("--prev-kv", action="store_true", help="return deleted key-value pairs")
    p.add_argument("--from-key", action="store_true", help="delete keys that are greater than "
                   "or equal to the given key using byte compare")


def delete_request(args: argparse.Namespace) -> RangeRequest:
    """What ``del`` deletes (``getDelOp``).

    :raises CommandError: etcdctl's argument errors (exit 128).
    """
    words = list(args.args)
    if not words or len(words) > 2:
        raise bad_args("del command needs one argument as key and an optional argument as "
                       "range_end")
    request = _key_range(words, args.prefix, args.from_key)
    if args.prev_kv:
        request.options["prev_kv"] = True
    return request


def print_delete(resp: DeleteResponse, output: str, out: TextIO) -> None:
    """``display.Del``."""
    if output == "json":
        print(go_json(delete_json(resp)), file=out)
    elif output == "fields":
        header_fields(resp.header, out)
        print('"Deleted" :', resp.deleted, file=out)
        for kv in resp.prev_kvs:
            kv_fields(kv, out, "Prev")
    else:
        print(resp.deleted, file=out)
        for kv in resp.prev_kvs:
            print_kv(kv, out)


def cmd_del(ctx: Context, args: argparse.Namespace) -> int:
    """``del [options] <key> [range_end]``."""
    output = check_format(ctx, DEL)
    request = delete_request(args)
    print_delete(v3_client(ctx).kv.delete(request.key, **request.options), output, ctx.stdout)
    return 0


# --------------------------------------------------------------------------- compaction


def _compaction_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--physical", action="store_true", help="'true' to wait for compaction to "
                   "physically remove all old revisions")


def cmd_compaction(ctx: Context, args: argparse.Namespace) -> int:
    """``compaction [options] <revision>``: prints ``compacted revision N`` in every format."""
    check_format(ctx, COMPACTION)
    if len(args.args) != 1:
        raise bad_args("compaction command needs 1 argument")
    try:
        revision = go_int(args.args[0])
    except ValueError as exc:
        raise error(str(exc)) from exc
    v3_client(ctx).kv.compact(revision, physical=args.physical)
    print("compacted revision", revision, file=ctx.stdout)
    return 0


_KV_FORMATS = frozenset({"simple", "json", "fields"})

GET = Verb(("get",), "get [options] <key> [range_end]", "Gets the key or a range of keys",
           cmd_get, get_options, _KV_FORMATS)
PUT = Verb(("put",), "put [options] <key> <value> (<value> can also be given from stdin)",
           "Puts the given key into the store", cmd_put, put_options, _KV_FORMATS,
           description="When <value> begins with '-', <value> is interpreted as a flag. "
           "Insert '--' for workaround: put <key> -- <value>. If <value> isn't given as a "
           "command line argument and '--ignore-value' is not specified, this command reads "
           "the value from standard input.")
DEL = Verb(("del",), "del [options] <key> [range_end]",
           "Removes the specified key or range of keys [key, range_end)", cmd_del,
           delete_options, _KV_FORMATS)
COMPACTION = Verb(("compaction",), "compaction [options] <revision>",
                  "Compacts the event history in etcd", cmd_compaction, _compaction_options,
                  ALL_FORMATS)

VERBS = (GET, PUT, DEL, COMPACTION)
"""The verbs of this module, for the v3 command table."""
