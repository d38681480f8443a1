"""The file of ``etcdmap dump`` / ``etcdmap load`` (no I/O but the file): format, planning, progress.

The dump format is one JSON object::

    {"etcdmap_dump": 1, "path": "/config", "index": 1234,
     "nodes": [{"key": "", "dir": true},
               {"key": "db", "dir": true},
               {"key": "db/host", "value": "h"},
               {"key": "lock", "value": "x", "ttl": 30}]}

``nodes`` lists every directory and value of the tree in pre-order (a parent before its
children), with keys relative to ``path`` (``""`` is ``path`` itself, which may be a single value).
``ttl`` (remaining seconds at dump time) is there only with ``dump --ttl``, which also writes
``"dumped_at"`` (Unix time, seconds): ``load`` then subtracts the time since the dump from each
TTL and leaves out the keys whose TTL ran out meanwhile (they would have expired on the source
too; the two machines' clocks are compared, so keep them in sync). ``"api"`` (``"v2"`` or
``"v3"``) says where the dump was read. Both fields are optional: a dump without them loads as
before. A flat list keeps the format exact: empty directories, directory TTLs and any key name
survive a round trip. Hidden keys (a path element starting with ``_``) are not listed by etcd,
so they are not dumped.

A value that is not UTF-8 text (bytes another client stored on etcd v3, which etcdmap reads as
text with surrogate escapes) is written as ``"value_b64"`` (standard base64 of its bytes)
instead of ``"value"``, so that any value round-trips; files without it load as before. Such
values load only on a store that keeps bytes (v3); keys must be UTF-8 text.

``load`` writes the entries under another path. Without ``--force`` it refuses, before writing
anything, when a value would overwrite an existing key, and it writes with create-only requests,
so a key that appears meanwhile is not overwritten either. ``--dry-run`` prints the plan only.
A progress bar is drawn on stderr for large trees, only when stderr is a terminal.

One run serves one thread.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import TextIO

from etcdmap.cli.common import EXIT_BAD_ARGS, CommandError, Context
from etcdmap.mapping.codecs import is_text
from etcdmap.models import Node

__all__ = [
    "FORMAT_VERSION",
    "Entry",
    "Progress",
    "age_entries",
    "check_storable",
    "describe_value",
    "dump_age",
    "dump_document",
    "entries_from_node",
    "parse_document",
    "plan_load",
    "read_document",
    "write_document",
]

FORMAT_VERSION = 1
PROGRESS_MIN = 200
"""Trees with fewer entries get no progress bar."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One node of a dump.

    :ivar key: the key relative to the dumped path (``""``: the path itself).
    :ivar value: the value of a file; ``None`` for a directory.
    :ivar ttl: remaining seconds to live, or ``None``.
    """

    key: str
    value: str | None = None
    ttl: int | None = None

    @property
    def dir(self) -> bool:
        """``True`` for a directory."""
        return self.value is None

    def to_json(self) -> dict[str, object]:
        """The entry as it appears in the dump's ``nodes`` list."""
        out: dict[str, object] = {"key": self.key}
        if self.value is None:
            out["dir"] = True
        elif is_text(self.value):
            out["value"] = self.value
        else:
            out["value_b64"] = base64.b64encode(_raw(self.value)).decode("ascii")
        if self.ttl is not None:
            out["ttl"] = self.ttl
        return out


def _raw(text: str) -> bytes:
    """The bytes of a value read from the store (surrogate escapes back to their bytes)."""
    return text.encode("utf-8", "surrogateescape")


def describe_value(value: str) -> str:
    """A value as ``load --dry-run`` shows it: JSON text, or its size when it is not UTF-8.

    :param value: an entry's value.
    """
    if is_text(value):
        return json.dumps(value, ensure_ascii=False)
    return f"({len(_raw(value))} bytes, not UTF-8)"


def entries_from_node(root: Node, *, with_ttl: bool = False) -> list[Entry]:
    """Flatten a recursively read node into dump entries, in pre-order.

    :param root: the node of the dumped path, read with ``recursive=True``.
    :param with_ttl: keep remaining TTLs.
    :returns: the entries, ``root`` first with key ``""``.
    :raises CommandError: a key is not UTF-8 text (the dump keeps keys as text).
    """
    base = root.key.rstrip("/")
    entries: list[Entry] = []
    stack = [root]
    while stack:
        node = stack.pop()
        rel = node.key[len(base) :].lstrip("/") if node is not root else ""
        if not is_text(node.key):
            raise CommandError(
                f"Error:  the key {node.key!r} is not UTF-8 text (written by another v3 "
                "client): dump keeps keys as text; rename it, or dump a path without it",
                EXIT_BAD_ARGS,
            )
        ttl = node.ttl if with_ttl else None
        entries.append(Entry(rel, None if node.dir else (node.value or ""), ttl))
        stack.extend(reversed(node.nodes))
    return entries


def dump_document(
    path: str, index: int, entries: list[Entry], *, dumped_at: float | None = None,
    api: str | None = None,
) -> dict[str, object]:
    """The JSON document ``dump`` prints.

    :param path: the dumped path.
    :param index: the store index the tree was read at (v3: the revision).
    :param entries: from :func:`entries_from_node`.
    :param dumped_at: when the TTLs were read (Unix time), for ``load`` to age them.
    :param api: the API the tree was read on.
    :returns: a JSON-serialisable dict.
    """
    doc: dict[str, object] = {"etcdmap_dump": FORMAT_VERSION, "path": path, "index": index}
    if api is not None:
        doc["api"] = api
    if dumped_at is not None:
        doc["dumped_at"] = round(dumped_at, 3)
    doc["nodes"] = [e.to_json() for e in entries]
    return doc


def dump_age(data: object, now: float) -> float:
    """Seconds since a parsed dump was written (0 when it has no valid ``dumped_at``).

    :param data: the decoded JSON (already checked by :func:`parse_document`).
    :param now: the current Unix time.
    """
    when = data.get("dumped_at") if isinstance(data, dict) else None
    if isinstance(when, bool) or not isinstance(when, (int, float)):
        return 0.0
    return max(0.0, now - float(when))


def age_entries(entries: list[Entry], age: float) -> tuple[list[Entry], list[Entry]]:
    """Take ``age`` seconds off every TTL.

    :param entries: the dump's entries.
    :param age: seconds since the dump (from :func:`dump_age`).
    :returns: ``(kept, expired)``: the entries with their remaining TTLs, and those whose TTL
        ran out (with everything below an expired directory).
    """
    kept: list[Entry] = []
    expired: list[Entry] = []
    gone: list[str] = []  # expired directories: their descendants go too
    whole = int(age)
    for entry in entries:
        if any(entry.key == g or entry.key.startswith(f"{g}/") or g == "" for g in gone):
            expired.append(entry)
        elif entry.ttl is None or whole == 0:
            kept.append(entry)
        elif entry.ttl - whole <= 0:
            expired.append(entry)
            if entry.dir:
                gone.append(entry.key)
        else:
            kept.append(Entry(entry.key, entry.value, entry.ttl - whole))
    return kept, expired


def write_document(out: TextIO, document: dict[str, object]) -> None:
    """Write a dump document as JSON with one line per node (readable, and diffs well).

    :param out: the stream.
    :param document: from :func:`dump_document`.
    """
    nodes = document.get("nodes")
    assert isinstance(nodes, list)
    head = {k: v for k, v in document.items() if k != "nodes"}
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "nodes": [')
    for i, node in enumerate(nodes):
        out.write(("\n " if i == 0 else ",\n ") + json.dumps(node, ensure_ascii=False))
    out.write("\n]}\n")


def parse_document(data: object) -> list[Entry]:
    """Validate a dump document and return its entries.

    :param data: the decoded JSON.
    :returns: the entries, in file order.
    :raises ValueError: not an etcdmap dump, or a malformed entry.
    """
    if not isinstance(data, dict) or data.get("etcdmap_dump") != FORMAT_VERSION:
        raise ValueError(f"not an etcdmap dump (version {FORMAT_VERSION})")
    nodes = data.get("nodes")
    if not isinstance(nodes, list):
        raise ValueError("the dump has no 'nodes' list")  # noqa: TRY004 (bad input data)
    entries = []
    for i, item in enumerate(nodes):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise ValueError(f"entry #{i} has no string 'key'")  # noqa: TRY004
        value = item.get("value")
        encoded = item.get("value_b64")
        is_dir = item.get("dir") is True
        if [is_dir, isinstance(value, str), isinstance(encoded, str)].count(True) != 1:
            raise ValueError(
                f"entry #{i} ({item['key']!r}) needs exactly one of value, value_b64 or dir")
        if isinstance(encoded, str):
            try:
                value = base64.b64decode(encoded, validate=True).decode("utf-8", "surrogateescape")
            except (binascii.Error, ValueError) as exc:
                raise ValueError(f"entry #{i} ({item['key']!r}): value_b64 is not base64") from exc
        ttl = item.get("ttl")
        if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0):
            raise ValueError(f"entry #{i} ({item['key']!r}) has an invalid ttl")
        entries.append(Entry(item["key"], None if is_dir else value, ttl))
    return entries


def check_storable(entries: list[Entry], capabilities: Collection[str], store: str) -> None:
    """Refuse, before anything is written, values the store cannot keep: on a store without
    ``"bytes"`` (v2), a value that is not UTF-8 text.

    :param entries: the dump's entries.
    :param capabilities: the store's capabilities.
    :param store: the store's name, for the message.
    :raises CommandError: such a value (exit 1).
    """
    if "bytes" in capabilities:
        return
    binary = [e.key or "(the path itself)" for e in entries
              if e.value is not None and not is_text(e.value)]
    if binary:
        shown = ", ".join(binary[:10]) + (", ..." if len(binary) > 10 else "")
        raise CommandError(
            f"Error:  {len(binary)} value(s) of the dump are not UTF-8 text, which the {store} "
            f"API cannot store: {shown} (load them with --api v3)",
            EXIT_BAD_ARGS,
        )


def _target(dest: str, rel: str) -> str:
    base = dest.rstrip("/")
    if not rel:
        return base or "/"
    return f"{base}/{rel}"


def plan_load(
    entries: list[Entry], dest: str, existing: dict[str, bool]
) -> tuple[list[tuple[str, Entry]], list[str]]:
    """Decide what ``load`` writes and what it would overwrite.

    :param entries: the dump's entries.
    :param dest: the destination path.
    :param existing: the keys under ``dest`` now, key -> is a directory.
    :returns: ``(writes, conflicts)``: ``writes`` are ``(absolute key, entry)`` to apply in
        order (a directory that already exists is kept as is); ``conflicts``
        are the existing keys a value (or a directory over a file) would overwrite.
    """
    writes: list[tuple[str, Entry]] = []
    conflicts: list[str] = []
    for entry in entries:
        key = _target(dest, entry.key)
        if key in existing:
            if entry.dir and existing[key]:
                # Merge into an existing directory, keeping its TTL: updating a directory's
                # TTL fails on etcd 3.5 (DirectoryTTLUnsupported).
                continue
            conflicts.append(key)
        if key == "/" and entry.dir:
            continue  # the root always exists and cannot be written
        writes.append((key, entry))
    return writes, conflicts


class Progress:
    """A one-line progress bar on a terminal stream; silent on anything else or small totals.

    Not thread-safe: one writer.

    :param stream: where to draw (normally stderr).
    :param total: the number of steps.
    :param label: the text before the bar.
    """

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int, label: str) -> None:
        self._stream = stream
        self._total = total
        self._label = label
        self._done = 0
        self._shown = -1
        self.active = total >= PROGRESS_MIN and stream.isatty()

    def render(self) -> str:
        """The bar's current text (without the leading carriage return)."""
        filled = self.WIDTH * self._done // max(self._total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return f"{self._label} [{bar}] {self._done}/{self._total}"

    def step(self, n: int = 1) -> None:
        """Advance by ``n`` steps, redrawing at most once per percent."""
        self._done += n
        percent = 100 * self._done // max(self._total, 1)
        if self.active and percent != self._shown:
            self._shown = percent
            self._stream.write("\r" + self.render())
            self._stream.flush()

    def finish(self) -> None:
        """End the line (only if a bar was drawn)."""
        if self.active and self._shown >= 0:
            self._stream.write("\n")
            self._stream.flush()


def read_document(ctx: Context, name: str) -> list[Entry]:
    """Read a dump file (``-``: stdin), with TTLs aged by the time since the dump; keys whose
    TTL ran out are left out and counted on stderr.

    :raises CommandError: not a valid dump (exit 1).
    """
    try:
        if name == "-":
            data = json.load(ctx.stdin)
        else:
            with open(name, encoding="utf-8") as f:
                data = json.load(f)
        entries = parse_document(data)
    except ValueError as exc:
        raise CommandError(f"Error:  {name}: {exc}", EXIT_BAD_ARGS) from exc
    entries, expired = age_entries(entries, dump_age(data, time.time()))
    if expired:
        print(f"skipped {len(expired)} key(s) whose TTL ran out since the dump", file=ctx.stderr)
    return entries


