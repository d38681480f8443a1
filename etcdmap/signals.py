"""The blinker signals a watch sends, and how etcd actions map onto them.

etcdmap defines its signals in its **own** :class:`blinker.Namespace` (never the global
``blinker.signal()``)::

    from etcdmap import signals

    def on_change(sender, **event):
        print(event["action"], event["key"], event["value"])

    signals.changed.connect(on_change, sender=m, weak=False)   # m: the EtcdMap you watch
    with m.watch():
        ...

Which signals fire
------------------
Every event fires :data:`changed` **and** exactly one specific signal:

==========================================  ==========================
etcd action                                  specific signal
==========================================  ==========================
``set`` on a new key (no ``prevNode``)       :data:`created`
``create`` (also ``POST`` in-order keys)     :data:`created`
``set`` / ``update`` / ``compareAndSwap``    :data:`updated`
on an existing key
``delete`` / ``compareAndDelete``            :data:`deleted`
``expire``                                   :data:`expired`
==========================================  ==========================

A directory that is deleted or expires is reported **once**, for the directory
(``dir=True``); every key below it is implied to be gone (etcd itself sends a single event).
Intermediate directories that a write creates implicitly are not reported on their own: the
leaf's event implies them.

On etcd v3 (:mod:`etcdmap.v3.changes`) a PUT of a key whose ``version`` is 1 is ``create``,
another PUT ``set`` and a DELETE ``delete``; a lease expiry arrives as a plain DELETE, so it
is :data:`deleted` there, never :data:`expired`.

Payload
-------
Receivers are called as ``receiver(sender, **payload)``; ``sender`` is the
:class:`~etcdmap.mapping.EtcdMap` (or :class:`~etcdmap.mapping.mirror.Mirror`) whose watch saw the
event. The event payload (:data:`changed`, :data:`created`, :data:`updated`, :data:`deleted`,
:data:`expired`) is:

``key``
    the key relative to the watched map's path, ``/``-joined for nested keys (``""`` for the
    map's own directory).
``path``
    the absolute etcd key.
``action``
    etcd's action name, or ``"resync"`` for a difference found by a resync (see below).
``value`` / ``prev_value``
    decoded with the map's codec; ``None`` where absent (directories, deletions, new keys).
``index``
    the event's index (the node's ``modifiedIndex``).
``dir``
    ``True`` when the node is a directory.

:data:`resynced` fires after a watch lost etcd's event history (more than 1,000 events
passed, ``EventIndexCleared``) and re-read the subtree. The differences between the last
known state and the fresh one are first sent as ordinary events with ``action="resync"``
(``created`` for new keys and new empty directories, ``updated`` for changed values,
``deleted`` for removed keys, topmost directory only); then :data:`resynced` is sent with
``index`` (the ``X-Etcd-Index`` of the re-read), ``created``, ``updated``, ``deleted`` (the
counts of differences) and ``reason`` (a short text). Subscribers therefore always end with
the true state, never silently behind.

:data:`watch_error` fires with ``error`` (the exception) when a receiver raised or when the
watch hit an error it is retrying (a member is down, ...); ``signal`` is the name of the
signal whose receiver failed (``None`` for watch errors) and ``receiver`` the receiver
(``None`` for watch errors). The watch always goes on.

Typed configuration
-------------------
A bound model (:meth:`etcdmap.EtcdMap.bind`, :mod:`etcdmap.mapping.typed`) sends two more signals,
with ``sender`` = the :class:`~etcdmap.mapping.typed.LiveConfig` handle, from its mirror's watch
thread:

:data:`config_changed`
    ``.current`` was replaced: ``current`` (the new instance), ``previous`` (the old one),
    ``changed`` (the sorted dotted paths of the fields that changed, e.g.
    ``("db.port", "workers")``), ``index`` (the etcd index it reflects) and ``recovered``
    (``True`` when this change also cleared a validation error; ``changed`` may then be
    empty, if the fix restored the previous values).
:data:`config_invalid`
    a change did not validate; ``.current`` is kept: ``error`` (the
    :class:`~etcdmap.errors.ConfigValidationError`), ``fields`` (its dotted field paths),
    ``current`` (the instance kept) and ``index``.

Locks and elections
-------------------
A lock (:meth:`etcdmap.v3.Client.lock`, :meth:`etcdmap.EtcdMap.lock`) or an election
(:meth:`etcdmap.v3.Client.election`) whose holder loses it while holding it (its lease expired:
a paused process, a partition) sends one more signal, with ``sender`` = the lock or election
object, from the keep-alive's thread:

:data:`lock_lost`
    ``name`` (the lock's or election's name), ``key`` (the key that held it) and ``error``
    (the :class:`~etcdmap.errors.LockLost`, or :class:`~etcdmap.errors.LeadershipLost` for an
    election's leader). The object's ``lost`` is already ``True``; leaving its ``with`` block
    raises the error.

Threads
-------
Signals of one watch are sent one event at a time, in index order, from one of the client's
**dispatcher threads** (at most 3 per client, shared by all its watches; a backend without a
watch hub, e.g. the memory backend, uses one daemon thread per watch). Receivers must be
thread-safe with respect to your other threads and should be quick: a slow receiver slows its
own watch, and holds one dispatcher thread (the watch then catches up, or resyncs).

blinker holds receivers by **weak reference** by default: a receiver defined inside a
function is garbage-collected when the function returns, unless you connect it with
``weak=False`` (or keep a reference to it).

A receiver that raises does not stop the watch or the other receivers: the exception is
logged on the ``etcdmap.watch`` logger and sent as :data:`watch_error`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from blinker import NamedSignal, Namespace

__all__ = [
    "Event",
    "changed",
    "config_changed",
    "config_invalid",
    "created",
    "deleted",
    "expired",
    "lock_lost",
    "resynced",
    "send_async",
    "signal_for",
    "updated",
    "watch_error",
]

log = logging.getLogger("etcdmap.watch")

_ns = Namespace()

changed: NamedSignal = _ns.signal("changed", doc="Every event (sent besides the specific one).")
created: NamedSignal = _ns.signal("created", doc="A key or directory was created.")
updated: NamedSignal = _ns.signal("updated", doc="An existing key was written.")
deleted: NamedSignal = _ns.signal("deleted", doc="A key or directory was deleted.")
expired: NamedSignal = _ns.signal("expired", doc="A key or directory expired (its TTL ran out).")
resynced: NamedSignal = _ns.signal("resynced", doc="The watch re-read the subtree (lost history).")
watch_error: NamedSignal = _ns.signal("watch_error", doc="A receiver raised, or the watch retries.")
config_changed: NamedSignal = _ns.signal(
    "config_changed", doc="A bound model's current instance changed (payload: changed paths).")
config_invalid: NamedSignal = _ns.signal(
    "config_invalid", doc="A change did not validate against a bound model (current kept).")
lock_lost: NamedSignal = _ns.signal(
    "lock_lost", doc="A held lock (or an election's leadership) was lost (payload: error).")

_DELETES = frozenset({"delete", "compareAndDelete"})
_WRITES = frozenset({"set", "update", "compareAndSwap"})


def signal_for(action: str, had_prev: bool) -> NamedSignal:
    """The specific signal for an etcd ``action``.

    :param action: etcd's action name (``set``, ``create``, ``update``, ``compareAndSwap``,
        ``delete``, ``compareAndDelete``, ``expire``) or ``"resync"``.
    :param had_prev: whether the event carried a ``prevNode`` (a ``set`` without one created
        the key). For ``"resync"`` differences: ``True`` = the key existed before.
    :returns: :data:`created`, :data:`updated`, :data:`deleted` or :data:`expired`. An
        unknown action (a future etcd) maps to :data:`updated` if there was a previous node,
        else :data:`created`.
    """
    if action == "create":
        return created
    if action in _DELETES:
        return deleted
    if action == "expire":
        return expired
    if action in _WRITES:
        return updated if had_prev else created
    return updated if had_prev else created


@dataclass(frozen=True, slots=True)
class Event:
    """One change, as the signals carry it (see the module docstring for the fields).

    ``signal`` is the specific signal for it; ``had_prev`` whether the key existed before.
    Immutable and safe to share between threads.
    """

    key: str
    path: str
    action: str
    value: Any = None
    prev_value: Any = None
    index: int = 0
    dir: bool = False
    removed: bool = False
    """True when the event removes the node (delete, compareAndDelete, expire)."""
    had_prev: bool = False

    @property
    def signal(self) -> NamedSignal:
        """The specific signal (:data:`created`, :data:`updated`, ...) for this event."""
        if self.action == "resync":
            if self.removed:
                return deleted
            return updated if self.had_prev else created
        return signal_for(self.action, self.had_prev)

    def payload(self) -> dict[str, Any]:
        """The keyword payload the signals are sent with."""
        return {
            "key": self.key,
            "path": self.path,
            "action": self.action,
            "value": self.value,
            "prev_value": self.prev_value,
            "index": self.index,
            "dir": self.dir,
        }


def send(signal: NamedSignal, sender: object, payload: Mapping[str, Any]) -> int:
    """Send ``signal`` to each receiver separately, so one failing receiver stops no other.

    A receiver's exception is logged on ``etcdmap.watch`` and sent as :data:`watch_error`
    (``error``, ``signal``, ``receiver``); an exception in a :data:`watch_error` receiver is
    only logged.

    :param signal: the signal to send.
    :param sender: the map or mirror whose watch saw the event.
    :param payload: the keyword arguments for the receivers.
    :returns: the number of receivers that raised.

    Thread-safety: blinker's ``receivers_for`` may be used from any thread.
    """
    if not signal.receivers:
        return 0
    failures = 0
    for receiver in list(signal.receivers_for(sender)):
        try:
            receiver(sender, **payload)
        except Exception as exc:  # a receiver's bug must not kill the watch
            failures += 1
            report = _failed(signal, receiver, exc)
            if report is not None:
                send(watch_error, sender, report)
    return failures


async def send_async(signal: NamedSignal, sender: object, payload: Mapping[str, Any]) -> int:
    """:func:`send` on an event loop (the watches of :mod:`etcdmap.aio`): a coroutine
    receiver is awaited, a plain one called, one after the other, each failure logged and
    sent as :data:`watch_error` as :func:`send` does. (blinker's own ``Signal.send_async``
    stops at the first receiver that raises: one receiver's bug must stop no other.)

    :param signal: the signal to send.
    :param sender: the asyncio map or mirror whose watch saw the event.
    :param payload: the keyword arguments for the receivers.
    :returns: the number of receivers that raised.
    """
    if not signal.receivers:
        return 0
    failures = 0
    for receiver in list(signal.receivers_for(sender)):
        try:
            result = receiver(sender, **payload)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # a receiver's bug must not kill the watch
            failures += 1
            report = _failed(signal, receiver, exc)
            if report is not None:
                await send_async(watch_error, sender, report)
    return failures


def _failed(signal: NamedSignal, receiver: Callable[..., Any],
            exc: Exception) -> dict[str, Any] | None:
    """Log a receiver's failure. :returns: the :data:`watch_error` payload to send, or
    ``None`` (a failing :data:`watch_error` receiver is only logged)."""
    log.error("receiver %r of signal %r raised", receiver, signal.name, exc_info=exc)
    if signal is watch_error:
        return None
    return error_payload(exc, signal=signal.name, receiver=receiver)


def report_error(
    sender: object,
    error: BaseException,
    *,
    signal: str | None = None,
    receiver: Callable[..., Any] | None = None,
) -> None:
    """Send :data:`watch_error` with ``error``, ``signal`` and ``receiver``; never raises.

    :param sender: the map or mirror whose watch hit the error.
    :param error: the exception.
    :param signal: the name of the signal whose receiver raised, ``None`` for watch errors.
    :param receiver: the receiver that raised, ``None`` for watch errors.
    """
    send(watch_error, sender, error_payload(error, signal=signal, receiver=receiver))


def error_payload(error: BaseException, *, signal: str | None = None,
                  receiver: Callable[..., Any] | None = None) -> dict[str, Any]:
    """The payload of :data:`watch_error` (see :func:`report_error` for the parameters)."""
    return {"error": error, "signal": signal, "receiver": receiver}


def emissions(event: Event) -> list[tuple[NamedSignal, dict[str, Any]]]:
    """What sending ``event`` means: :data:`changed`, then its specific signal, with the
    event's payload (nothing when neither has a receiver).

    :param event: the event.
    :returns: the ``(signal, payload)`` pairs to send, in order.
    """
    specific = event.signal
    if not changed.receivers and not specific.receivers:
        return []
    payload = event.payload()
    return [(changed, payload), (specific, payload)]


def emit(sender: object, event: Event) -> None:
    """Send ``event`` as :data:`changed` and as its specific signal (in that order).

    :param sender: the map or mirror whose watch saw the event.
    :param event: the event.
    """
    for signal, payload in emissions(event):
        send(signal, sender, payload)


def resynced_payload(*, index: int, created: int, updated: int, deleted: int,
                     reason: str) -> dict[str, Any]:
    """The payload of :data:`resynced` (see the module docstring).

    :param index: the ``X-Etcd-Index`` of the re-read.
    :param created: how many differences were sent as ``created``.
    :param updated: how many as ``updated``.
    :param deleted: how many as ``deleted``.
    :param reason: why the watch resynced.
    """
    return {"index": index, "created": created, "updated": updated, "deleted": deleted,
            "reason": reason}


def emit_resynced(sender: object, *, index: int, created: int, updated: int, deleted: int,
                  reason: str) -> None:
    """Send :data:`resynced` (see :func:`resynced_payload` for the parameters).

    :param sender: the map or mirror whose watch resynced.
    """
    send(resynced, sender, resynced_payload(index=index, created=created, updated=updated,
                                            deleted=deleted, reason=reason))
