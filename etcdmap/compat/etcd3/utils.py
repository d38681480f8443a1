"""python-etcd3's ``etcd3.utils`` helpers.

Thread-safety: pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["increment_last_byte", "lease_to_id", "response_to_event_iterator", "to_bytes"]


def increment_last_byte(byte_string: bytes) -> bytes:
    """The key one past ``byte_string``'s last byte (python-etcd3's prefix end).

    The client itself computes prefix ends as etcd does (trailing ``0xff`` bytes dropped);
    this function keeps python-etcd3's behaviour, ``ValueError`` on a trailing ``0xff``.

    :raises ValueError: the last byte is ``0xff``.
    :raises IndexError: an empty string.
    """
    data = bytearray(byte_string)
    data[-1] = data[-1] + 1
    return bytes(data)


def to_bytes(maybe_bytestring: str | bytes) -> bytes:
    """``str`` encoded as UTF-8; ``bytes`` as they are.

    :raises AttributeError: neither (as python-etcd3).
    """
    if isinstance(maybe_bytestring, bytes):
        return maybe_bytestring
    return maybe_bytestring.encode("utf-8")


def lease_to_id(lease: Any) -> int:
    """The lease ID of a :class:`~etcdmap.compat.etcd3.leases.Lease`, an int, or ``None``
    (0: no lease)."""
    if hasattr(lease, "id"):
        return int(lease.id)
    try:
        return int(lease)
    except TypeError:
        return 0


def response_to_event_iterator(response_iterator: Iterable[Any]) -> Iterator[Any]:
    """The events of a watch's responses, one by one."""
    for response in response_iterator:
        yield from response.events
