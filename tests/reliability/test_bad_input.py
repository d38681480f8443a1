"""Bad input through EtcdMap on both APIs (the ``api`` fixture: v2 and v3), and through v2's
keys API: each case raises the documented error (``TypeError``/``ValueError`` or an etcdmap
error), writes nothing, and never surfaces an exception of the layers below. Odd values and
long keys round-trip exactly; a value over v3's 1.5 MiB request limit fails with an etcdmap
error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from apis import AnyClient, assert_nothing_under, client_for, only
from relhelp import assert_clean_error

from etcdmap import Client, EtcdMap
from etcdmap.errors import EtcdMapError

BAD_KEYS: list[tuple[object, type[Exception]]] = [
    ("", ValueError),
    ("a/b", ValueError),
    ("/", ValueError),
    ("..", ValueError),
    (".", ValueError),
    ("a\x00b", ValueError),
    ("\x00", ValueError),
    ("bell\x07", ValueError),
    ("line\nbreak", ValueError),
    ("tab\tkey", ValueError),
    ("del\x7f", ValueError),
    ("\udc80", ValueError),
    ("ok\ud800", ValueError),
    (1, TypeError),
    (None, TypeError),
    (b"bytes", TypeError),
    (("a", "b"), TypeError),
]
BAD_VALUES: list[object] = [1, 1.5, None, b"bytes", ["a"], {"a"}, object(), True]
BAD_TTLS: list[object] = [-1, 0, 0.5, "10", True, [], float("inf")]
BAD_INDEXES: list[object] = [-1, "3", 1.0, True]
BIG = "0123456789abcdef" * (2 * 1024 * 1024 // 16)  # 2 MiB, over v3's 1.5 MiB request limit


def _id(value: object) -> str:
    """A test id that is the same in every run (``repr(object())`` holds an address)."""
    return "object()" if type(value) is object else repr(value)


@pytest.fixture
def client(api: str, etcd_url: str) -> Iterator[AnyClient]:
    with client_for(api, etcd_url, timeout=5.0) as c:
        yield c


@pytest.fixture
def emap(client: AnyClient, etcd_prefix: str) -> EtcdMap:
    return EtcdMap(client, etcd_prefix)


def _expect(call: Callable[[], Any], error: type[Exception]) -> None:
    with pytest.raises(Exception) as info:  # noqa: PT011 - checked precisely just below
        call()
    assert_clean_error(info.value, (error,))


# ------------------------------------------------------------------ EtcdMap, both APIs


@pytest.mark.parametrize(("key", "error"), BAD_KEYS, ids=[repr(k) for k, _ in BAD_KEYS])
def test_bad_keys(client: AnyClient, emap: EtcdMap, key: Any, error: type[Exception]) -> None:
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
    assert key not in emap  # as ``1 in {}``: False, no error
    assert_nothing_under(client, emap.path)


@pytest.mark.parametrize("path", ["/a/../b", "/a/./b", "/a/\x00/b", "/bad\udc80", 5], ids=_id)
def test_bad_map_paths(client: AnyClient, path: Any) -> None:
    with pytest.raises((TypeError, ValueError)) as info:
        EtcdMap(client, path)
    assert_clean_error(info.value, (TypeError, ValueError))


@pytest.mark.parametrize("value", BAD_VALUES, ids=_id)
def test_values_of_the_wrong_type(client: AnyClient, emap: EtcdMap, value: object) -> None:
    for call in (
        lambda: emap.__setitem__("k", value),
        lambda: emap.create("k", value),
        lambda: emap.append(value),
        lambda: emap.update({"ok": "1", "k": value}),
        lambda: emap.__setitem__("tree", {"a": "1", "deep": {"b": "2", "c": value}}),
        lambda: emap.setdefault("k", value),
    ):
        _expect(call, TypeError)
    assert_nothing_under(client, emap.path)


@pytest.mark.parametrize("value", [object(), {1, 2}, float("nan"), b"raw"], ids=_id)
def test_json_codec_refuses_unserialisable(
    client: AnyClient, etcd_prefix: str, value: object
) -> None:
    emap = EtcdMap(client, etcd_prefix, codec="json")
    with pytest.raises((TypeError, ValueError)) as info:
        emap["k"] = value
    assert_clean_error(info.value, (TypeError, ValueError))
    assert_nothing_under(client, etcd_prefix)


@pytest.mark.parametrize("ttl", BAD_TTLS, ids=_id)
def test_bad_ttls(emap: EtcdMap, ttl: Any) -> None:
    emap["k"] = "v"
    for call in (
        lambda: emap.set("new", "v", ttl=ttl),
        lambda: emap.set("k", "v2", ttl=ttl),
        lambda: emap.set("t", {"a": "1"}, ttl=ttl),
        lambda: emap.create("n", "v", ttl=ttl),
        lambda: emap.refresh("k", ttl),
        lambda: emap.append("v", ttl=ttl),
    ):
        with pytest.raises((TypeError, ValueError, OverflowError)) as info:
            call()
        assert_clean_error(info.value, (TypeError, ValueError, OverflowError))
    assert emap.to_dict() == {"k": "v"}


@pytest.mark.parametrize("index", BAD_INDEXES, ids=_id)
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
    assert not emap.compare_and_swap("k", "next", prev_value=value + "x")
    assert emap.compare_and_swap("k", "next", prev_value=value)
    assert emap["k"] == "next"


def test_surrogate_values_are_refused(client: AnyClient, emap: EtcdMap) -> None:
    for call in (
        lambda: emap.__setitem__("k", "\udc80"),
        lambda: emap.append("a\ud800"),
        lambda: emap.update(k="\udc80"),
    ):
        _expect(call, ValueError)
    assert_nothing_under(client, emap.path)


def test_big_value_round_trips_or_fails_clearly(api: str, emap: EtcdMap) -> None:
    """2 MiB is over the v3 API's 1.5 MiB request limit (etcd's ``--max-request-bytes``),
    which the v2 API does not apply: v3 refuses it with an etcdmap error and stores nothing,
    v2 stores it or fails the same way. 1 MiB round-trips on both."""
    try:
        emap["big"] = BIG
    except EtcdMapError as exc:
        assert_clean_error(exc, (EtcdMapError,))
        assert "big" not in emap
    else:
        assert api == "v2", "v3 took a request over its 1.5 MiB limit"
        assert emap["big"] == BIG
    emap["fine"] = BIG[: 1024 * 1024]
    assert emap["fine"] == BIG[: 1024 * 1024]


@pytest.mark.parametrize("length", [4_000, 10_240])
def test_long_keys_round_trip_on_a_fresh_connection(
    api: str, etcd_url: str, etcd_prefix: str, length: int
) -> None:
    """etcd 3.4/3.5 sniff the first 4,096 bytes of a new connection (cmux) and reset it when
    the request line is longer; the same request on a reused connection works. A key must
    not work or fail depending on the connection pool's state."""
    key = "k" * length
    with client_for(api, etcd_url, timeout=5.0) as fresh:  # no pooled connection yet
        EtcdMap(fresh, etcd_prefix)[key] = "v"
    with client_for(api, etcd_url, timeout=5.0) as fresh:
        emap = EtcdMap(fresh, etcd_prefix)
        assert emap[key] == "v"
        assert list(emap) == [key]


def test_long_key_create_is_not_reported_ambiguous(
    api: str, etcd_url: str, etcd_prefix: str
) -> None:
    """A create the server refused before reading it must not be an AmbiguousResultError."""
    with client_for(api, etcd_url, timeout=5.0) as fresh:
        emap = EtcdMap(fresh, etcd_prefix)
        emap.create("k" * 10_240, "v")
        assert emap["k" * 10_240] == "v"


# ------------------------------------------------------------------ v2's keys API


@only("v2")
def test_keys_api_refuses_non_str(client: Client, etcd_prefix: str) -> None:
    for call in (
        lambda: client.keys.get(5),  # type: ignore[arg-type]
        lambda: client.keys.set(None, "v"),  # type: ignore[arg-type]
        lambda: client.keys.delete(b"/x"),  # type: ignore[arg-type]
        lambda: client.keys.get(etcd_prefix, recursive="yes"),  # type: ignore[arg-type]
    ):
        _expect(call, TypeError)
    assert_nothing_under(client, etcd_prefix)


@pytest.mark.parametrize("value", BAD_VALUES, ids=_id)
@only("v2")
def test_keys_api_refuses_values_of_the_wrong_type(
    client: Client, etcd_prefix: str, value: object
) -> None:
    with pytest.raises(TypeError) as info:
        client.keys.set(etcd_prefix + "/k", value)  # type: ignore[arg-type]
    assert_clean_error(info.value, (TypeError,))
    assert_nothing_under(client, etcd_prefix)


@pytest.mark.parametrize("ttl", BAD_TTLS, ids=_id)
@only("v2")
def test_keys_api_refuses_bad_ttls(client: Client, etcd_prefix: str, ttl: Any) -> None:
    with pytest.raises((TypeError, ValueError, OverflowError)) as info:
        client.keys.set(etcd_prefix + "/k", "v", ttl=ttl)
    assert_clean_error(info.value, (TypeError, ValueError, OverflowError))
    assert_nothing_under(client, etcd_prefix)


@pytest.mark.parametrize("index", BAD_INDEXES, ids=_id)
@only("v2")
def test_keys_api_refuses_bad_indexes(client: Client, etcd_prefix: str, index: Any) -> None:
    key = etcd_prefix + "/k"
    client.keys.set(key, "v")
    for call in (
        lambda: client.keys.set(key, "n", prev_index=index),
        lambda: client.keys.watcher(etcd_prefix, after_index=index),
    ):
        with pytest.raises((TypeError, ValueError)) as info:
            call()
        assert_clean_error(info.value, (TypeError, ValueError))
    assert client.keys.get(key).node.value == "v"
