"""Argument checks every layer shares (keys' TTLs)."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["check_ttl"]


def check_ttl(ttl: object) -> str:
    """Validate a TTL and return its wire form (whole seconds as a decimal string).

    etcd takes whole seconds; the Go client truncates ``0.5`` s to ``ttl=0``, which expires the
    key at once (etcd-io/etcd release-3.5: ``client/v2/keys.go``, ``int(opts.TTL.Seconds())``).
    etcdmap refuses such values instead.

    :param ttl: a positive ``int``, a float with no fractional part, or a
        :class:`~datetime.timedelta` of whole seconds.
    :raises ValueError: a bool, zero, a negative value or a fractional second.
    :raises TypeError: any other type.
    """
    if isinstance(ttl, bool):
        raise ValueError(  # noqa: TRY004 - contract: a bool TTL is a ValueError
            "ttl must be a number of seconds, not a bool"
        )
    if isinstance(ttl, timedelta):
        ttl = ttl.total_seconds()
    if isinstance(ttl, float):
        if not ttl.is_integer():
            raise ValueError(f"ttl must be whole seconds, got {ttl!r}")
        ttl = int(ttl)
    if not isinstance(ttl, int):
        raise TypeError(f"ttl must be an int number of seconds, not {type(ttl).__name__}")
    if ttl <= 0:
        raise ValueError(f"ttl must be a positive number of seconds, got {ttl}")
    return str(ttl)
