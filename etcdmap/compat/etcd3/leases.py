"""python-etcd3's :class:`Lease` (``etcd3.leases``) and the lease answers with protobuf's names.

Thread-safety: a :class:`Lease` holds no state but its ID and granted TTL; its methods call
the (thread-safe) client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from etcdmap.v3.models import ResponseHeader

__all__ = ["Lease", "LeaseKeepAliveResponse", "LeaseTimeToLiveResponse"]


@dataclass(frozen=True)
class LeaseKeepAliveResponse:
    """One keep-alive answer (``TTL`` 0: the lease is gone), as protobuf named it."""

    header: ResponseHeader
    ID: int
    TTL: int


@dataclass(frozen=True)
class LeaseTimeToLiveResponse:
    """A lease's remaining time (``TTL`` -1: no such lease) and its keys, as protobuf named them."""

    header: ResponseHeader
    ID: int
    TTL: int
    grantedTTL: int
    keys: list[bytes] = field(default_factory=list)


class Lease:
    """A lease (the keys put with it go when it expires or is revoked).

    :ivar id: the lease ID.
    :ivar ttl: the TTL it was granted with.
    :param etcd_client: the :class:`~etcdmap.compat.etcd3.client.Etcd3Client` it belongs to.
    """

    def __init__(self, lease_id: int, ttl: int, etcd_client: Any = None) -> None:
        self.id = lease_id
        self.ttl = ttl
        self.etcd_client = etcd_client

    def _get_lease_info(self) -> LeaseTimeToLiveResponse:
        info: LeaseTimeToLiveResponse = self.etcd_client.get_lease_info(self.id)
        return info

    def revoke(self) -> None:
        """Revoke the lease (its keys are deleted)."""
        self.etcd_client.revoke_lease(self.id)

    def refresh(self) -> list[LeaseKeepAliveResponse]:
        """Refresh the lease to its granted TTL; the answers (``TTL`` 0: the lease is gone)."""
        return list(self.etcd_client.refresh_lease(self.id))

    @property
    def remaining_ttl(self) -> int:
        """Seconds left (-1: the lease no longer exists)."""
        return self._get_lease_info().TTL

    @property
    def granted_ttl(self) -> int:
        """The TTL the lease was granted with."""
        return self._get_lease_info().grantedTTL

    @property
    def keys(self) -> list[bytes]:
        """The keys attached to the lease."""
        return self._get_lease_info().keys
