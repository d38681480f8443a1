"""A member's backend snapshot, streamed to a file (``/v3/maintenance/snapshot``).

etcd streams the database in 32 KiB chunks (``{"result": {"remaining_bytes": N, "blob": b64}}``
lines, the last data chunk with ``remaining_bytes`` 0), then one more message whose blob is
the SHA-256 of all the data (etcd-io/etcd release-3.5:server/etcdserver/api/v3rpc/maintenance.go,
``Snapshot``). :func:`save_snapshot` writes what ``etcdctl snapshot save`` writes -- the data
followed by that digest, which ``etcdutl snapshot restore`` checks -- and:

- never holds the snapshot in memory: each chunk goes to disk as it arrives;
- checks the digest against the data received before the snapshot counts as written;
- writes to a temporary file first: a path is renamed into place only once the snapshot is
  complete and checked (a failure never leaves a partial file there); a binary file object
  receives the bytes only then, copied from the temporary file.

Thread-safety: one call per thread; the caller is thread-safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import IO, BinaryIO

from etcdmap.errors import DeadlineExceeded, InvalidResponseError
from etcdmap.http.defaults import DEFAULT, CallTimeout
from etcdmap.v3.caller import Caller
from etcdmap.v3.errors import error_from_body
from etcdmap.v3.wire import as_int, unb64

__all__ = ["DIGEST_SIZE", "SnapshotTarget", "save_snapshot"]

DIGEST_SIZE = hashlib.sha256().digest_size
"""The bytes etcd appends to a snapshot: the SHA-256 of the data before it."""

SnapshotTarget = str | os.PathLike[str] | BinaryIO
"""Where a snapshot goes: a path, or a binary file object open for writing."""

_STALL = 30.0
"""Seconds of silence allowed between chunks when the call has no deadline."""


def _chunk(line: bytes) -> tuple[bytes, int]:
    """The blob and ``remaining_bytes`` of one line of the stream.

    :raises V3Error: the line is the stream's error line.
    :raises InvalidResponseError: not a snapshot message.
    """
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise InvalidResponseError(f"a snapshot line is not JSON: {line[:80]!r}") from exc
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        error = error_from_body(0, line)
        if error is not None:
            raise error
        raise InvalidResponseError(f"a snapshot line has no result: {line[:80]!r}")
    return unb64(result.get("blob"), "blob"), as_int(result.get("remaining_bytes"), "remaining_bytes")


def _receive(lines: Iterable[bytes], out: IO[bytes], endpoint: str,
             tick: Callable[[], object]) -> int:
    """Copy the stream's data to ``out``, check the digest, append it.

    :param tick: called after each line (checks the deadline, sets the next read's wait).
    :returns: the bytes written (data and digest).
    """
    digest = hashlib.sha256()
    written = 0
    expected: bytes | None = None
    data_done = False
    for line in lines:
        blob, remaining = _chunk(line)
        tick()
        if data_done:
            if expected is not None:
                raise InvalidResponseError(f"{endpoint} sent more after the snapshot's digest")
            expected = blob
            continue
        out.write(blob)
        digest.update(blob)
        written += len(blob)
        data_done = remaining == 0
    if not data_done:
        raise InvalidResponseError(
            f"the snapshot stream from {endpoint} ended after {written} bytes, before its end")
    if expected is None or len(expected) != DIGEST_SIZE:
        raise InvalidResponseError(f"the snapshot from {endpoint} came without its SHA-256")
    if expected != digest.digest():
        raise InvalidResponseError(
            f"the snapshot from {endpoint} does not match its SHA-256 ({written} bytes "
            "received): it was corrupted on the way; nothing was written")
    out.write(expected)
    return written + DIGEST_SIZE


def save_snapshot(
    caller: Caller, dest: SnapshotTarget, *, endpoint: str | None = None,
    timeout: CallTimeout = DEFAULT,
) -> int:
    """Stream a member's snapshot to ``dest`` (see the module docstring).

    :param caller: the client's call layer.
    :param dest: a path (written through a temporary file in its directory, then renamed)
        or a binary file object open for writing (written once the snapshot is checked).
    :param endpoint: the member to snapshot (default: the pinned one, with failover).
    :param timeout: the whole transfer's deadline (default: the client's; a big database
        needs more, or ``None``); without one, 30 s of silence still ends it.
    :returns: the bytes written: the database and its 32-byte SHA-256.
    :raises TypeError: ``dest`` is neither a path nor a writable binary file.
    :raises InvalidResponseError: the stream ended early or its digest does not match.
    :raises DeadlineExceeded: ``timeout`` ran out.
    :raises ClusterError: no member could be reached, or the stream broke.
    :raises OSError: ``dest`` cannot be written.
    """
    is_path = isinstance(dest, (str, os.PathLike))
    if not is_path and not callable(getattr(dest, "write", None)):
        raise TypeError(f"dest must be a path or a binary file, not {type(dest).__name__}")
    seconds = caller.transport.timeout if timeout is DEFAULT else timeout
    deadline = None if seconds is None else time.monotonic() + seconds

    def left() -> float:
        if deadline is None:
            return _STALL
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded(f"the snapshot did not finish within {seconds} s")
        return min(remaining, _STALL)

    target = os.fspath(dest) if is_path else ""  # type: ignore[arg-type]
    if is_path:
        directory = os.path.dirname(os.path.abspath(target))
        fd, tmp_path = tempfile.mkstemp(prefix=".snapshot-", suffix=".part", dir=directory)
        spool: IO[bytes] = os.fdopen(fd, "w+b")
    else:
        tmp_path, spool = "", tempfile.TemporaryFile()  # noqa: SIM115 - the with below closes it
    try:
        with spool:
            stream = caller.stream("/v3/maintenance/snapshot", b"{}", read_timeout=left(),
                                   timeout=None if deadline is None else left(),
                                   endpoint=endpoint)
            with stream:
                written = _receive(stream.iter_lines(), spool, stream.endpoint,
                                   lambda: stream.set_read_timeout(left()))
            spool.flush()
            if is_path:
                os.fsync(spool.fileno())
            else:
                spool.seek(0)
                shutil.copyfileobj(spool, dest)  # type: ignore[arg-type]
        if is_path:
            os.replace(tmp_path, target)
    except BaseException:
        if tmp_path:
            with contextlib.suppress(OSError):
                os.unlink(tmp_path)
        raise
    return written
