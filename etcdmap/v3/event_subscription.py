"""A raw v3 watch on the client's hub: :class:`EventSubscription` delivers etcd's own watch
messages (events with their key-values, progress notifications) of any key range, where the
v3 backend's :class:`~etcdmap.v3.subscription.V3Subscription` turns them into the mapping
layer's changes. Made by :meth:`V3Streams.subscribe_events
<etcdmap.v3.streams.V3Streams.subscribe_events>` (``client.backend.streams``); the python-etcd3
drop-in's watches run on it.

It is a :class:`~etcdmap.v3.subscription.V3Subscription` in every other way -- the same
lifecycle: the member's shared WebSocket (or one HTTP stream where the upgrade is refused),
the shared member check, and, when a member fails or a stream breaks, a resume on another
member from the last delivered revision + 1, nothing lost or repeated. No thread per watch:
the sink is called on the subscription's dispatcher lane of the client's hub, in order.

Thread-safety: as :class:`~etcdmap.v3.subscription.V3Subscription`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from etcdmap.v3.subscription import V3Subscription, WatchChannel
from etcdmap.v3.wire import b64

if TYPE_CHECKING:
    from etcdmap.backend import ChangeSink
    from etcdmap.http.hub import StreamHub
    from etcdmap.http.liveness import Liveness
    from etcdmap.v3.client_protocol import V3Parts
    from etcdmap.v3.models import WatchResponse

__all__ = ["EventSink", "EventSubscription", "Filter"]

Filter = Literal["NOPUT", "NODELETE"]


class EventSink(Protocol):
    """What receives an :class:`EventSubscription`'s messages, one call at a time, in order,
    on a dispatcher thread of the client's hub (a call may block: it delays this watch only).
    """

    def on_created(self, revision: int) -> None:
        """etcd created the watch (the first time only; a resume elsewhere is silent):
        ``revision`` is the store's revision then."""

    def on_response(self, response: WatchResponse) -> None:
        """One message: events (none lost or repeated, fragments put together) or a progress
        notification (no events)."""

    def on_history_lost(self, error: BaseException) -> None:
        """The start revision (or the resume point) was compacted
        (:class:`~etcdmap.v3.errors.RevisionCompacted`): the subscription waits for
        :meth:`~EventSubscription.resume` or :meth:`~EventSubscription.close`."""

    def on_error(self, error: BaseException) -> None:
        """A failure the subscription recovers from by itself (it reconnects), or etcd's
        refusal of the watch (e.g. permission denied; it keeps trying)."""


class EventSubscription(V3Subscription):
    """etcd's watch messages of ``[key, range_end)`` pushed to ``sink`` (see the module).

    :param client: the v3 client; ``hub``, ``liveness``: its hub and member checks.
    :param key: the key (or the range's start).
    :param sink: receives the messages.
    :param range_end: the range's end (``None``: the key alone; ``b"\\0"``: every key from
        ``key`` on).
    :param start_revision: the first revision to deliver (0: from now).
    :param prev_kv: have each event carry the key-value before it.
    :param filters: leave out PUT or DELETE events.
    :param progress_notify: have etcd send progress notifications while idle.
    :param idle_timeout: how often the stream's member is checked.
    :param channel: what carries the watch (the client's :class:`~etcdmap.v3.watch_mux.WatchMux`).
    """

    kind = "v3 event watch"

    def __init__(
        self, client: V3Parts, hub: StreamHub, liveness: Liveness, key: bytes,
        sink: EventSink, *, range_end: bytes | None = None, start_revision: int = 0,
        prev_kv: bool = False, filters: Sequence[Filter] = (), progress_notify: bool = False,
        idle_timeout: float = 1.0, channel: WatchChannel | None = None,
    ) -> None:
        # the lifecycle calls only on_history_lost and on_error of its sink here: the
        # messages go to on_created and on_response (_message)
        super().__init__(client, hub, liveness, key.decode("utf-8", "replace"),
                         cast("ChangeSink", sink), after=start_revision - 1 if start_revision
                         else -1, idle_timeout=idle_timeout, channel=channel)
        self._events = sink
        self._key = key
        self._range_end = range_end
        self._options: dict[str, Any] = {"prev_kv": prev_kv, "progress_notify": progress_notify,
                                         "filters": list(filters)}
        self._told_created = False

    def nudge(self) -> None:
        """Nothing waits on a raw watch for a revision: does nothing."""

    def _create(self) -> dict[str, Any]:
        create = {"key": b64(self._key), "start_revision": str(self._cursor.start_revision),
                  **{name: value for name, value in self._options.items() if value}}
        if self._range_end is not None:
            create["range_end"] = b64(self._range_end)
        return create

    def _message(self, msg: WatchResponse) -> None:
        """One message (lock held): the first ``created`` and every event or progress message
        go to the sink, in order."""
        accepted = self._cursor.accept(msg)
        if accepted is None:
            return
        sink = self._events
        if accepted.created:
            if not self._told_created:
                self._told_created = True
                revision = accepted.header.revision
                self._lane.submit(lambda: sink.on_created(revision))
            return
        self._failures = 0
        self._lane.submit(lambda: sink.on_response(accepted))
