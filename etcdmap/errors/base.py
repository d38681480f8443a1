"""The root of the tree and the errors every layer shares."""

from __future__ import annotations

__all__ = ["EtcdMapError", "HistoryLost"]


class EtcdMapError(Exception):
    """Root of every exception raised by etcdmap."""


class HistoryLost(EtcdMapError):
    """The store no longer has the changes a watch asked for (v2: more than 1,000 events
    passed, error 401/400; v3: the start revision was compacted). Watches of the mapping layer
    recover by re-reading and sending ``resynced``; a client-level watcher raises it."""
