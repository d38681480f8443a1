"""python-etcd3's :class:`Member` (``etcd3.members``).

Thread-safety: immutable but for the client's (thread-safe) calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["Member"]


class Member:
    """A member of the etcd cluster.

    :ivar id: the member ID (an int).
    :ivar name: its name (empty until a newly added member starts).
    :ivar peer_urls: its peer URLs (a list).
    :ivar client_urls: its client URLs (a list; empty until it starts).
    """

    def __init__(self, id: int, name: str, peer_urls: Sequence[str],
                 client_urls: Sequence[str], etcd_client: Any = None) -> None:
        self.id = id
        self.name = name
        self.peer_urls = list(peer_urls)
        self.client_urls = list(client_urls)
        self._etcd_client = etcd_client

    def __str__(self) -> str:
        return (f"Member {self.id}: peer urls: {self.peer_urls}, "
                f"client urls: {self.client_urls}")

    def remove(self) -> None:
        """Remove this member from the cluster."""
        self._etcd_client.remove_member(self.id)

    def update(self, peer_urls: Sequence[str]) -> None:
        """Change this member's peer URLs."""
        self._etcd_client.update_member(self.id, peer_urls)

    @property
    def active_alarms(self) -> Iterator[Any]:
        """This member's active alarms (:class:`~etcdmap.compat.etcd3.client.Alarm` objects)."""
        alarms: Iterator[Any] = self._etcd_client.list_alarms(member_id=self.id)
        return alarms
