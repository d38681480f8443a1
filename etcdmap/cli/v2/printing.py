"""Output of the ``etcdmap`` command: the three formats of ``etcdctl`` v2, as pure functions.

Every function here turns models into text and writes it to a stream it is given; nothing here
talks to etcd. The formats follow ``etcdctl`` v2 (``etcdctl/ctlv2/command/format.go``,
``printResponseKey``, and ``ls_command.go``, ``printLs``) so scripts written for ``etcdctl`` keep
working:

- ``simple``: the value (for a delete: ``PrevNode.Value: <old value>``);
- ``extended``: ``Key:``, ``Created-Index:``, ``Modified-Index:``, ``PrevNode.Value:`` (when
  there is a previous node), ``TTL:``, ``Index:``, then a blank line and the value;
- ``json``: the response as the Go client marshals it (``{"action","node","prevNode"}``, compact,
  HTML-safe escapes).

All functions are thread-safe as long as each thread writes to its own stream.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TextIO

from etcdmap.models import Node
from etcdmap.v2.models import Response

__all__ = [
    "FORMATS",
    "format_expiration",
    "go_json",
    "node_to_go",
    "print_ls",
    "print_response",
    "response_to_go",
]

FORMATS = ("simple", "extended", "json")
"""The values ``--output`` accepts."""

# Go's encoding/json escapes these even inside strings ("HTML-safe" output). They can only occur
# inside JSON strings, so a plain replacement on the encoded text is exact.
_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def go_json(obj: object) -> str:
    """Encode ``obj`` the way Go's ``json.Marshal`` does: compact, UTF-8, HTML-safe.

    :param obj: a JSON-serialisable value (dict key order is kept).
    :returns: the JSON text, without a trailing newline.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _GO_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def format_expiration(when: datetime) -> str:
    """Format an expiration time like Go's ``time.Time`` JSON (RFC 3339, UTC ``Z``).

    Go prints nanoseconds with trailing zeros trimmed; a :class:`~datetime.datetime` holds
    microseconds, so the last three digits etcd sent are lost.

    :param when: an aware or naive (taken as UTC) datetime.
    :returns: e.g. ``"2026-11-24T08:30:00.5Z"``.
    """
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond:06d}".rstrip("0")
    return text + "Z"


def node_to_go(node: Node) -> dict[str, object]:
    """The JSON object the Go client produces for one node (field order and omissions as in Go).

    :param node: the node.
    :returns: a dict ready for :func:`go_json`.
    """
    out: dict[str, object] = {"key": node.key}
    if node.dir:
        out["dir"] = True
    out["value"] = node.value or ""
    out["nodes"] = [node_to_go(child) for child in node.nodes] if node.nodes else None
    out["createdIndex"] = node.created_index
    out["modifiedIndex"] = node.modified_index
    if node.expiration is not None:
        out["expiration"] = format_expiration(node.expiration)
    if node.ttl:
        out["ttl"] = node.ttl
    return out


def response_to_go(response: Response) -> dict[str, object]:
    """The JSON object ``etcdctl -o json`` prints for a response.

    :param response: the response.
    :returns: ``{"action", "node", "prevNode"}`` (``null`` for a missing node).
    """
    return {
        "action": response.action,
        "node": None if response.node is None else node_to_go(response.node),
        "prevNode": None if response.prev_node is None else node_to_go(response.prev_node),
    }


def print_response(response: Response, output: str, out: TextIO) -> None:
    """Print a keys response in one of :data:`FORMATS` (``etcdctl``'s ``printResponseKey``).

    :param response: the response to print.
    :param output: ``"simple"``, ``"extended"`` or ``"json"``.
    :param out: the stream to write to.
    :raises ValueError: for an unknown format.
    """
    node = response.node if response.node is not None else Node(key="")
    if output == "simple":
        if response.action != "delete":
            print(node.value or "", file=out)
        else:
            print("PrevNode.Value:", _prev_value(response), file=out)
    elif output == "extended":
        print("Key:", node.key, file=out)
        print("Created-Index:", node.created_index, file=out)
        print("Modified-Index:", node.modified_index, file=out)
        if response.prev_node is not None:
            print("PrevNode.Value:", _prev_value(response), file=out)
        print("TTL:", node.ttl or 0, file=out)
        print("Index:", response.index, file=out)
        if response.action != "delete":
            print(file=out)
            print(node.value or "", file=out)
    elif output == "json":
        print(go_json(response_to_go(response)), file=out)
    else:
        raise ValueError(f"unsupported output format: {output!r}")


def _prev_value(response: Response) -> str:
    prev = response.prev_node
    return "" if prev is None or prev.value is None else prev.value


def print_ls(response: Response, output: str, out: TextIO, *, slash_dirs: bool = False) -> None:
    """Print the answer of ``ls`` (``etcdctl``'s ``printLs``).

    In ``simple`` format a file prints its own key, a directory prints the keys of its children
    (depth-first, as listed); ``slash_dirs`` appends ``/`` to directories (``ls -p``). The other
    formats print the whole response as :func:`print_response` does.

    :param response: the answer of a (possibly recursive) get.
    :param output: one of :data:`FORMATS`.
    :param out: the stream to write to.
    :param slash_dirs: append ``/`` to directory keys.
    :raises ValueError: for an unknown format.
    """
    if output != "simple":
        print_response(response, output, out)
        return
    node = response.node
    if node is None:
        return
    if not node.dir:
        print(node.key, file=out)
    stack = list(reversed(node.nodes))
    while stack:
        child = stack.pop()
        print(f"{child.key}/" if child.dir and slash_dirs else child.key, file=out)
        stack.extend(reversed(child.nodes))
