"""Typed binding (``m.bind(Model)``) on a v3 map: every test of ``test_typed.py``, run with
its ``client`` fixture replaced by an :class:`etcdmap.v3.Client` (the ``m`` fixture of
conftest.py maps the test's prefix through it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_typed import *  # noqa: F403 - the same tests, collected again here

from etcdmap.v3 import Client as V3Client


@pytest.fixture
def client(etcd_url: str) -> Iterator[V3Client]:  # type: ignore[no-redef]
    with V3Client(etcd_url, timeout=5.0) as c:
        yield c


def test_the_map_is_on_v3(m: object) -> None:
    assert "api='v3'" in repr(m)
