"""``etcdmap.aio.Client`` (v2 keys) and ``etcdmap.aio.v3.Client`` (kv, lease, token auth)
against a real etcd: the blocking clients' answers and errors, as coroutines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

import etcdmap
import etcdmap.aio
import etcdmap.v3
from etcdmap.errors import (
    AmbiguousResultError,
    ClusterError,
    CompareFailed,
    KeyNotFound,
    NodeExists,
    NotAFile,
)
from etcdmap.http.curl import disable_curl_debug, enable_curl_debug
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Compare, Op
from etcdmap.v3 import errors as e
from tests.conftest import TLSFiles

ROOT_PW = "root-pw"


# ---------------------------------------------------------------------- v2 keys


async def test_v2_set_get_delete(etcd_url: str, etcd_prefix: str) -> None:
    key = etcd_prefix + "/sp ace?#%&=é"
    async with etcdmap.aio.Client(etcd_url) as c:
        put = await c.keys.set(key, "v1", ttl=30)
        got = await c.keys.get(key)
        assert (got.node.value, got.node.key, got.index) == ("v1", key, put.index)  # type: ignore[union-attr]
        assert got.node.ttl is not None  # type: ignore[union-attr]
        with etcdmap.Client(etcd_url) as sync:  # what the blocking client reads is the same
            assert sync.keys.get(key) == got
        deleted = await c.keys.delete(key)
        assert (deleted.action, deleted.prev_node.value) == ("delete", "v1")  # type: ignore[union-attr]
        with pytest.raises(KeyNotFound):
            await c.keys.get(key)


async def test_v2_conditions_and_directories(etcd_url: str, etcd_prefix: str) -> None:
    async with etcdmap.aio.Client(etcd_url) as c:
        await c.keys.create(etcd_prefix + "/k", "a")
        with pytest.raises(NodeExists):
            await c.keys.create(etcd_prefix + "/k", "b")
        with pytest.raises(CompareFailed):
            await c.keys.set(etcd_prefix + "/k", "c", prev_value="zzz")
        swapped = await c.keys.set(etcd_prefix + "/k", "c", prev_value="a")
        assert swapped.action == "compareAndSwap"
        queued = await c.keys.create_in_order(etcd_prefix + "/q", "job")
        assert queued.node.key.startswith(etcd_prefix + "/q/")  # type: ignore[union-attr]
        await c.keys.mkdir(etcd_prefix + "/d")
        with pytest.raises(NotAFile):
            await c.keys.delete(etcd_prefix + "/d")
        listing = (await c.keys.get(etcd_prefix, recursive=True, sort=True)).node
        assert listing is not None
        assert [n.key for n in listing.nodes] == [etcd_prefix + s for s in ("/d", "/k", "/q")]
        event, index = await c.keys.get_json(etcd_prefix + "/k")
        assert event["node"]["value"] == "c" and index >= swapped.index


async def test_v2_bad_arguments_raise_before_any_request(etcd_url: str) -> None:
    async with etcdmap.aio.Client(etcd_url) as c:
        with pytest.raises(TypeError, match="value must be a str"):
            await c.keys.set("/k", 5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="ttl"):
            await c.keys.set("/k", "v", ttl=-1)
        assert c.transport.idle_connections() == 0  # nothing was sent


async def test_concurrent_calls_share_one_client(etcd_url: str, etcd_prefix: str) -> None:
    async with etcdmap.aio.Client(etcd_url) as c:
        async def work(n: int) -> None:
            for i in range(10):
                await c.keys.set(f"{etcd_prefix}/{n}", str(i))
                assert (await c.keys.get(f"{etcd_prefix}/{n}")).node.value == str(i)  # type: ignore[union-attr]

        await asyncio.gather(*(work(n) for n in range(20)))
        listing = await c.keys.get(etcd_prefix)
        assert len(listing.node.nodes) == 20  # type: ignore[union-attr]
        assert 0 < c.transport.idle_connections() <= 20


# ---------------------------------------------------------------------- v3 kv and lease


async def test_v3_put_range_delete(etcd_url: str, etcd_prefix: str) -> None:
    async with etcdmap.aio.v3.Client(etcd_url) as c:
        put = await c.kv.put(etcd_prefix + "/a", b"\x00\xff binary")
        await c.kv.put(etcd_prefix + "/b", "é")
        got = await c.kv.range(etcd_prefix + "/", prefix=True)
        assert [kv.value for kv in got.kvs] == [b"\x00\xff binary", "é".encode()]
        assert got.kvs[0].mod_revision == put.header.revision
        with etcdmap.v3.Client(etcd_url) as sync:
            assert sync.kv.range(etcd_prefix + "/", prefix=True).kvs == got.kvs
        assert await c.kv.get(etcd_prefix + "/missing") is None
        deleted = await c.kv.delete(etcd_prefix + "/", prefix=True, prev_kv=True)
        assert deleted.deleted == 2 and len(deleted.prev_kvs) == 2


async def test_v3_txn_both_branches(etcd_url: str, etcd_prefix: str) -> None:
    key = etcd_prefix + "/t"
    async with etcdmap.aio.v3.Client(etcd_url) as c:
        await c.kv.put(key, "1")
        won = await c.kv.txn([Compare.value(key, "==", "1")], [Op.put(key, "2")],
                             [Op.get(key)])
        lost = await c.kv.txn([Compare.value(key, "==", "1")], [Op.put(key, "3")],
                              [Op.get(key)])
        assert (won.succeeded, lost.succeeded) == (True, False)
        assert lost.responses[0].kvs[0].value == b"2"  # type: ignore[union-attr]
        with pytest.raises(TypeError):
            await c.kv.txn(["not a compare"])  # type: ignore[list-item]


async def test_v3_lease_and_errors(etcd_url: str, etcd_prefix: str) -> None:
    async with etcdmap.aio.v3.Client(etcd_url) as c:
        lease = await c.lease.grant(30)
        await c.kv.put(etcd_prefix + "/leased", "v", lease=lease.id)
        ttl = await c.lease.time_to_live(lease.id, keys=True)
        assert ttl.keys == ((etcd_prefix + "/leased").encode(),)
        await c.lease.revoke(lease.id)
        assert await c.kv.get(etcd_prefix + "/leased") is None
        with pytest.raises(e.LeaseNotFound):
            await c.kv.put(etcd_prefix + "/x", "v", lease=lease.id)
        with pytest.raises(e.FutureRevision):
            await c.kv.range(etcd_prefix, revision=10**12)


# ---------------------------------------------------------------------- v3 token auth


@pytest.fixture(scope="module")
def secured() -> Iterator[EtcdServer]:
    """A v3-only server with auth enabled, root and a 1 s token TTL."""
    with EtcdServer(enable_v2=False, extra_args=["--auth-token-ttl=1"]) as server:
        with etcdmap.v3.Client(server.client_url) as admin:
            admin.auth.user_add("root", ROOT_PW)
            admin.auth.user_grant_role("root", "root")
            admin.auth.enable()
        yield server


def _authentications(capsys: pytest.CaptureFixture[str]) -> int:
    return capsys.readouterr().err.count("/v3/auth/authenticate")


async def test_v3_token_auth_and_refresh_after_expiry(
    secured: EtcdServer, capsys: pytest.CaptureFixture[str]
) -> None:
    enable_curl_debug()  # one curl line per attempt: counts the authentications
    try:
        async with etcdmap.aio.v3.Client(secured.client_url, username="root",
                                         password=ROOT_PW) as c:
            await asyncio.gather(*(c.kv.put(f"k{n}", str(n)) for n in range(10)))
            assert _authentications(capsys) == 1  # one for the ten concurrent calls
            await asyncio.sleep(2.5)  # the simple token expires (--auth-token-ttl=1, sliding)
            assert await c.kv.get("k3") == b"3"  # refreshed once, transparently
            assert _authentications(capsys) == 1
    finally:
        disable_curl_debug()
    async with etcdmap.aio.v3.Client(secured.client_url) as anonymous:
        with pytest.raises(e.NoCredentials):
            await anonymous.kv.get("k3")
    async with etcdmap.aio.v3.Client(secured.client_url, username="root",
                                     password="wrong") as bad:
        with pytest.raises(e.AuthenticationFailed):
            await bad.kv.get("k3")


async def test_non_idempotent_v3_calls_are_not_resent(serve: object, etcd_url: str) -> None:
    from scripted import ScriptedServer  # noqa: PLC0415

    def drop(conn: object) -> None:
        conn.close()  # type: ignore[attr-defined]

    dropper = ScriptedServer([drop, drop, drop])
    try:
        async with etcdmap.aio.v3.Client([dropper.url, etcd_url]) as c:
            c.transport.pin(dropper.url)
            with pytest.raises(AmbiguousResultError):
                await c.kv.put("k", "v", prev_kv=True)
            c.transport.pin(dropper.url)
            assert (await c.kv.put("k", "v")).header.revision > 0  # a plain put is retried
    finally:
        dropper.close()


async def test_a_v3_watch_stream_with_a_token(secured: EtcdServer) -> None:
    from etcdmap.aio.v3.call import AsyncCaller  # noqa: PLC0415
    from etcdmap.v3.wire import b64  # noqa: PLC0415

    async with etcdmap.aio.v3.Client(secured.client_url, username="root",
                                     password=ROOT_PW) as c:
        caller = AsyncCaller(c.transport, "root", ROOT_PW)
        body = json.dumps({"create_request": {"key": b64(b"watched")}}).encode()
        async with await caller.stream("/v3/watch", body, read_timeout=5.0) as stream:
            lines = stream.iter_lines()
            created = json.loads(await lines.__anext__())
            assert created["result"]["created"] is True
            await c.kv.put("watched", "seen")
            event = json.loads(await lines.__anext__())["result"]["events"][0]
            assert event["kv"]["value"] == b64(b"seen")
        anonymous = AsyncCaller(c.transport, None, None)  # refused in the stream's first line
        async with await anonymous.stream("/v3/watch", body, read_timeout=5.0) as stream:
            refused = json.loads(await stream.iter_lines().__anext__())["result"]
        assert refused["canceled"] is True
        assert "permission denied" in refused["cancel_reason"]


@pytest.fixture(scope="module")
def mtls_server(tls_files: TLSFiles) -> Iterator[EtcdServer]:
    with EtcdServer(cert_file=tls_files.server_cert, key_file=tls_files.server_key,
                    trusted_ca_file=tls_files.ca, client_cert_auth=True) as server:
        yield server


async def test_tls_with_a_client_certificate(mtls_server: EtcdServer, tls_files: TLSFiles,
                                             etcd_prefix: str) -> None:
    url = mtls_server.client_url
    assert url.startswith("https://")
    cert = (tls_files.client_cert, tls_files.client_key)
    async with etcdmap.aio.v3.Client(url, verify=tls_files.ca, cert=cert) as v3, \
            etcdmap.aio.Client(url, verify=tls_files.ca, cert=cert) as v2:
        await v3.kv.put(etcd_prefix, "over tls")
        assert await v3.kv.get(etcd_prefix) == b"over tls"
        assert (await v2.keys.set(etcd_prefix, "v2 too")).action == "set"
    async with etcdmap.aio.v3.Client(url, verify=tls_files.ca, timeout=2.0) as no_cert:
        with pytest.raises(ClusterError):
            await no_cert.kv.range("k")
