"""etcdmap.compat.etcd3 beyond python-etcd3's own suite: what it does right where the original
did not, what it needs (no gRPC, no protobuf), its error table, and the calls that wait for
the core's maintenance API. Real etcd throughout."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

import etcdmap.compat.etcd3 as etcd3
from etcdmap.compat.etcd3 import etcdrpc
from etcdmap.compat.etcd3.exceptions import (
    ConnectionFailedError,
    ConnectionTimeoutError,
    LockTimedOut,
    PreconditionFailedError,
    RpcError,
    translate,
)
from etcdmap.errors import ClusterError, DeadlineExceeded
from etcdmap.testing import EtcdServer
from etcdmap.v3 import errors as v3errors


def _client(url: str, **options: object) -> etcd3.Etcd3Client:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return etcd3.client(host=parts.hostname, port=parts.port, **options)  # type: ignore[arg-type]


@pytest.fixture
def etcd(etcd_url: str) -> Iterator[etcd3.Etcd3Client]:
    with _client(etcd_url, timeout=5) as client:
        yield client


def test_imports_and_works_without_grpc_and_protobuf(etcd_url: str) -> None:
    code = f"""
import sys
sys.modules["grpc"] = None          # importing either now raises ImportError
sys.modules["google"] = None
sys.modules["google.protobuf"] = None
import etcdmap.compat.etcd3 as etcd3
etcd3.install()
import etcd3 as again
from etcd3.exceptions import RpcError
assert again is etcd3
c = etcd3.client(host="{urlsplit(etcd_url).hostname}", port={urlsplit(etcd_url).port})
c.put("/t-nogrpc/a", b"\\xff\\x00")
assert c.get("/t-nogrpc/a")[0] == b"\\xff\\x00"
c.delete_prefix("/t-nogrpc/")
assert RpcError.__mro__[1] is Exception
assert not [m for m, v in sys.modules.items() if v is not None and m.startswith(("grpc", "google"))]
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_install_aliases_every_submodule_and_refuses_a_loaded_original() -> None:
    code = """
import sys, types
import etcdmap.compat.etcd3 as drop_in
drop_in.install()
import etcd3.exceptions, etcd3.events, etcd3.etcdrpc, etcd3.transactions, etcd3.utils
from etcd3.client import Etcd3Client
assert etcd3.exceptions is drop_in.exceptions and Etcd3Client is drop_in.Etcd3Client
sys.modules["etcd3x"] = types.ModuleType("etcd3x")
try:
    drop_in.install("etcd3x")
except ImportError as exc:
    assert "already imported" in str(exc)
else:
    raise SystemExit("no ImportError")
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_watch_survives_a_member_restart_without_loss() -> None:
    """python-etcd3's watches end (the callback gets an error) when the member restarts; the
    drop-in's resume at the next revision: every event once, no error."""
    seen: list[object] = []
    with EtcdServer() as server:
        client = _client(server.client_url, timeout=5)
        watch_id = client.add_watch_prefix_callback("/r/", seen.append)
        client.put("/r/a", "1")
        server.kill()
        server.start()
        client.put("/r/b", "2")  # first write after the restart
        deadline = time.monotonic() + 20
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        client.cancel_watch(watch_id)
        client.close()
    events = [ev for resp in seen for ev in getattr(resp, "events", [resp])]
    assert [(type(e).__name__, e.key, e.value) for e in events] == [
        ("PutEvent", b"/r/a", b"1"), ("PutEvent", b"/r/b", b"2")]


def test_keys_and_values_are_bytes_and_metadata_has_the_originals_attributes(
        etcd: etcd3.Etcd3Client, etcd_prefix: str) -> None:
    key = f"{etcd_prefix}/ké?#y"
    put = etcd.put(key, "välue")
    assert put.prev_kv.value == b""  # protobuf's empty message, not None
    value, meta = etcd.get(key)
    assert value == "välue".encode()
    assert meta is not None and meta.key == key.encode()
    assert (meta.create_revision, meta.mod_revision, meta.version, meta.lease_id) == (
        put.header.revision, put.header.revision, 1, 0)
    assert meta.response_header.revision >= put.header.revision
    assert etcd.delete(key, prev_kv=True, return_response=True).prev_kvs[0].value == value


def test_sort_by_value_without_an_order_sorts_ascending_as_etcd(
        etcd: etcd3.Etcd3Client, etcd_prefix: str) -> None:
    for key, value in (("a", "3"), ("b", "1"), ("c", "2")):
        etcd.put(f"{etcd_prefix}/{key}", value)
    values = [v for v, _ in etcd.get_prefix(etcd_prefix, sort_target="value")]
    assert values == [b"1", b"2", b"3"]
    assert [v for v, _ in etcd.get_prefix(etcd_prefix, limit=2)] == [b"3", b"1"]


def test_errors_python_etcd3_left_untranslated_are_rpc_errors(
        etcd: etcd3.Etcd3Client) -> None:
    with pytest.raises(RpcError) as info:
        etcd.revoke_lease(123456789)
    assert info.value.code().name == "NOT_FOUND"
    assert "lease not found" in info.value.details()
    try:
        import grpc  # noqa: PLC0415
    except ImportError:
        return
    assert isinstance(info.value, grpc.RpcError)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND


def test_unreachable_member_is_a_connection_failure() -> None:
    with EtcdServer() as server:
        url = server.client_url
    client = _client(url, timeout=2)
    with pytest.raises(ConnectionFailedError) as info:
        client.get("/x")
    assert isinstance(info.value.__cause__, ClusterError)


@pytest.mark.parametrize(("source", "target"), [
    (v3errors.Unavailable("etcdserver: no leader", grpc_code=14), ConnectionFailedError),
    (v3errors.NoLeaderV3("etcdserver: no leader", grpc_code=14), ConnectionFailedError),
    (v3errors.ServerTimeout("context deadline exceeded", grpc_code=2), ConnectionTimeoutError),
    (v3errors.LeaseExists("etcdserver: lease already exists", grpc_code=9),
     PreconditionFailedError),
    (DeadlineExceeded("too slow"), ConnectionTimeoutError),
    (ClusterError([], "nobody"), ConnectionFailedError),
])
def test_error_table(source: Exception, target: type[Exception]) -> None:
    out = translate(source)
    assert type(out) is target and out.__cause__ is source


def test_error_table_keeps_argument_errors_and_wraps_other_codes() -> None:
    err = ValueError("bad")
    assert translate(err) is err
    out = translate(v3errors.PermissionDenied("etcdserver: permission denied", grpc_code=7))
    assert isinstance(out, RpcError) and out.code().name == "PERMISSION_DENIED"


def test_etcdrpc_enums_have_protobufs_numbers_and_helpers() -> None:
    assert (etcdrpc.NONE, etcdrpc.NOSPACE, etcdrpc.CORRUPT) == (0, 1, 2)
    assert etcdrpc.WatchCreateRequest.FilterType.NODELETE == etcdrpc.WatchCreateRequest.NODELETE == 1
    assert etcdrpc.Compare.CompareResult.Name(3) == "NOT_EQUAL"
    assert etcdrpc.RangeRequest.SortTarget.Value("MOD") == 3
    with pytest.raises(ValueError, match="no value named"):
        etcdrpc.AlarmType.Value("FIRE")


def test_watch_filters_take_protobuf_values(etcd: etcd3.Etcd3Client, etcd_prefix: str) -> None:
    key = f"{etcd_prefix}/f"
    etcd.put(key, "1")
    start = etcd.delete(key, return_response=True).header.revision - 1
    event = etcd.watch_once(key, timeout=5, start_revision=start,
                            filters=[etcdrpc.WatchCreateRequest.FilterType.NOPUT])
    assert type(event).__name__ == "DeleteEvent" and event.key == key.encode()


def test_lock_context_raises_when_not_acquired(etcd: etcd3.Etcd3Client, etcd_prefix: str) -> None:
    """python-etcd3 ran the ``with`` block without the lock after 10 s."""

    class QuickLock(etcd3.Lock):
        def acquire(self, timeout: float | None = 0.3) -> bool:
            return super().acquire(timeout)

    holder = etcd.lock(etcd_prefix, ttl=10)
    assert holder.acquire()
    with pytest.raises(LockTimedOut), QuickLock(etcd_prefix, ttl=10, etcd_client=etcd):
        pytest.fail("entered without the lock")
    assert holder.release()


class ReleaseBeforeWatch:
    """A waiter's client (``Lock(etcd_client=...)``) whose first ``watch_once`` releases the
    holder's lock before it starts: the release lands between the waiter's try and its watch."""

    def __init__(self, client: etcd3.Etcd3Client, holder: etcd3.Lock) -> None:
        self._client = client
        self._holder = holder
        self.watched = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def watch_once(self, *args: Any, **kwargs: Any) -> Any:
        self.watched += 1
        if self.watched == 1:
            assert self._holder.release()
        return self._client.watch_once(*args, **kwargs)


def test_lock_waiter_wakes_on_a_release_it_did_not_watch_yet(
        etcd: etcd3.Etcd3Client, etcd_prefix: str) -> None:
    """The waiter watches from the revision it saw, so a release that lands between its try
    and its watch still wakes it (python-etcd3 slept until its timeout)."""
    holder = etcd.lock(etcd_prefix, ttl=10)
    assert holder.acquire()
    client = ReleaseBeforeWatch(etcd, holder)
    waiter = etcd3.Lock(etcd_prefix, ttl=10, etcd_client=client)
    started = time.monotonic()
    assert waiter.acquire(timeout=8)
    assert time.monotonic() - started < 4
    assert client.watched == 1, "the waiter's first try did not find the lock held"
    assert waiter.release()


def test_maintenance_calls(etcd: etcd3.Etcd3Client, tmp_path: os.PathLike[str]) -> None:
    assert isinstance(etcd.hash(), int)
    etcd.defragment()
    assert list(etcd.list_alarms()) == []
    assert etcd.disarm_alarm() == []
    path = os.path.join(tmp_path, "snap.db")
    with open(path, "wb") as f:
        etcd.snapshot(f)
    assert os.path.getsize(path) > 0


def test_alarms_raised_cleared_and_listed_as_python_etcd3_did() -> None:
    # a server of its own: a raised NOSPACE refuses every write
    with EtcdServer(enable_v2=False) as server, _client(server.client_url, timeout=5) as etcd:
        member = next(etcd.members).id
        raised = etcd.create_alarm() + etcd.create_alarm(member_id=member)
        assert [(a.alarm_type, a.member_id) for a in raised] == [
            (etcdrpc.NOSPACE, 0), (etcdrpc.NOSPACE, member)]
        with pytest.raises(etcd3.exceptions.RpcError, match="RESOURCE_EXHAUSTED"):
            etcd.put("k", "v")  # what python-etcd3 let through: gRPC's error
        assert {a.member_id for a in etcd.list_alarms()} == {0, member}
        assert [a.member_id for a in etcd.list_alarms(member_id=member)] == [member]
        assert list(etcd.list_alarms(alarm_type="no space"))
        cleared = etcd.disarm_alarm(member_id=member)
        assert [(a.alarm_type, a.member_id) for a in cleared] == [(etcdrpc.NOSPACE, member)]
        assert [(a.alarm_type, a.member_id) for a in etcd.disarm_alarm()] == [
            (etcdrpc.NOSPACE, 0)]
        assert list(etcd.list_alarms()) == []
        etcd.put("k", "v")


def test_watch_callback_errors_are_logged_and_the_watch_goes_on(
        etcd: etcd3.Etcd3Client, etcd_prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    got: list[bytes] = []
    done = threading.Event()

    def callback(response: object) -> None:
        value = response.events[0].value  # type: ignore[attr-defined]
        if value == b"boom":
            raise RuntimeError("boom")
        got.append(value)
        done.set()

    watch_id = etcd.add_watch_callback(f"{etcd_prefix}/k", callback)
    etcd.put(f"{etcd_prefix}/k", "boom")
    etcd.put(f"{etcd_prefix}/k", "fine")
    assert done.wait(5)
    etcd.cancel_watch(watch_id)
    assert got == [b"fine"]
    assert "Watch callback failed" in caplog.text


def test_unused_module_names_stay_importable() -> None:
    assert isinstance(etcd3.watch.Watch(1), etcd3.watch.Watch)
    assert etcd3.utils.increment_last_byte(b"foo") == b"fop"
