"""python-etcd3's txn compares and operations (``etcd3.transactions``), built into etcdmap's.

``client.transactions.value(key) == b"v"`` gives a compare; ``client.transactions.put(k, v)``
an operation, as in python-etcd3. :meth:`BaseCompare.build_message` returns a
:class:`CompareMessage` with the protobuf field names; :meth:`to_core` gives the
:class:`etcdmap.v3.Compare` / :class:`etcdmap.v3.Op` that the client sends.

Thread-safety: a compare is mutated by its operator (as in python-etcd3); build each in the
thread that uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from etcdmap.compat.etcd3 import utils
from etcdmap.compat.etcd3.etcdrpc import Compare as RpcCompare
from etcdmap.v3.txn import Compare as CoreCompare
from etcdmap.v3.txn import Op

__all__ = [
    "BaseCompare",
    "CompareMessage",
    "Create",
    "Delete",
    "Get",
    "Mod",
    "Put",
    "Txn",
    "Value",
    "Version",
    "ops_to_core",
]

_OPERATORS = {RpcCompare.EQUAL: "==", RpcCompare.NOT_EQUAL: "!=", RpcCompare.LESS: "<",
              RpcCompare.GREATER: ">"}


@dataclass(frozen=True)
class CompareMessage:
    """A compare as python-etcd3's protobuf ``Compare`` spelled it (``.target``, ``.result``).

    :ivar target: :attr:`etcdrpc.Compare.VALUE <etcdmap.compat.etcd3.etcdrpc.Compare>` etc.
    :ivar result: :attr:`etcdrpc.Compare.EQUAL` etc.
    """

    key: bytes
    range_end: bytes
    target: int
    result: int
    operand: Any


class BaseCompare:
    """A condition on a key (or every key of ``[key, range_end)``), completed by an operator.

    :param key: the key.
    :param range_end: the exclusive end of a range of keys (``None``: the key alone).
    """

    target: int = -1

    def __init__(self, key: str | bytes, range_end: str | bytes | None = None) -> None:
        self.key = key
        self.range_end = range_end
        self.value: Any = None
        self.op: int | None = None

    def _set(self, other: Any, op: int) -> BaseCompare:
        self.value = other
        self.op = op
        return self

    def __eq__(self, other: Any) -> BaseCompare:  # type: ignore[override]
        return self._set(other, RpcCompare.EQUAL)

    def __ne__(self, other: Any) -> BaseCompare:  # type: ignore[override]
        return self._set(other, RpcCompare.NOT_EQUAL)

    def __lt__(self, other: Any) -> BaseCompare:
        return self._set(other, RpcCompare.LESS)

    def __gt__(self, other: Any) -> BaseCompare:
        return self._set(other, RpcCompare.GREATER)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        keys = self.key if self.range_end is None else f"[{self.key!r}, {self.range_end!r})"
        op = _OPERATORS.get(RpcCompare.CompareResult(self.op)) if self.op is not None else None
        return f"{type(self)}: {keys!r} {op} '{self.value!r}'"

    def _operand(self) -> Any:
        return int(self.value)

    def build_message(self) -> CompareMessage:
        """The compare with protobuf's field names.

        :raises ValueError: no operator was applied yet.
        """
        if self.op is None:
            raise ValueError("op must be one of =, !=, < or >")
        end = b"" if self.range_end is None else utils.to_bytes(self.range_end)
        return CompareMessage(utils.to_bytes(self.key), end, self.target, self.op, self._operand())

    def to_core(self) -> CoreCompare:
        """The :class:`etcdmap.v3.Compare` the client sends.

        :raises ValueError: no operator was applied yet, or a bad operand.
        """
        msg = self.build_message()
        end = msg.range_end or None
        op = _OPERATORS[RpcCompare.CompareResult(msg.result)]
        builders = {RpcCompare.VALUE: CoreCompare.value, RpcCompare.VERSION: CoreCompare.version,
                    RpcCompare.CREATE: CoreCompare.create, RpcCompare.MOD: CoreCompare.mod}
        build: Any = builders[RpcCompare.CompareTarget(self.target)]
        compare: CoreCompare = build(msg.key, op, msg.operand, range_end=end)
        return compare


class Value(BaseCompare):
    """Compare the value (str or bytes)."""

    target = RpcCompare.VALUE

    def _operand(self) -> Any:
        return utils.to_bytes(self.value)


class Version(BaseCompare):
    """Compare the version (0: the key does not exist)."""

    target = RpcCompare.VERSION


class Create(BaseCompare):
    """Compare the create revision (0: the key does not exist)."""

    target = RpcCompare.CREATE


class Mod(BaseCompare):
    """Compare the mod revision."""

    target = RpcCompare.MOD


class Put:
    """A put in a txn. ``lease``: a :class:`~etcdmap.compat.etcd3.leases.Lease` or an ID."""

    def __init__(self, key: str | bytes, value: str | bytes, lease: Any = None,
                 prev_kv: bool = False) -> None:
        self.key = key
        self.value = value
        self.lease = lease
        self.prev_kv = prev_kv


class Get:
    """A read in a txn (of ``[key, range_end)`` when ``range_end`` is given)."""

    def __init__(self, key: str | bytes, range_end: str | bytes | None = None) -> None:
        self.key = key
        self.range_end = range_end


class Delete:
    """A delete in a txn (of ``[key, range_end)`` when ``range_end`` is given)."""

    def __init__(self, key: str | bytes, range_end: str | bytes | None = None,
                 prev_kv: bool = False) -> None:
        self.key = key
        self.range_end = range_end
        self.prev_kv = prev_kv


class Txn:
    """A nested txn."""

    def __init__(self, compare: Sequence[BaseCompare], success: Sequence[Any] | None = None,
                 failure: Sequence[Any] | None = None) -> None:
        self.compare = compare
        self.success = success
        self.failure = failure


def ops_to_core(ops: Sequence[Any] | None) -> list[Op]:
    """The :class:`etcdmap.v3.Op` of each python-etcd3 operation.

    :raises TypeError: ``ops`` is not iterable.
    :raises Exception: an element is not a Put, Get, Delete or Txn (as python-etcd3).
    """
    out: list[Op] = []
    for op in () if ops is None else ops:
        if isinstance(op, Put):
            out.append(Op.put(op.key, utils.to_bytes(op.value), lease=utils.lease_to_id(op.lease),
                              prev_kv=bool(op.prev_kv)))
        elif isinstance(op, Get):
            out.append(Op.get(op.key, range_end=op.range_end))
        elif isinstance(op, Delete):
            out.append(Op.delete(op.key, range_end=op.range_end, prev_kv=bool(op.prev_kv)))
        elif isinstance(op, Txn):
            out.append(Op.txn([c.to_core() for c in op.compare], ops_to_core(op.success),
                              ops_to_core(op.failure)))
        else:
            raise Exception(f"Unknown request class {op.__class__}")  # noqa: TRY002, TRY004 - python-etcd3's
    return out
