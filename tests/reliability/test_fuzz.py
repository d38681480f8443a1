"""Hypothesis fuzzing: keys and values through EtcdMap against a real etcd, and random server
answers through the pure parsing layer (``_wire``, members, auth, stats).

What it proves: a key/value pair either round-trips exactly or raises the documented
``ValueError``/``TypeError`` before anything is written; the parsers turn any answer into a
well-typed model or an ``InvalidResponseError``/``EtcdError``, never another exception.
"""

from __future__ import annotations

import contextlib
import json
import unicodedata
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from etcdmap.errors import EtcdError, InvalidResponseError, KeyNotFound
from etcdmap.mapping.emap import EtcdMap
from etcdmap.models import Node
from etcdmap.v2 import auth_wire, members, stats
from etcdmap.v2 import wire as _wire
from etcdmap.v2.client import Client
from etcdmap.v2.models import Response

PARSE_ERRORS = (InvalidResponseError, EtcdError)

# ------------------------------------------------------------------ random server answers

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False), st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
node_fields = {
    "key": st.one_of(st.text(max_size=20), scalars),
    "value": st.one_of(st.text(max_size=20), scalars),
    "dir": st.one_of(st.booleans(), scalars),
    "createdIndex": st.one_of(st.integers(min_value=0, max_value=2**64), scalars),
    "modifiedIndex": st.one_of(st.integers(min_value=0, max_value=2**64), scalars),
    "ttl": st.one_of(st.integers(min_value=-5, max_value=10**12), scalars),
    "expiration": st.one_of(
        st.datetimes().map(lambda d: d.isoformat() + "Z"), st.text(max_size=40), scalars
    ),
}
nodes = st.recursive(
    st.fixed_dictionaries({}, optional=node_fields),
    lambda inner: st.fixed_dictionaries(
        {}, optional={**node_fields, "nodes": st.one_of(st.lists(inner, max_size=3), scalars)}
    ),
    max_leaves=6,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "action": st.one_of(st.sampled_from(["get", "set", "delete", "expire"]), scalars),
        "node": st.one_of(nodes, scalars),
        "prevNode": st.one_of(nodes, scalars),
        "errorCode": st.one_of(st.integers(min_value=-1, max_value=600), scalars),
        "message": json_values, "cause": json_values, "index": json_values,
    },
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    events.map(lambda v: json.dumps(v).encode()),
    events.map(lambda v: json.dumps(v).encode()[: len(json.dumps(v)) // 2]),  # truncated
)
statuses = st.one_of(st.sampled_from([200, 201, 400, 401, 403, 404, 412, 500, 503]),
                     st.integers(min_value=100, max_value=599))
index_headers: st.SearchStrategy[dict[str, str]] = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"X-Etcd-Index": st.one_of(
        st.integers(min_value=-3, max_value=2**64).map(str), st.text(max_size=10)
    )}),
)


def _check_node(node: Node | None) -> None:
    if node is None:
        return
    assert isinstance(node.key, str)
    assert node.value is None or isinstance(node.value, str)
    assert isinstance(node.dir, bool)
    assert type(node.created_index) is int and type(node.modified_index) is int
    assert node.ttl is None or type(node.ttl) is int
    assert node.expiration is None or isinstance(node.expiration, datetime)
    for child in node.nodes:
        _check_node(child)


@settings(max_examples=600, deadline=None)
@given(status=statuses, headers=index_headers, body=bodies)
@example(status=200, headers={}, body=b'{"action":null}')  # found by this test (bugs.md)
@example(status=201, headers={}, body=b'{"action":5,"node":{"key":"/a","value":"v"}}')
@example(status=200, headers={}, body=b'{"action":"get","node":{"key":"/a","ttl":"x"}}')
@example(status=200, headers={}, body=b'{"action":"get","node":{"key":"/a","createdIndex":"1"}}')
@example(status=200, headers={}, body=b'{"action":"get","node":{"key":"/a","nodes":[5]}}')
def test_decode_response_never_raises_anything_else(
    status: int, headers: dict[str, str], body: bytes
) -> None:
    try:
        response = _wire.decode_response(status, headers, body, "http://fuzz:2379")
    except PARSE_ERRORS:
        return
    assert isinstance(response, Response)
    assert isinstance(response.action, str), f"action {response.action!r} from {body!r}"
    assert type(response.index) is int and response.index >= 0
    _check_node(response.node)
    _check_node(response.prev_node)


@settings(max_examples=300, deadline=None)
@given(status=statuses, body=bodies)
def test_decode_error_never_raises(status: int, body: bytes) -> None:
    error = _wire.decode_error(status, body, "http://fuzz:2379")
    assert error is None or isinstance(error, EtcdError)


PARSERS: dict[str, Callable[[Any], object]] = {
    "members": members.parse_members,
    "member": members.parse_member,
    "user": auth_wire.parse_user,
    "role": auth_wire.parse_role,
    "self_stats": stats.parse_self_stats,
    "leader_stats": stats.parse_leader_stats,
    "store_stats": stats.parse_store_stats,
}


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=150, deadline=None)
@given(obj=json_values)
def test_admin_parsers_only_raise_invalid_response(name: str, obj: Any) -> None:
    with contextlib.suppress(InvalidResponseError):
        PARSERS[name](obj)


@settings(max_examples=200, deadline=None)
@given(status=statuses, body=bodies)
def test_version_and_health_parsers(status: int, body: bytes) -> None:
    for parse in (lambda: stats.parse_version(body), lambda: stats.parse_health(status, body)):
        with contextlib.suppress(InvalidResponseError):
            parse()


# ------------------------------------------------------------------ keys and values on etcd


def _valid_key(key: str) -> bool:
    if key in ("", ".", "..") or "/" in key:
        return False
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in key):
        return False
    return len(key.encode("utf-8", "surrogatepass")) < 2000  # see test_bad_input: long keys


def _valid_value(value: str) -> bool:
    return not any(unicodedata.category(ch) == "Cs" for ch in value)


@pytest.fixture(scope="module")
def fuzz_client(etcd_server: Any) -> Iterator[Client]:
    with Client(etcd_server.client_url, timeout=5.0) as c:
        yield c


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.text(max_size=40), value=st.text(max_size=300))
def test_keys_and_values_round_trip_or_fail_cleanly(
    fuzz_client: Client, etcd_prefix: str, key: str, value: str
) -> None:
    emap = EtcdMap(fuzz_client, etcd_prefix)
    if not _valid_key(key) or not _valid_value(value):
        with pytest.raises(ValueError) as info:
            emap[key] = value
        module = type(info.value).__module__
        assert module == "builtins" or module.startswith("etcdmap.errors")
        _assert_empty(fuzz_client, etcd_prefix)
        return
    emap[key] = value
    try:
        assert emap[key] == value
        assert key in emap
        if not key.startswith("_"):  # hidden keys are not listed (etcd)
            assert emap.to_dict() == {key: value}
    finally:
        del emap[key]
    assert key not in emap
    _assert_empty(fuzz_client, etcd_prefix)


def _assert_empty(client: Client, prefix: str) -> None:
    """Nothing below ``prefix`` (the directory itself may exist: hypothesis reuses the prefix)."""
    try:
        node = client.keys.get(prefix, recursive=True).node
    except KeyNotFound:
        return
    assert node is not None and node.dir and not node.nodes, node
