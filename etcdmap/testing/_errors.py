"""The exceptions of :mod:`etcdmap.testing`.

Thread-safety: plain exception classes, no shared state.
"""

from __future__ import annotations

__all__ = ["EtcdBinaryError", "EtcdStartError"]


class EtcdStartError(RuntimeError):
    """etcd could not be started or did not become ready; the message ends with its log tail."""


class EtcdBinaryError(EtcdStartError):
    """No usable etcd binary: none found, ``--version`` failed, or the version serves no v2."""
