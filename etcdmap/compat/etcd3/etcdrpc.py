"""The public names of python-etcd3's ``etcd3.etcdrpc`` that code uses without gRPC.

python-etcd3 re-exported its generated protobuf module here; programs use it for the enum
values: alarm types (``etcdrpc.NOSPACE``), watch filters
(``etcdrpc.WatchCreateRequest.FilterType.NOPUT`` or ``etcdrpc.WatchCreateRequest.NOPUT``),
sort orders and targets, compare results and targets. Those are here, with the numbers of
etcd's ``rpc.proto`` (etcd-io/etcd release-3.5:api/etcdserverpb/rpc.proto) and ``kv.proto``,
as :class:`ProtoEnum` classes (``IntEnum`` with protobuf's ``Name()``/``Value()``). The
message classes and gRPC stubs are not: nothing here speaks gRPC.

Thread-safety: immutable.
"""

from __future__ import annotations

import enum

__all__ = [
    "CORRUPT",
    "NONE",
    "NOSPACE",
    "AlarmRequest",
    "AlarmType",
    "Compare",
    "Event",
    "ProtoEnum",
    "RangeRequest",
    "WatchCreateRequest",
]


class ProtoEnum(enum.IntEnum):
    """An enum with protobuf's ``EnumTypeWrapper`` helpers."""

    @classmethod
    def Name(cls, number: int) -> str:
        """The name of a value (``ValueError`` if unknown)."""
        return cls(number).name

    @classmethod
    def Value(cls, name: str) -> int:
        """The value of a name (``ValueError`` if unknown)."""
        try:
            return int(cls[name])
        except KeyError:
            raise ValueError(f"enum {cls.__name__} has no value named {name!r}") from None

    @classmethod
    def keys(cls) -> list[str]:
        """The names, in value order."""
        return [m.name for m in cls]

    @classmethod
    def values(cls) -> list[int]:
        """The values."""
        return [int(m) for m in cls]

    @classmethod
    def items(cls) -> list[tuple[str, int]]:
        """``(name, value)`` pairs."""
        return [(m.name, int(m)) for m in cls]


class AlarmType(ProtoEnum):
    """``etcdserverpb.AlarmType``."""

    NONE = 0
    NOSPACE = 1
    CORRUPT = 2


NONE = AlarmType.NONE
NOSPACE = AlarmType.NOSPACE
CORRUPT = AlarmType.CORRUPT


class RangeRequest:
    """``RangeRequest``'s enums (``RangeRequest.ASCEND``, ``RangeRequest.SortTarget.MOD``...)."""

    class SortOrder(ProtoEnum):
        NONE = 0
        ASCEND = 1
        DESCEND = 2

    class SortTarget(ProtoEnum):
        KEY = 0
        VERSION = 1
        CREATE = 2
        MOD = 3
        VALUE = 4

    NONE = SortOrder.NONE
    ASCEND = SortOrder.ASCEND
    DESCEND = SortOrder.DESCEND
    KEY = SortTarget.KEY
    VERSION = SortTarget.VERSION
    CREATE = SortTarget.CREATE
    MOD = SortTarget.MOD
    VALUE = SortTarget.VALUE


class Compare:
    """``Compare``'s enums (``Compare.EQUAL``, ``Compare.VALUE``...)."""

    class CompareResult(ProtoEnum):
        EQUAL = 0
        GREATER = 1
        LESS = 2
        NOT_EQUAL = 3

    class CompareTarget(ProtoEnum):
        VERSION = 0
        CREATE = 1
        MOD = 2
        VALUE = 3
        LEASE = 4

    EQUAL = CompareResult.EQUAL
    GREATER = CompareResult.GREATER
    LESS = CompareResult.LESS
    NOT_EQUAL = CompareResult.NOT_EQUAL
    VERSION = CompareTarget.VERSION
    CREATE = CompareTarget.CREATE
    MOD = CompareTarget.MOD
    VALUE = CompareTarget.VALUE
    LEASE = CompareTarget.LEASE


class WatchCreateRequest:
    """``WatchCreateRequest``'s filter enum (pass a list of them as ``filters=``)."""

    class FilterType(ProtoEnum):
        NOPUT = 0
        NODELETE = 1

    NOPUT = FilterType.NOPUT
    NODELETE = FilterType.NODELETE


class AlarmRequest:
    """``AlarmRequest``'s action enum."""

    class AlarmAction(ProtoEnum):
        GET = 0
        ACTIVATE = 1
        DEACTIVATE = 2

    GET = AlarmAction.GET
    ACTIVATE = AlarmAction.ACTIVATE
    DEACTIVATE = AlarmAction.DEACTIVATE


class Event:
    """``mvccpb.Event``'s type enum."""

    class EventType(ProtoEnum):
        PUT = 0
        DELETE = 1

    PUT = EventType.PUT
    DELETE = EventType.DELETE
