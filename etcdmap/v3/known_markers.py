"""The directory markers a v3 backend knows to exist, so that a plain write below them need
not carry a nested txn per parent to (re)create them.

A write of ``/a/b/k`` must leave the markers ``/a/`` and ``/a/b/`` in place
(:mod:`etcdmap.v3.layout`); :func:`etcdmap.v3.conds.marker_ops` does it with one nested
"create if missing" txn per parent. Once a write succeeded, its parents' markers existed at
that revision, and the next write below them sends a compare per known marker instead
(:meth:`KnownMarkers.checks`: "still there", cheaper for client and server alike). Should a
known marker have gone since (a directory deleted by anyone), that compare fails the txn, the
failure branch's reads (:meth:`KnownMarkers.reads`) say so, and the write is sent again with
the nested txns (:meth:`KnownMarkers.still_there` forgets what it knew): the knowledge is a
hint, never trusted without the compare.

Thread-safety: :class:`KnownMarkers` is thread-safe (a bounded, locked cache).
"""

from __future__ import annotations

from etcdmap.http.framing import BoundedCache
from etcdmap.v3.layout import ancestors, marker
from etcdmap.v3.models import RangeResponse, TxnResponse
from etcdmap.v3.txn import Compare, Op

__all__ = ["KnownMarkers"]


class KnownMarkers:
    """The markers seen to exist (at most ``maxsize``; the cache is emptied when full).

    :param maxsize: markers remembered.
    :param enabled: ``False``: know nothing, ever (every write sends its nested txns): for
        code that :mod:`etcdmap.aio.replay` runs again, which must ask the same calls on each
        run and so may keep no state across calls.
    """

    def __init__(self, maxsize: int = 4096, *, enabled: bool = True) -> None:
        self._seen = BoundedCache(maxsize)
        self.enabled = enabled

    def of(self, key: str) -> tuple[str, ...]:
        """The markers of ``key``'s parents known to exist, top first."""
        if not self.enabled:
            return ()
        get = self._seen.get
        return tuple(m for m in map(marker, ancestors(key)) if get(m))

    def checks(self, known: tuple[str, ...]) -> list[Compare]:
        """The compares that stand in for the nested txns of ``known``: each still exists."""
        return [Compare.create(m, ">", 0) for m in known]

    def reads(self, known: tuple[str, ...]) -> list[Op]:
        """The failure branch's reads of ``known`` (after the other reads)."""
        return [Op.get(m, keys_only=True) for m in known]

    def still_there(self, known: tuple[str, ...], resp: TxnResponse) -> bool:
        """Whether every marker of ``known`` was found by the failed txn's last reads; if one
        was not, all are forgotten (the write is to be sent again with its nested txns).

        :param resp: the failed txn, whose failure branch ends with :meth:`reads`.
        """
        if not known:
            return True
        got = resp.responses[-len(known):]
        if all(isinstance(r, RangeResponse) and r.kvs for r in got):
            return True
        self._seen.clear()
        return False

    def saw(self, key: str) -> None:
        """A write of ``key`` made or found every parent's marker."""
        if not self.enabled:
            return
        for m in map(marker, ancestors(key)):
            self._seen.put(m, True)

    def forget(self) -> None:
        """Forget every marker (this backend deleted a directory)."""
        self._seen.clear()
