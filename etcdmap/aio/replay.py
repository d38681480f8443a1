"""Run the blocking clients' own code on asyncio I/O: one copy of every call, map method and
backend operation.

The blocking code of etcdmap (an API class such as :class:`~etcdmap.v2.keys.KeysAPI` or
:class:`~etcdmap.v3.kv.KV`, a backend, :class:`~etcdmap.EtcdMap` itself) builds requests and
reads answers in pure code, and does its I/O through a few objects: the transport
(``transport.request(...)``), the v3 caller (``caller.call(...)``), the map's backend
(``backend.read(...)``), whose asyncio counterparts take the same arguments as coroutines.
:func:`replay` runs such blocking code with :class:`ReplayPort` objects in place of those I/O
objects:

1. the code runs; its first I/O call stops it (a :class:`BaseException` it does not handle)
   and is recorded on the call's :class:`Tape` -- the request is built and checked, so bad
   arguments raise here, before any I/O;
2. the recorded call goes to the asyncio object (``await caller.call(...)``);
3. the code runs again from the start: at that call the port gives back the recorded outcome
   (the answer, or the exception to raise), so the answer is read -- and errors are mapped --
   by the blocking code. Code making ``n`` calls runs ``n + 1`` times; building a request
   costs microseconds, a round trip far more.

Everything else a run touches through a port is recorded too, so that every run sees the same
world up to the point where it stops: an attribute (``transport.pinned``) is read once, a
method that is not I/O (``transport.set_endpoints(...)``) runs once, the clock of
:mod:`etcdmap._clock` (the deadline of a call spread over several requests) gives back its
first readings. Once a run has stopped, every further call through a port stops it again, so
``except BaseException`` / ``finally`` blocks that clean up do nothing on a run that is being
abandoned.

**Cancellation** at the await of a call is recorded as that call's outcome: the code runs once
more and meets :class:`asyncio.CancelledError` where it made the call, so its own cleanup for
an interrupted call (revoke a lease, withdraw a waiter) runs; the I/O of that cleanup is
awaited shielded from further cancellation and bounded by :data:`CLEANUP_SECONDS`; then the
cancellation propagates.

Replayable code does nothing but pure work and calls through its ports, and asks the same
calls again when given the same outcomes (a call that differs on a rerun raises
:class:`RuntimeError`). Waiting, looping and keeping state across calls (watches, kept-alive
leases, held locks) are not replayable and live on the blocking client's watch hub (see
:mod:`etcdmap.aio`).

Thread-safety: a replay runs in one task; ports may be shared by the tasks of one event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

from etcdmap import _clock

__all__ = ["CLEANUP_SECONDS", "AsyncAPI", "ReplayPort", "Tape", "replay", "replayed"]

API = TypeVar("API")
P = ParamSpec("P")
R = TypeVar("R")

CLEANUP_SECONDS = 10.0
"""The bound of the cleanup a cancelled call's code does (each of its I/O calls)."""

_TAPE: ContextVar[Tape | None] = ContextVar("etcdmap_replay_tape", default=None)


class _Call:
    """One I/O call a run stopped at: ``getattr(target, name)(*args, **kwargs)``, awaited."""

    __slots__ = ("args", "kwargs", "name", "target")

    def __init__(self, target: object, name: str, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self.target = target
        self.name = name
        self.args = args
        self.kwargs = kwargs

    def start(self) -> Coroutine[Any, Any, Any]:
        result = getattr(self.target, self.name)(*self.args, **self.kwargs)
        if not inspect.isawaitable(result):
            raise TypeError(f"{type(self.target).__name__}.{self.name} is not a coroutine "
                            "function: it cannot serve as the asyncio side of a port")
        return cast(Coroutine[Any, Any, Any], result)


class _Stop(BaseException):
    """Stops a run at an I/O call that has no recorded outcome yet (never seen outside)."""

    def __init__(self, call: _Call) -> None:
        super().__init__(call.name)
        self.call = call


class _Outcome:
    """One recorded step of a run: what was asked and what it gave."""

    __slots__ = ("args", "error", "kwargs", "name", "traceback", "value")

    def __init__(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                 value: object = None, error: BaseException | None = None) -> None:
        self.name = name
        self.args = args
        self.kwargs = kwargs
        self.value = value
        self.error = error
        self.traceback: TracebackType | None = None if error is None else error.__traceback__

    def give(self) -> object:
        if self.error is not None:
            raise self.error.with_traceback(self.traceback)
        return self.value


def _same(a: object, b: object) -> bool:
    """Whether two arguments of a call are the same request: equal values, or the same
    function (a bound method of the run's own copy of an object differs only by its object)."""
    if a is b:
        return True
    try:
        if a == b:
            return True
    except Exception:  # a type whose __eq__ refuses: compare as functions below
        pass
    func_a, func_b = getattr(a, "__func__", None), getattr(b, "__func__", None)
    return func_a is not None and func_a is func_b


class Tape:
    """The record of one replayed call: the outcome of each step its runs took, in order.

    Thread-safety: used by one task.
    """

    def __init__(self) -> None:
        self._record: list[_Outcome] = []
        self._next = 0
        self._stop: _Stop | None = None

    # ------------------------------------------------------------------ inside a run

    def _step(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Outcome | None:
        """The recorded outcome of the run's next step, or ``None`` when it is new."""
        if self._stop is not None:
            raise self._stop  # the run is being abandoned: no more steps
        index = self._next
        self._next += 1
        if index == len(self._record):
            return None
        outcome = self._record[index]
        if (outcome.name != name or len(outcome.args) != len(args)
                or outcome.kwargs.keys() != kwargs.keys()
                or not all(map(_same, outcome.args, args))
                or not all(_same(outcome.kwargs[k], kwargs[k]) for k in kwargs)):
            raise RuntimeError(
                f"replayed code asked for another step on its rerun ({name} instead of "
                f"{outcome.name}, or other arguments): it is not replayable")
        return outcome

    def io(self, target: object, name: str, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> object:
        """An I/O call: its recorded outcome, or stop the run (the call is awaited next).

        :raises BaseException: the recorded error of the call.
        """
        outcome = self._step(name, args, kwargs)
        if outcome is None:
            self._stop = _Stop(_Call(target, name, args, kwargs))
            raise self._stop
        return outcome.give()

    def once(self, name: str, fn: Callable[..., R], args: tuple[Any, ...] = (),
             kwargs: dict[str, Any] | None = None) -> R:
        """A step that is not I/O but must happen once (a read of changing state, a
        mutation, the clock): done on the first run that reaches it, its outcome given
        back on the later runs.

        :raises Exception: what ``fn`` raised on its one run.
        """
        kwargs = kwargs or {}
        outcome = self._step(name, args, kwargs)
        if outcome is not None:
            return outcome.give()  # type: ignore[return-value]
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            self._record.append(_Outcome(name, args, kwargs, error=exc))
            raise
        self._record.append(_Outcome(name, args, kwargs, value=value))
        return value

    def _clock(self) -> float:
        return self.once("monotonic", time.monotonic)

    # ------------------------------------------------------------------ between runs

    def run(self, fn: Callable[..., R], args: tuple[Any, ...],
            kwargs: dict[str, Any]) -> tuple[bool, Any]:
        """Run ``fn`` once over this tape.

        :returns: ``(True, result)`` when it finished, ``(False, call)`` when it stopped
            at a new I/O call.
        :raises BaseException: what ``fn`` raised (not because of a stop).
        """
        self._next = 0
        self._stop = None
        token = _TAPE.set(self)
        try:
            with _clock.recorded(self._clock):
                result = fn(*args, **kwargs)
        except BaseException:
            if self.pending() is None:
                raise
        finally:
            _TAPE.reset(token)
        stop = self._stopped()
        if stop is not None:  # also when the code swallowed the stop
            # The stop's traceback holds the abandoned run's frames, which hold this tape:
            # drop it, so that no cycle is left for the garbage collector per call.
            stop.__traceback__ = stop.__context__ = stop.__cause__ = None
            return False, stop.call
        return True, result

    def _stopped(self) -> _Stop | None:
        return self._stop

    def pending(self) -> _Call | None:
        """The I/O call the last run stopped at (``None``: it did not stop)."""
        return None if self._stop is None else self._stop.call

    def record(self, call: _Call, value: object = None,
               error: BaseException | None = None) -> None:
        """The outcome of the I/O call the last run stopped at."""
        self._record.append(_Outcome(call.name, call.args, call.kwargs, value, error))


def current_tape() -> Tape | None:
    """The tape of the run in progress in this context (``None``: not in a replay)."""
    return _TAPE.get()


async def _shielded(call: _Call) -> object:
    """Await a cleanup call, shielded from cancellation, within :data:`CLEANUP_SECONDS`.

    :raises TimeoutError: it took longer (it is cancelled then).
    """
    task = asyncio.ensure_future(call.start())
    loop = asyncio.get_running_loop()
    until = loop.time() + CLEANUP_SECONDS
    while True:
        try:
            return await asyncio.wait_for(asyncio.shield(task), max(0.0, until - loop.time()))
        except asyncio.CancelledError:
            if task.done():
                return task.result()
            continue  # cancelled again while cleaning up: the cleanup goes on, bounded
        except TimeoutError:
            task.cancel()
            raise


async def replay(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run the blocking ``fn`` with asyncio I/O (see the module docstring).

    :param fn: blocking code whose I/O goes through :class:`ReplayPort` objects.
    :returns: what ``fn`` returns.
    :raises BaseException: what ``fn`` raises (its own errors and those of the I/O), and
        :class:`asyncio.CancelledError` when the replay was cancelled.
    """
    tape = Tape()
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            done, step = tape.run(fn, args, kwargs)
        except BaseException as exc:
            if cancelled is not None and exc is not cancelled:
                raise cancelled from exc  # a cleanup that failed: still a cancellation
            raise
        if done:
            if cancelled is not None:
                raise cancelled
            return step  # type: ignore[no-any-return]
        try:
            value = await (step.start() if cancelled is None else _shielded(step))
        except asyncio.CancelledError as exc:  # not from _shielded: it goes on when cancelled
            cancelled = exc
            tape.record(step, error=exc)
        except Exception as exc:
            tape.record(step, error=exc)
        else:
            tape.record(step, value)


class ReplayPort:
    """The stand-in of a blocking I/O object, for blocking code that :func:`replay` runs.

    Inside a run, a call of one of ``calls`` is an I/O call (awaited on ``target``, which
    has coroutine methods of the same names and arguments), any other method call runs once
    and any other attribute is read once (see the module docstring). Outside a run, ``calls``
    raise :class:`RuntimeError` and other attributes are ``target``'s.

    :param target: the asyncio I/O object.
    :param calls: the names of its I/O methods.
    """

    __slots__ = ("_calls", "_target")

    def __init__(self, target: object, calls: frozenset[str]) -> None:
        self._target = target
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        tape = _TAPE.get()
        target = self._target
        if name in self._calls:
            if tape is None:
                raise RuntimeError(
                    f"{type(target).__name__}.{name} of an asyncio client was called by "
                    "blocking code outside etcdmap.aio.replay (from another thread?)")
            return lambda *args, **kwargs: tape.io(target, name, args, kwargs)
        value = getattr(target, name) if tape is None else tape.once(
            f".{name}", getattr, (target, name))
        if tape is None or not callable(value) or isinstance(value, type):
            return value
        return lambda *args, **kwargs: tape.once(name, value, args, kwargs)

    def __repr__(self) -> str:
        return f"<ReplayPort of {self._target!r}>"


class AsyncAPI(Generic[API]):
    """Base of an asyncio API class whose methods are :class:`replayed` from a blocking one.

    :param io: the asyncio I/O object (an :class:`~etcdmap.aio.transport.AsyncTransport`, an
        :class:`~etcdmap.aio.v3.call.AsyncCaller`).
    :param make: builds the blocking API object over a :class:`ReplayPort` of ``io``.
    :param calls: the names of ``io``'s I/O methods (coroutines taking the arguments of the
        blocking object's methods of the same names).
    """

    def __init__(self, io: object, make: Callable[[Any], API], calls: frozenset[str]) -> None:
        self._io = io
        self._api = make(ReplayPort(io, calls))

    async def replay(self, method: Callable[Concatenate[API, P], R], *args: P.args,
                     **kwargs: P.kwargs) -> R:
        """Run the blocking ``method`` of this API with asyncio I/O (see :func:`replay`).

        :returns: what ``method`` returns.
        :raises Exception: what ``method`` raises (its own errors and those of the I/O).
        """
        return await replay(method, self._api, *args, **kwargs)


class replayed(Generic[API, P, R]):
    """A blocking method as a coroutine method of an :class:`AsyncAPI` (or of any class with
    a ``replay(method, *args, **kwargs)`` coroutine, as :class:`~etcdmap.aio.AsyncEtcdMap`):
    same parameters, same docstring, same errors.

    :param method: the blocking method, e.g. ``KeysAPI.get``.
    """

    def __init__(self, method: Callable[Concatenate[API, P], R]) -> None:
        self.method = method
        self.__doc__ = method.__doc__
        self.__name__ = getattr(method, "__name__", "method")
        self._signature: inspect.Signature | None = None

    @overload
    def __get__(self, obj: None, owner: type) -> replayed[API, P, R]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> Callable[P, Coroutine[Any, Any, R]]: ...

    def __get__(self, obj: object,
                owner: type) -> replayed[API, P, R] | Callable[P, Coroutine[Any, Any, R]]:
        if obj is None:
            return self
        method = self.method
        replay_on: Callable[..., Coroutine[Any, Any, R]] = obj.replay  # type: ignore[attr-defined]

        async def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return await replay_on(method, *args, **kwargs)

        call.__name__ = self.__name__
        call.__doc__ = self.__doc__
        call.__signature__ = self.__signature__  # type: ignore[attr-defined]
        return call

    @property
    def __signature__(self) -> inspect.Signature:
        """The blocking method's signature without its ``self`` (for ``help()``)."""
        if self._signature is None:
            sig = inspect.signature(self.method)
            self._signature = sig.replace(parameters=list(sig.parameters.values())[1:])
        return self._signature
