"""``txn`` of the v3 set: ``etcdctl`` 3.5's transaction grammar on stdin
(etcd-io/etcd release-3.5:etcdctl/ctlv3/command/txn_command.go).

Three blocks, each ended by an empty line: the compares (``value("k") = "v"``,
``version("k") > "0"``, ``create("k") = "0"``, ``mod("k") < "42"``; also ``ver``, ``c``,
``m``, ``val``; operators ``=``, ``!=``, ``>``, ``<``), the requests run when every compare
holds, and those run otherwise: ``put``, ``get`` and ``del`` command lines with their options.
``-i`` prompts for each block. Input that ends before the last empty line is an error (exit 3,
``Error: EOF``), as in etcdctl.

Beyond etcdctl 3.5: a ``lease("k") = "<hex id>"`` compare works (etcdctl 3.5 crashes on it),
and a single-quoted word keeps all of its text (etcdctl 3.5 cuts it to the number of words on
the line). One run serves one thread.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

from etcdmap.cli.clients import v3_client
from etcdmap.cli.v3 import kv
from etcdmap.cli.v3.printing import (
    delete_json,
    go_json,
    go_quote,
    header_fields,
    header_json,
    put_json,
    range_json,
)
from etcdmap.cli.v3.verbs import EXIT_INVALID_INPUT, Verb, bad_args, check_format, error, go_int
from etcdmap.v3 import Compare, Op
from etcdmap.v3.models import DeleteResponse, PutResponse, RangeResponse, TxnResponse

if TYPE_CHECKING:
    from typing import TextIO

    from etcdmap.cli.common import CommandError, Context

__all__ = ["VERBS", "argify", "go_unquote", "parse_compare", "parse_request"]

# etcdctl's argify: "double quoted", 'single quoted', or a word (Go's \s is ASCII)
_ARG = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^\'"\t\n\f\r ][^\t\n\f\r ]*[^\'"\t\n\f\r ]?')
_QUOTED = r'"(?:[^"\\]|\\.)*"|`[^`]*`'
_COMPARE = re.compile(rf"(?P<key>{_QUOTED})\)[ \t]*(?P<op>[^ \t]+)[ \t]*(?P<val>{_QUOTED})?")
_GO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
               "\\": "\\", '"': '"', "'": "'"}
_OPERATORS = {"=": "==", "!=": "!=", ">": ">", "<": "<"}
_T = TypeVar("_T")


def _invalid(message: str) -> CommandError:
    return error(message, EXIT_INVALID_INPUT)


def go_unquote(text: str) -> str:
    """Go's ``strconv.Unquote`` of a ``"..."`` or ```...``` literal.

    :raises ValueError: not a valid literal.
    """
    if len(text) >= 2 and text[0] == text[-1] == "`":
        return text[1:-1]
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError("invalid syntax")
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        kind = body[i + 1:i + 2]
        if kind in _GO_ESCAPES:
            out.append(_GO_ESCAPES[kind])
            i += 2
        elif kind in ("x", "u", "U"):
            size = {"x": 2, "u": 4, "U": 8}[kind]
            digits = body[i + 2:i + 2 + size]
            if len(digits) != size or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 16)))
            i += 2 + size
        elif re.fullmatch(r"[0-7]{3}", body[i + 1:i + 4]):
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
        else:
            raise ValueError("invalid syntax")
    return "".join(out)


def argify(line: str) -> list[str]:
    """Split a request line into words, as etcdctl's ``argify`` does (quotes removed).

    :raises CommandError: a double-quoted word that is not a valid Go literal (exit 3).
    """
    words = _ARG.findall(line)
    out = []
    for word in words:
        if word.startswith("'"):
            out.append(word[1:-1])
        elif word.startswith('"'):
            try:
                out.append(go_unquote(word))
            except ValueError as exc:
                raise _invalid(str(exc)) from exc
        else:
            out.append(word)
    return out


def parse_compare(line: str) -> Compare:
    """One compare line, e.g. ``value("k") = "v"`` (``parseCompare``).

    :raises CommandError: a malformed compare (exit 3).
    """
    target, paren, rest = line.partition("(")
    if not paren:
        raise _invalid(f"malformed comparison: {line}")
    match = _COMPARE.match(rest)
    if match is None or match["val"] is None:
        key = go_unquote(match["key"]) if match else ""
        op = match["op"] if match else ""
        raise _invalid(f"malformed comparison: {line}; got {target}({go_quote(key)}) {op} "
                       f'""')
    key, op, val = go_unquote(match["key"]), match["op"], go_unquote(match["val"])
    if op not in _OPERATORS:
        raise _invalid(f"malformed comparison: {line} (unknown operator {op})")
    operator = _OPERATORS[op]
    try:
        if target in ("ver", "version"):
            return Compare.version(key, operator, go_int(val))  # type: ignore[arg-type]
        if target in ("c", "create"):
            return Compare.create(key, operator, go_int(val))  # type: ignore[arg-type]
        if target in ("m", "mod"):
            return Compare.mod(key, operator, go_int(val))  # type: ignore[arg-type]
        if target in ("val", "value"):
            return Compare.value(key, operator, val)  # type: ignore[arg-type]
        if target == "lease":
            return Compare.lease(key, operator, go_int(val, 16))  # type: ignore[arg-type]
    except ValueError as exc:
        raise _invalid(f"invalid txn compare request: {line}") from exc
    raise _invalid(f"malformed comparison: {line} (unknown target {target})")


class _RequestParser(argparse.ArgumentParser):
    """A txn request's parser: any argument error is ``invalid txn request`` (exit 3)."""

    line = ""

    def error(self, message: str) -> NoReturn:
        raise _invalid(f"invalid txn request: {self.line}")


def parse_request(line: str) -> Op:
    """One request line, ``put``/``get``/``del`` with their options (``parseRequestUnion``).

    :raises CommandError: a request etcdctl refuses (exit 3, or 128 for the verbs' own
        argument checks).
    """
    words = argify(line)
    if len(words) < 2:
        raise _invalid(f"invalid txn compare request: {line}")
    options = {"put": kv.put_options, "get": kv.get_options, "del": kv.delete_options}
    add = options.get(words[0])
    if add is None:
        raise _invalid(f"invalid txn request: {line}")
    parser = _RequestParser(prog=words[0], add_help=False, allow_abbrev=False)
    parser.line = line
    add(parser)
    parser.add_argument("args", nargs="*")
    tokens, after = words[1:], []
    if "--" in tokens:
        cut = tokens.index("--")
        tokens, after = tokens[:cut], tokens[cut + 1:]
    args = parser.parse_intermixed_args(tokens)
    args.args = [*args.args, *after]
    if words[0] == "put":
        key, value, put = kv.put_request(args, None)
        return Op.put(key, value, **put)
    if words[0] == "get":
        request = kv.range_request(args)
        return Op.get(request.key, **request.options)
    request = kv.delete_request(args)
    return Op.delete(request.key, **request.options)


def _read_block(ctx: Context, parse: Callable[[str], _T]) -> list[_T]:
    """One block, parsed line by line up to its empty line (``Error: EOF`` before it)."""
    items: list[_T] = []
    while True:
        line = ctx.stdin.readline()
        if not line.endswith("\n"):
            raise _invalid("EOF")
        line = line.strip()
        if not line:
            return items
        items.append(parse(line))


def _print_response(resp: object, output: str, out: TextIO) -> None:
    if isinstance(resp, RangeResponse):
        kv.print_range(resp, output, out)
    elif isinstance(resp, PutResponse):
        kv.print_put(resp, output, out)
    elif isinstance(resp, DeleteResponse):
        kv.print_delete(resp, output, out)
    else:
        print(f"unexpected response {resp!r}", file=out)


def _txn_json(resp: TxnResponse) -> dict[str, object]:
    names = {RangeResponse: ("response_range", range_json), PutResponse: ("response_put", put_json),
             DeleteResponse: ("response_delete_range", delete_json),
             TxnResponse: ("response_txn", _txn_json)}
    out: dict[str, object] = {"header": header_json(resp.header)}
    if resp.succeeded:
        out["succeeded"] = True
    if resp.responses:
        out["responses"] = [
            {"Response": {names[type(r)][0]: names[type(r)][1](r)}}  # type: ignore[operator]
            for r in resp.responses
        ]
    return out


def _prompt(ctx: Context, args: argparse.Namespace, text: str) -> None:
    if args.interactive:
        print(text, file=ctx.stdout)
        ctx.stdout.flush()


def cmd_txn(ctx: Context, args: argparse.Namespace) -> int:
    """``txn [-i]``: compares, success requests and failure requests from stdin."""
    output = check_format(ctx, TXN)
    if args.args:
        raise bad_args("txn command does not accept argument")
    _prompt(ctx, args, "compares:")
    compares = _read_block(ctx, parse_compare)
    _prompt(ctx, args, "success requests (get, put, del):")
    success = _read_block(ctx, parse_request)
    _prompt(ctx, args, "failure requests (get, put, del):")
    failure = _read_block(ctx, parse_request)
    resp = v3_client(ctx).kv.txn(compares, success, failure)
    out = ctx.stdout
    if output == "json":
        print(go_json(_txn_json(resp)), file=out)
    elif output == "fields":
        header_fields(resp.header, out)
        print('"Succeeded" :', "true" if resp.succeeded else "false", file=out)
        for item in resp.responses:
            _print_response(item, output, out)
    else:
        print("SUCCESS" if resp.succeeded else "FAILURE", file=out)
        for item in resp.responses:
            print(file=out)
            _print_response(item, output, out)
    return 0


def _txn_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--interactive", action="store_true",
                   help="Input transaction in interactive mode")


TXN = Verb(("txn",), "txn [options]", "Txn processes all the requests in one transaction",
           cmd_txn, _txn_options, frozenset({"simple", "json", "fields"}),
           description="Reads from stdin: compares, an empty line, success requests, an empty "
           "line, failure requests, an empty line.")

VERBS = (TXN,)
"""The verbs of this module, for the v3 command table."""
