"""Run the blocking clients' own API methods on asyncio I/O: one copy of every API call.

An API class of the blocking clients (:class:`~etcdmap.v2.keys.KeysAPI`,
:class:`~etcdmap.v3.kv.KV`...) builds each request and reads each answer in pure code, and does
its I/O through one object: the transport (``transport.request(...)``) or the v3 caller
(``caller.call(...)``), whose asyncio counterparts take the same arguments as coroutines. A
:class:`replayed` method of an :class:`AsyncAPI` runs the blocking method itself:

1. the method runs with a stand-in for its I/O object; its first I/O call stops it (a
   :class:`BaseException` the method does not catch) and is recorded -- the request is built
   and checked, so bad arguments raise here, before any I/O;
2. the recorded call goes to the asyncio object (``await caller.call(...)``);
3. the method runs again from the start: the stand-in gives back the recorded outcome (the
   answer, or the exception to raise) at that call, so the answer is read -- and errors are
   mapped -- by the blocking method's own code. A method making ``n`` calls runs ``n + 1``
   times; building a request costs microseconds, a round trip far more.

A replayable method does nothing but pure work and calls of its I/O object, and asks the same
calls again when given the same outcomes (a call that differs on a rerun raises
:class:`RuntimeError`). The request/answer methods of the API classes are such; watchers,
leases kept alive, locks and elections are not (they wait, loop and keep state), and get
asyncio classes of their own over shared pure parts (see :mod:`etcdmap.aio`).

Thread-safety: an :class:`AsyncAPI` belongs to its client's event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

__all__ = ["AsyncAPI", "replayed"]

API = TypeVar("API")
P = ParamSpec("P")
R = TypeVar("R")


class _Call(BaseException):
    """Stops a blocking method at an I/O call that has no recorded outcome yet."""

    def __init__(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__(name)
        self.name = name
        self.args_ = args
        self.kwargs = kwargs


class _Outcome:
    """One recorded I/O call and what it gave."""

    __slots__ = ("call", "error", "traceback", "value")

    def __init__(self, call: _Call, value: object = None, error: Exception | None = None) -> None:
        self.call = call
        self.value = value
        self.error = error
        self.traceback: TracebackType | None = None if error is None else error.__traceback__

    def give(self) -> object:
        if self.error is not None:
            raise self.error.with_traceback(self.traceback)
        return self.value


class _StandIn:
    """The I/O object as a blocking method sees it during a replay: its I/O methods answer
    from the record (or stop the method); any other attribute is the real object's."""

    def __init__(self, real: object, calls: frozenset[str], record: list[_Outcome]) -> None:
        self._real = real
        self._calls = calls
        self._record = record
        self._next = 0

    def __getattr__(self, name: str) -> Any:
        if name in self._calls:
            return lambda *args, **kwargs: self._io(name, args, kwargs)
        return getattr(self._real, name)

    def _io(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
        index = self._next
        self._next += 1
        if index == len(self._record):
            raise _Call(name, args, kwargs)
        outcome = self._record[index]
        call = outcome.call
        if (call.name, call.args_, call.kwargs) != (name, args, kwargs):
            raise RuntimeError(f"a replayed method asked for another I/O call on its rerun "
                               f"({name} instead of {call.name}): it is not replayable")
        return outcome.give()


class AsyncAPI(Generic[API]):
    """Base of an asyncio API class whose methods are :class:`replayed` from the blocking API.

    :param io: the asyncio I/O object (an :class:`~etcdmap.aio.transport.AsyncTransport`, an
        :class:`~etcdmap.aio.v3.call.AsyncCaller`).
    :param make: builds the blocking API object over a stand-in for ``io``.
    :param calls: the names of ``io``'s I/O methods (coroutines taking the arguments of the
        blocking object's methods of the same names).
    """

    def __init__(self, io: object, make: Callable[[Any], API], calls: frozenset[str]) -> None:
        self._io = io
        self._make = make
        self._calls = calls

    async def replay(self, method: Callable[Concatenate[API, P], R], *args: P.args,
                     **kwargs: P.kwargs) -> R:
        """Run the blocking ``method`` with asyncio I/O (see the module docstring).

        :returns: what ``method`` returns.
        :raises Exception: what ``method`` raises (its own errors and those of the I/O).
        """
        record: list[_Outcome] = []
        while True:
            api = self._make(_StandIn(self._io, self._calls, record))
            try:
                return method(api, *args, **kwargs)
            except _Call as call:
                try:
                    value = await getattr(self._io, call.name)(*call.args_, **call.kwargs)
                except Exception as exc:
                    record.append(_Outcome(call, error=exc))
                else:
                    record.append(_Outcome(call, value=value))


class replayed(Generic[API, P, R]):
    """A blocking API method as a coroutine method of an :class:`AsyncAPI` (same parameters,
    same docstring, same errors).

    :param method: the blocking method, e.g. ``KeysAPI.get``.
    """

    def __init__(self, method: Callable[Concatenate[API, P], R]) -> None:
        self.method = method
        self.__doc__ = method.__doc__
        self.__name__ = getattr(method, "__name__", "method")

    @overload
    def __get__(self, obj: None, owner: type) -> replayed[API, P, R]: ...

    @overload
    def __get__(self, obj: AsyncAPI[Any], owner: type) -> Callable[P, Coroutine[Any, Any, R]]: ...

    def __get__(self, obj: AsyncAPI[Any] | None,
                owner: type) -> replayed[API, P, R] | Callable[P, Coroutine[Any, Any, R]]:
        if obj is None:
            return self
        method = self.method

        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return await obj.replay(method, *args, **kwargs)

        call.__name__ = self.__name__
        call.__doc__ = self.__doc__
        return call
