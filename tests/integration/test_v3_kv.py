"""etcdmap.v3 keys and values against a real etcd 3.5: range, put, delete, txn, compaction.

Most tests use the shared server (it serves v3 on its client URL next to v2); compaction runs
on a module server started without v2, which also shows the v3 client needs no v2.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client, Compare, Op, PutResponse, RangeResponse
from etcdmap.v3 import errors as e


@pytest.fixture
def v3(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=5.0) as c:
        yield c


@pytest.fixture(scope="module")
def v3_only() -> Iterator[EtcdServer]:
    """A server started with ``--enable-v2=false`` (what etcd 3.6 serves)."""
    with EtcdServer(enable_v2=False) as server:
        yield server


KEYS = ["plain", "é/ü/ß", "日本語", "sp ace?#%&=+", "\x00nul", "\u2028line"]
VALUES: list[str | bytes] = ["", "é", b"\x00\xff\xfe binary", "x" * 100_000, "a\nb\r\n"]


@pytest.mark.parametrize("name", KEYS)
def test_keys_round_trip(v3: Client, etcd_prefix: str, name: str) -> None:
    key = f"{etcd_prefix}/{name}"
    put = v3.kv.put(key, "v")
    got = v3.kv.range(key)
    assert got.count == 1 and got.kvs[0].key_text == key
    assert got.kvs[0].mod_revision == put.header.revision == got.kvs[0].create_revision


@pytest.mark.parametrize("value", VALUES)
def test_values_round_trip_byte_for_byte(v3: Client, etcd_prefix: str, value: str | bytes) -> None:
    v3.kv.put(etcd_prefix, value)
    expected = value.encode() if isinstance(value, str) else value
    assert v3.kv.get(etcd_prefix) == expected


def test_binary_key_with_ff_bytes_and_prefix_range(v3: Client, etcd_prefix: str) -> None:
    base = etcd_prefix.encode() + b"/\xff\xff"
    for tail in (b"", b"\x00", b"\xff\x01"):
        v3.kv.put(base + tail, tail)
    v3.kv.put(etcd_prefix.encode() + b"/\xfe", "outside")
    got = v3.kv.range(base, prefix=True)
    assert [kv.key for kv in got.kvs] == [base, base + b"\x00", base + b"\xff\x01"]


def test_range_options(v3: Client, etcd_prefix: str) -> None:
    revs = [v3.kv.put(f"{etcd_prefix}/{i}", str(i)).header.revision for i in range(5)]
    v3.kv.put(f"{etcd_prefix}0", "sibling, not under the prefix")
    full = v3.kv.range(f"{etcd_prefix}/", prefix=True)
    assert [kv.value for kv in full.kvs] == [b"0", b"1", b"2", b"3", b"4"] and full.count == 5
    cut = v3.kv.range(f"{etcd_prefix}/", prefix=True, limit=2)
    assert len(cut.kvs) == 2 and cut.more and cut.count == 5
    keys = v3.kv.range(f"{etcd_prefix}/", prefix=True, keys_only=True)
    assert all(kv.value == b"" for kv in keys.kvs) and len(keys.kvs) == 5
    count = v3.kv.range(f"{etcd_prefix}/", prefix=True, count_only=True)
    assert count.kvs == () and count.count == 5
    assert v3.kv.range(f"{etcd_prefix}/", prefix=True, serializable=True).count == 5
    past = v3.kv.range(f"{etcd_prefix}/", prefix=True, revision=revs[1])
    assert [kv.value for kv in past.kvs] == [b"0", b"1"]
    desc = v3.kv.range(f"{etcd_prefix}/", prefix=True, sort_order="DESCEND")
    assert desc.kvs[0].value == b"4"
    span = v3.kv.range(f"{etcd_prefix}/1", range_end=f"{etcd_prefix}/3")
    assert [kv.value for kv in span.kvs] == [b"1", b"2"]


def test_missing_key_is_not_an_error(v3: Client, etcd_prefix: str) -> None:
    got = v3.kv.range(etcd_prefix)
    assert got.kvs == () and got.count == 0 and got.header.revision > 0
    assert v3.kv.get(etcd_prefix) is None
    assert v3.kv.delete(etcd_prefix).deleted == 0


def test_put_prev_kv_touch_and_ignore_lease(v3: Client, etcd_prefix: str) -> None:
    first = v3.kv.put(etcd_prefix, "1", prev_kv=True)
    assert first.prev_kv is None
    second = v3.kv.put(etcd_prefix, "2", prev_kv=True)
    assert second.prev_kv is not None and second.prev_kv.value == b"1"
    v3.kv.put(etcd_prefix, ignore_value=True)  # a touch: version up, value kept
    kv = v3.kv.range(etcd_prefix).kvs[0]
    assert kv.value == b"2" and kv.version == 3
    with pytest.raises(e.TouchMissingKey):
        v3.kv.put(etcd_prefix + "/none", ignore_value=True)
    with pytest.raises(e.ValueProvided):
        v3.kv.put(etcd_prefix, "x", ignore_value=True)
    lease = v3.lease.grant(60)
    v3.kv.put(etcd_prefix, "3", lease=lease.id)
    v3.kv.put(etcd_prefix, "4", ignore_lease=True)
    assert v3.kv.range(etcd_prefix).kvs[0].lease == lease.id
    v3.lease.revoke(lease.id)


def test_delete_prefix_in_one_revision_with_prev_kvs(v3: Client, etcd_prefix: str) -> None:
    for name in "abc":
        v3.kv.put(f"{etcd_prefix}/{name}", name)
    gone = v3.kv.delete(f"{etcd_prefix}/", prefix=True, prev_kv=True)
    assert gone.deleted == 3 and sorted(kv.value for kv in gone.prev_kvs) == [b"a", b"b", b"c"]
    assert v3.kv.range(f"{etcd_prefix}/", prefix=True, count_only=True).count == 0


def test_txn_success_and_failure_branches(v3: Client, etcd_prefix: str) -> None:
    key = etcd_prefix
    created = v3.kv.txn([Compare.version(key, "==", 0)], [Op.put(key, "first")], [Op.get(key)])
    assert created.succeeded and isinstance(created.responses[0], PutResponse)
    again = v3.kv.txn([Compare.version(key, "==", 0)], [Op.put(key, "second")], [Op.get(key)])
    assert not again.succeeded
    failed = again.responses[0]
    assert isinstance(failed, RangeResponse) and failed.kvs[0].value == b"first"
    rev = failed.kvs[0].mod_revision
    swapped = v3.kv.txn([Compare.mod(key, "==", rev)], [Op.put(key, "cas", prev_kv=True)])
    assert swapped.succeeded
    stale = v3.kv.txn([Compare.mod(key, "==", rev)], [Op.put(key, "lost")])
    assert not stale.succeeded and stale.responses == ()
    by_value = v3.kv.txn([Compare.value(key, "==", "cas")], [Op.delete(key, prev_kv=True)])
    assert by_value.succeeded and v3.kv.get(key) is None
    # the VALUE-on-missing-key trap: never true, even against ""
    assert not v3.kv.txn([Compare.value(key, "==", "")], [Op.put(key, "x")]).succeeded
    nested = v3.kv.txn([], [Op.txn([Compare.version(key, "==", 0)], [Op.put(key, "nested")])])
    assert nested.succeeded and v3.kv.get(key) == b"nested"


def test_txn_limits_are_specific_errors(v3: Client, etcd_prefix: str) -> None:
    too_many = [Op.put(f"{etcd_prefix}/{i}", "v") for i in range(129)]
    with pytest.raises(e.TooManyTxnOps, match="too many operations") as info:
        v3.kv.txn([], too_many)
    assert isinstance(info.value, ValueError) and info.value.status == 400
    with pytest.raises(e.DuplicateKey):
        v3.kv.txn([], [Op.put(etcd_prefix, "a"), Op.delete(etcd_prefix)])
    assert v3.kv.range(f"{etcd_prefix}", prefix=True, count_only=True).count == 0
    assert v3.kv.txn([], [Op.put(f"{etcd_prefix}/{i}", "v") for i in range(128)]).succeeded


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.kv.put("", "v"), e.KeyNotProvided),
        (lambda c: c.kv.range(b""), e.KeyNotProvided),
        (lambda c: c.kv.put(1, "v"), TypeError),
        (lambda c: c.kv.put("k", 1), TypeError),
        (lambda c: c.kv.put("k", None), TypeError),
        (lambda c: c.kv.range("k", revision="1"), TypeError),
        (lambda c: c.kv.range("k", limit=-1), ValueError),
        (lambda c: c.kv.range("k", prefix=1), TypeError),
        (lambda c: c.kv.range("k", sort_order="descend"), ValueError),
        (lambda c: c.kv.range("k", keys_only="yes"), TypeError),
        (lambda c: c.kv.put("k", "\ud800"), ValueError),
        (lambda c: c.kv.txn([Op.get("k")]), TypeError),
        (lambda c: c.kv.compact(0), ValueError),
        (lambda c: c.kv.put("k", "v", lease=123456789), e.LeaseNotFound),
        (lambda c: c.kv.range("k", revision=10**15), e.FutureRevision),
        (lambda c: c.kv.put("k", "x" * 1_600_000), e.RequestTooLarge),
    ],
)
def test_bad_input_raises_specific_errors(v3: Client, call: object, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        call(v3)  # type: ignore[operator]
    assert type(info.value).__module__ in ("builtins",) or type(info.value).__module__.startswith(
        "etcdmap"
    )
    assert str(info.value)


def test_v3_only_server_and_compaction(v3_only: EtcdServer) -> None:
    with Client(v3_only.client_url) as c:
        revs = [c.kv.put("compact/k", str(i)).header.revision for i in range(3)]
        assert c.kv.range("compact/k", revision=revs[0]).kvs[0].value == b"0"
        c.kv.compact(revs[1], physical=True)
        with pytest.raises(e.RevisionCompacted) as info:
            c.kv.range("compact/k", revision=revs[0])
        assert info.value.grpc_code == 11
        assert c.kv.range("compact/k", revision=revs[1]).kvs[0].value == b"1"
        with pytest.raises(e.RevisionCompacted):
            c.kv.compact(revs[1])
        with pytest.raises(e.FutureRevision):
            c.kv.compact(revs[2] + 100)
