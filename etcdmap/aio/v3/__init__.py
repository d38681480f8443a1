"""The etcd v3 API for asyncio code: :class:`Client` (see :mod:`etcdmap.aio`)."""

from etcdmap.aio.v3.client import AsyncKV, AsyncLeases, Client

__all__ = ["AsyncKV", "AsyncLeases", "Client"]
