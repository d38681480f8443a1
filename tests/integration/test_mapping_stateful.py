"""Hypothesis state machine: random operation sequences on an EtcdMap and on a model dict.

After every step the map's :meth:`~etcdmap.mapping.EtcdMap.to_dict` must equal the model.
Each example runs in a fresh sub-directory of the test's prefix on the shared etcd server.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from etcdmap.errors import KeyNotFound, NotAFile
from etcdmap.mapping.emap import EtcdMap
from etcdmap.v2.client import Client

KEYS = st.sampled_from(["a", "b", "c d", "é", "q?#"])
VALUES = st.text(alphabet="xy é%&+", max_size=3)
TREES = st.recursive(
    VALUES,
    lambda inner: st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=5,
).filter(lambda t: isinstance(t, dict))


def plain(value: Any) -> Any:
    return value.to_dict() if isinstance(value, EtcdMap) else value


class MappingMachine(RuleBasedStateMachine):
    client: Client
    prefix: str

    def __init__(self) -> None:
        super().__init__()
        self.map = EtcdMap(self.client, f"{self.prefix}/{uuid.uuid4().hex[:8]}")
        self.model: dict[str, Any] = {}

    @rule(key=KEYS, value=VALUES)
    def set_leaf(self, key: str, value: str) -> None:
        self.map[key] = value
        self.model[key] = value

    @rule(key=KEYS, tree=TREES)
    def set_tree(self, key: str, tree: dict[str, Any]) -> None:
        self.map[key] = tree
        self.model[key] = tree

    @precondition(lambda self: any(isinstance(v, dict) for v in self.model.values()))
    @rule(data=st.data(), sub=KEYS, value=VALUES | TREES)
    def set_nested(self, data: st.DataObject, sub: str, value: Any) -> None:
        key = data.draw(
            st.sampled_from(sorted(k for k, v in self.model.items() if isinstance(v, dict)))
        )
        self.map[key][sub] = value
        self.model[key] = {**self.model[key], sub: value}

    @rule(key=KEYS)
    def delete(self, key: str) -> None:
        if key in self.model:
            del self.map[key]
            del self.model[key]
        else:
            with pytest.raises(KeyError):
                del self.map[key]

    @rule(key=KEYS, default=VALUES)
    def pop(self, key: str, default: str) -> None:
        assert plain(self.map.pop(key, default)) == self.model.pop(key, default)

    @rule()
    def popitem(self) -> None:
        if not self.model:
            with pytest.raises(KeyError):
                self.map.popitem()
            return
        key, value = self.map.popitem()
        first = min(self.model)  # EtcdMap pops the first key in sorted order
        assert (key, value) == (first, self.model.pop(first))

    @rule(key=KEYS, value=VALUES)
    def setdefault(self, key: str, value: str) -> None:
        assert plain(self.map.setdefault(key, value)) == self.model.setdefault(key, value)

    @rule(items=st.dictionaries(KEYS, VALUES | TREES, max_size=3))
    def update(self, items: dict[str, Any]) -> None:
        self.map.update(items)
        self.model.update(items)

    @rule()
    def clear(self) -> None:
        self.map.clear()
        self.model.clear()

    @rule(key=KEYS, new=VALUES, guess=VALUES, right=st.booleans())
    def compare_and_swap(self, key: str, new: str, guess: str, right: bool) -> None:
        current = self.model.get(key)
        if current is None:
            with pytest.raises(KeyNotFound):
                self.map.compare_and_swap(key, new, prev_value=guess)
        elif isinstance(current, dict):
            with pytest.raises(NotAFile):
                self.map.compare_and_swap(key, new, prev_value=guess)
        else:
            prev = current if right else guess
            swapped = self.map.compare_and_swap(key, new, prev_value=prev)
            assert swapped == (prev == current)
            if swapped:
                self.model[key] = new

    @invariant()
    def same_content(self) -> None:
        assert self.map.to_dict() == self.model
        assert sorted(self.map) == sorted(self.model)


def test_etcdmap_behaves_like_a_dict(client: Client, etcd_prefix: str) -> None:
    MappingMachine.client = client
    MappingMachine.prefix = etcd_prefix
    run_state_machine_as_test(
        MappingMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
