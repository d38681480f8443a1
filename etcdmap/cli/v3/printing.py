"""What ``etcdctl`` 3.5 prints, as pure functions: Go's JSON of the v3 answers, Go's ``%q``,
the ``fields`` lines, tables, byte sizes and durations.

The shapes follow etcd-io/etcd release-3.5:etcdctl/ctlv3/command/printer_simple.go,
printer_json.go, printer_fields.go and printer_table.go. ``-w json`` is Go's ``json.Marshal``
of the gRPC answer structs: snake_case names from the proto, every zero value left out
(``omitempty``), 64-bit integers as JSON numbers, bytes as padded base64, and enums as their
numbers. The key-value printers (:func:`print_kv` and the ``fields`` lines) are shared by
``get``, ``put``, ``del``, ``txn``, ``watch``, ``lock`` and ``elect``.

Every function writes to the stream it is given: thread-safe as long as each thread has its
own stream.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from typing import TextIO

from etcdmap.cli.v2.printing import go_json
from etcdmap.v3.models import DeleteResponse, KeyValue, PutResponse, RangeResponse, ResponseHeader

__all__ = [
    "delete_json",
    "go_bool",
    "go_duration",
    "go_json",
    "go_quote",
    "header_fields",
    "header_json",
    "humanize_bytes",
    "kv_fields",
    "kv_json",
    "print_bytes",
    "print_kv",
    "print_table",
    "put_json",
    "range_json",
]

# Go's strconv.Quote escapes (etcd-io/etcd uses %q for keys and values in "fields").
_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def go_quote(data: bytes | str) -> str:
    """Go's ``%q`` of a string: double quotes, Go escapes, invalid UTF-8 as ``\\xNN``.

    :param data: the bytes (a key or value) or text.
    :returns: e.g. ``"a\\nb"``.
    """
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def header_json(header: ResponseHeader) -> dict[str, object]:
    """``pb.ResponseHeader`` as Go marshals it (zero fields left out).

    :param header: the answer's header.
    :returns: e.g. ``{"cluster_id": 1, "member_id": 2, "revision": 3, "raft_term": 2}``.
    """
    fields = (("cluster_id", header.cluster_id), ("member_id", header.member_id),
              ("revision", header.revision), ("raft_term", header.raft_term))
    return {name: value for name, value in fields if value}


def kv_json(kv: KeyValue) -> dict[str, object]:
    """``mvccpb.KeyValue`` as Go marshals it: base64 key and value, zero fields left out.

    :param kv: the key-value.
    """
    out: dict[str, object] = {}
    if kv.key:
        out["key"] = _b64(kv.key)
    for name, number in (("create_revision", kv.create_revision),
                         ("mod_revision", kv.mod_revision), ("version", kv.version)):
        if number:
            out[name] = number
    if kv.value:
        out["value"] = _b64(kv.value)
    if kv.lease:
        out["lease"] = kv.lease
    return out


def range_json(resp: RangeResponse) -> dict[str, object]:
    """``pb.RangeResponse`` (``get -w json``)."""
    out: dict[str, object] = {"header": header_json(resp.header)}
    if resp.kvs:
        out["kvs"] = [kv_json(kv) for kv in resp.kvs]
    if resp.more:
        out["more"] = True
    if resp.count:
        out["count"] = resp.count
    return out


def put_json(resp: PutResponse) -> dict[str, object]:
    """``pb.PutResponse`` (``put -w json``)."""
    out: dict[str, object] = {"header": header_json(resp.header)}
    if resp.prev_kv is not None:
        out["prev_kv"] = kv_json(resp.prev_kv)
    return out


def delete_json(resp: DeleteResponse) -> dict[str, object]:
    """``pb.DeleteRangeResponse`` (``del -w json``)."""
    out: dict[str, object] = {"header": header_json(resp.header)}
    if resp.deleted:
        out["deleted"] = resp.deleted
    if resp.prev_kvs:
        out["prev_kvs"] = [kv_json(kv) for kv in resp.prev_kvs]
    return out


def print_bytes(data: bytes, out: TextIO) -> None:
    """One line holding ``data`` as is, as Go's ``fmt.Println(string(b))`` writes it.

    Text that the stream cannot encode (bytes that are not UTF-8) goes to its binary buffer
    unchanged; a stream without one gets U+FFFD in their place.
    """
    try:
        print(data.decode("utf-8", "surrogateescape"), file=out)
    except UnicodeEncodeError:
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            print(data.decode("utf-8", "replace"), file=out)
            return
        out.flush()
        buffer.write(data + b"\n")
        buffer.flush()


def print_kv(kv: KeyValue, out: TextIO, *, value_only: bool = False) -> None:
    """``printKV`` of the simple format: the key on one line, the value on the next.

    :param kv: the key-value.
    :param out: the stream.
    :param value_only: the value only (``--print-value-only``).
    """
    if not value_only:
        print_bytes(kv.key, out)
    print_bytes(kv.value, out)


def header_fields(header: ResponseHeader, out: TextIO) -> None:
    """The four header lines of ``-w fields``."""
    print('"ClusterID" :', header.cluster_id, file=out)
    print('"MemberID" :', header.member_id, file=out)
    print('"Revision" :', header.revision, file=out)
    print('"RaftTerm" :', header.raft_term, file=out)


def kv_fields(kv: KeyValue, out: TextIO, prefix: str = "") -> None:
    """The lines of one key-value in ``-w fields`` (``prefix`` ``"Prev"`` for a previous one)."""
    print(f'"{prefix}Key" : {go_quote(kv.key)}', file=out)
    print(f'"{prefix}CreateRevision" : {kv.create_revision}', file=out)
    print(f'"{prefix}ModRevision" : {kv.mod_revision}', file=out)
    print(f'"{prefix}Version" : {kv.version}', file=out)
    print(f'"{prefix}Value" : {go_quote(kv.value)}', file=out)
    print(f'"{prefix}Lease" : {kv.lease}', file=out)


def go_bool(value: bool) -> str:
    """Go's ``%v`` of a bool."""
    return "true" if value else "false"


def _centered(text: str, width: int) -> str:
    gap = width - len(text)
    left = gap // 2  # tablewriter's Pad: the odd space goes right
    return " " * left + text + " " * (gap - left)


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """A table as ``etcdctl -w table`` draws it (olekukonko/tablewriter v0.0.5, its defaults
    and ``ALIGN_RIGHT``): upper-case centred titles, right-aligned cells, ``+---+`` borders.

    Cells are not wrapped (tablewriter wraps cells over 30 characters at spaces; etcdctl's
    cells are URLs, IDs and numbers, without spaces, except an alarm list in ``errors``).

    :param header: the column titles.
    :param rows: the cells, row by row.
    :param out: the stream.
    """
    titles = [h.replace("_", " ").strip().upper() for h in header]
    widths = [max([len(t), *(len(r[i]) for r in rows)]) for i, t in enumerate(titles)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    print(rule, file=out)
    print("|" + "|".join(f" {_centered(t, w)} " for t, w in zip(titles, widths, strict=True)) + "|", file=out)
    print(rule, file=out)
    for row in rows:
        print("|" + "|".join(f" {c.rjust(w)} " for c, w in zip(row, widths, strict=True)) + "|", file=out)
    print(rule, file=out)


_SIZES = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def humanize_bytes(size: int) -> str:
    """go-humanize 1.0's ``Bytes``: SI units, e.g. ``20480`` -> ``"20 kB"``.

    :param size: a byte count.
    """
    if size < 10:
        return f"{size} B"
    exp = math.floor(math.log(size) / math.log(1000))
    value = math.floor(size / 1000**exp * 10 + 0.5) / 10
    return f"{value:.0f} {_SIZES[exp]}" if value >= 10 else f"{value:.1f} {_SIZES[exp]}"


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String``, e.g. ``0.003198522`` -> ``"3.198522ms"``.

    :param seconds: a non-negative duration.
    """
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    if nanos < 1_000:
        return f"{nanos}ns"
    for unit, scale in (("µs", 1_000), ("ms", 1_000_000)):
        if nanos < scale * 1_000:
            whole, frac = divmod(nanos, scale)
            digits = f"{frac:0{len(str(scale)) - 1}d}".rstrip("0")
            return f"{whole}.{digits}{unit}" if digits else f"{whole}{unit}"
    whole, frac = divmod(nanos, 1_000_000_000)
    digits = f"{frac:09d}".rstrip("0")
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{secs}.{digits}s" if digits else f"{secs}s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text
