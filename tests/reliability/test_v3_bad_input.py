"""Bad input through EtcdMap on the v3 backend: the same cases as ``test_bad_input.py`` raise
the same errors and write nothing; odd values, long keys and big values round-trip or fail
with an etcdmap error (v3's request limit is 1.5 MiB)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from relhelp import assert_clean_error
from test_bad_input import BAD_KEYS, BAD_VALUES

from etcdmap.errors import EtcdMapError
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v3 import Client


@pytest.fixture
def client(etcd_url: str) -> Iterator[Client]:
    with Client(etcd_url, timeout=5.0) as c:
        yield c


@pytest.fixture
def emap(client: Client, etcd_prefix: str) -> EtcdMap:
    return EtcdMap(client, etcd_prefix)


def _nothing_written(client: Client, path: str) -> None:
    assert client.kv.range(path, range_end=path + "0", count_only=True).count == 0


def _expect(call: Callable[[], Any], error: type[Exception]) -> None:
    with pytest.raises(Exception) as info:  # noqa: PT011 - checked precisely just below
        call()
    assert_clean_error(info.value, (error,))


@pytest.mark.parametrize(("key", "error"), BAD_KEYS, ids=[repr(k) for k, _ in BAD_KEYS])
def test_bad_keys(client: Client, emap: EtcdMap, key: Any, error: type[Exception]) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: emap.__setitem__(key, "v"),
        lambda: emap[key],
        lambda: emap.__delitem__(key),
        lambda: emap.create(key, "v"),
        lambda: emap.set(key, "v", ttl=30),
        lambda: emap.setdefault(key, "v"),
        lambda: emap.pop(key),
        lambda: emap.compare_and_swap(key, "n", prev_value="v"),
        lambda: emap.mkdir(key),
        lambda: emap.update({key: "v"}),
        lambda: emap.__setitem__("tree", {"fine": "1", key: "v"}),
    ]
    for call in calls:
        _expect(call, error)
    _nothing_written(client, emap.path)


@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_values_of_the_wrong_type(client: Client, emap: EtcdMap, value: object) -> None:
    for call in (
        lambda: emap.__setitem__("k", value),
        lambda: emap.create("k", value),
        lambda: emap.append(value),
        lambda: emap.update({"ok": "1", "k": value}),
        lambda: emap.__setitem__("tree", {"a": "1", "deep": {"b": "2", "c": value}}),
        lambda: emap.setdefault("k", value),
    ):
        _expect(call, TypeError)
    _nothing_written(client, emap.path)


@pytest.mark.parametrize("ttl", [-1, 0, 0.5, "10", True, [], float("inf")], ids=repr)
def test_bad_ttls(client: Client, emap: EtcdMap, ttl: Any) -> None:
    emap["k"] = "v"
    for call in (
        lambda: emap.set("k", "v", ttl=ttl),
        lambda: emap.set("t", {"a": "1"}, ttl=ttl),
        lambda: emap.create("n", "v", ttl=ttl),
        lambda: emap.refresh("k", ttl),
        lambda: emap.append("v", ttl=ttl),
    ):
        with pytest.raises((TypeError, ValueError, OverflowError)) as info:
            call()
        assert_clean_error(info.value, (TypeError, ValueError, OverflowError))
    assert emap.to_dict() == {"k": "v"}


@pytest.mark.parametrize("index", [-1, "3", 1.0, True], ids=repr)
def test_bad_indexes(emap: EtcdMap, index: Any) -> None:
    emap["k"] = "v"
    for call in (
        lambda: emap.compare_and_swap("k", "n", prev_index=index),
        lambda: emap.compare_and_delete("k", prev_index=index),
        lambda: emap.watch(after_index=index),
    ):
        with pytest.raises((TypeError, ValueError)) as info:
            call()
        assert_clean_error(info.value, (TypeError, ValueError))
    assert emap["k"] == "v"


@pytest.mark.parametrize(
    "value",
    ["", " ", "a\x00b", "\x01\x02\x1f\x7f", "line\r\nbreak", "é€𝄞", "?#%&=+ ", "x" * 10_000],
    ids=["empty", "space", "nul", "controls", "crlf", "unicode", "url-chars", "10k"],
)
def test_odd_values_round_trip(emap: EtcdMap, value: str) -> None:
    emap["k"] = value
    assert emap["k"] == value
    assert emap.to_dict() == {"k": value}
    assert emap.compare_and_swap("k", "next", prev_value=value) if value else True


def test_surrogate_values_are_refused(client: Client, emap: EtcdMap) -> None:
    for call in (lambda: emap.__setitem__("k", "\udc80"), lambda: emap.append("a\ud800"),
                 lambda: emap.update(k="\udc80")):
        _expect(call, ValueError)
    _nothing_written(client, emap.path)


def test_big_value_fails_clearly(emap: EtcdMap) -> None:
    """2 MiB: above etcd's 1.5 MiB request limit on v3."""
    big = "0123456789abcdef" * (2 * 1024 * 1024 // 16)
    with pytest.raises(EtcdMapError) as info:
        emap["big"] = big
    assert_clean_error(info.value, (EtcdMapError,))
    assert "big" not in emap
    emap["fine"] = big[: 1024 * 1024]
    assert emap["fine"] == big[: 1024 * 1024]


@pytest.mark.parametrize("length", [4_000, 10_240])
def test_long_keys_round_trip(etcd_url: str, etcd_prefix: str, length: int) -> None:
    key = "k" * length
    with Client(etcd_url, timeout=5.0) as fresh:
        EtcdMap(fresh, etcd_prefix)[key] = "v"
    with Client(etcd_url, timeout=5.0) as fresh:
        emap = EtcdMap(fresh, etcd_prefix)
        assert emap[key] == "v" and list(emap) == [key]
