"""Fixtures of the reliability campaign shared by its modules: a cluster spread over three
loopback addresses and a real partition of one of its members (nftables)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from relhelp import HOSTS

from etcdmap.testing import EtcdCluster, Partition, nft_unavailable


@pytest.fixture
def spread_cluster() -> Iterator[EtcdCluster]:
    """Three members, each on its own loopback address (``HOSTS``; the third runs as
    ``nobody``, so that its outgoing connections can be matched). Needs root and ``nft``: the
    test is skipped otherwise."""
    reason = nft_unavailable()
    if reason is not None:
        pytest.skip(f"no real partition possible: {reason}")
    with EtcdCluster(3, hosts=HOSTS, users=[None, None, "nobody"]) as cluster:
        yield cluster


@pytest.fixture
def partition(request: pytest.FixtureRequest, spread_cluster: EtcdCluster) -> Iterator[Partition]:
    """The rules isolating the member on ``HOSTS[2]`` from its peers (installed by the test:
    ``.cut()``; clients still reach it), always removed afterwards."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:40]
    isolated = next(m for m in spread_cluster.members if m.host == HOSTS[2])
    others = [m for m in spread_cluster.members if m is not isolated]
    part = Partition(f"etcdmap_{name}_{os.getpid()}", isolated, others)
    try:
        yield part
    finally:
        part.heal()
