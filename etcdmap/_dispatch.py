"""The old name of :mod:`etcdmap.workers`, kept only for the two importers in ``etcdmap/http/``
(``hub.py``, ``watch_lifecycle.py``) until they import :mod:`etcdmap.workers`; then delete it.

Thread-safety: see :mod:`etcdmap.workers`.
"""

from etcdmap.workers import Lane, WorkerPool

__all__ = ["Lane", "WorkerPool"]
