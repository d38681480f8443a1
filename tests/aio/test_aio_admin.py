"""The admin APIs of the asyncio clients on a real etcd: the same answers and errors as the
blocking clients' (each asyncio method is the blocking one, replayed)."""

from __future__ import annotations

import pytest

import etcdmap
import etcdmap.aio
import etcdmap.v3
from etcdmap.errors import AuthError, NoEndpointsError
from etcdmap.testing import EtcdServer
from etcdmap.v3 import errors as e


async def test_v2_cluster_calls(etcd_server: EtcdServer) -> None:
    url = etcd_server.client_url
    async with etcdmap.aio.Client(url) as c:
        with etcdmap.Client(url) as sync:
            assert await c.members.list() == sync.members.list()
            assert (await c.members.leader()).id == sync.members.leader().id
            assert await c.machines() == sync.machines()
            assert (await c.version()).server == sync.version().server
            assert (await c.stats.self()).id == sync.stats.self().id
            assert (await c.stats.leader()).leader == sync.stats.leader().leader
        assert (await c.health()).healthy
        assert await c.sync() == c.endpoints


async def test_v2_users_and_roles(etcd_server: EtcdServer, etcd_prefix: str) -> None:
    name = etcd_prefix.strip("/").replace("/", "-")
    async with etcdmap.aio.Client(etcd_server.client_url) as c:
        assert not await c.auth.enabled()
        await c.roles.add(name, read=[etcd_prefix + "/*"])
        await c.users.add(name, "pw", roles=[name])
        try:
            assert list((await c.users.get(name)).roles) == [name]
            assert name in await c.users.list()
            with pytest.raises(AuthError):
                await c.users.add(name, "pw")
        finally:
            await c.users.remove(name)
            await c.roles.remove(name)
        assert not await c.users.exists(name)


async def test_v3_cluster_and_maintenance(etcd_server: EtcdServer) -> None:
    url = etcd_server.client_url
    async with etcdmap.aio.v3.Client(url) as c:
        with etcdmap.v3.Client(url) as sync:
            assert (await c.members.list()).members == sync.members.list().members
            assert (await c.status()).leader == sync.status().leader
            assert (await c.maintenance.hash()).hash == sync.maintenance.hash().hash
        assert await c.maintenance.alarms() == []
        assert await c.maintenance.defragment() == c.endpoints
        assert (await c.version()).server.startswith("3.")
        assert (await c.health()).healthy
        with pytest.raises(e.LeaseNotFound):
            await c.lease.revoke(123456789)


async def test_v3_users(etcd_server: EtcdServer, etcd_prefix: str) -> None:
    name = etcd_prefix.strip("/").replace("/", "-")
    async with etcdmap.aio.v3.Client(etcd_server.client_url) as c:
        await c.auth.user_add(name, "pw")
        try:
            assert name in await c.auth.user_list()
            with pytest.raises(e.UserExistsV3):
                await c.auth.user_add(name, "pw")
        finally:
            await c.auth.user_remove(name)
        assert (await c.auth.status()).enabled is False


async def test_bad_arguments_fail_before_any_request() -> None:
    async with etcdmap.aio.v3.Client("http://127.0.0.1:1") as c:  # nothing listens there
        with pytest.raises(ValueError, match="NOSPACE"):
            await c.maintenance.disarm("FULL")  # type: ignore[arg-type]
    with pytest.raises(NoEndpointsError):
        etcdmap.aio.Client([])


async def test_a_raised_nospace_alarm_refuses_writes_until_disarmed(etcd_server: EtcdServer,
                                                                    etcd_prefix: str) -> None:
    async with etcdmap.aio.v3.Client(etcd_server.client_url) as c:
        try:
            raised = await c.maintenance.activate("NOSPACE")
            assert [a.alarm for a in raised] == ["NOSPACE"]
            with pytest.raises(e.NoSpace, match="defragment"):
                await c.kv.put(f"{etcd_prefix}/k", "v")
        finally:
            await c.maintenance.disarm()
        assert await c.maintenance.alarms() == []
        await c.kv.put(f"{etcd_prefix}/k", "v")
