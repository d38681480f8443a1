"""Fixtures of the HTTP-layer unit tests: scripted loopback peers, the framing, a FastAdapter."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from scripted import ScriptedServer

from etcdmap.http.adapter import FastAdapter
from etcdmap.http.framing_choice import ENV_FRAMING, FRAMINGS

Serve = Callable[..., ScriptedServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start scripted loopback servers (each answers its connections from a script)."""
    servers: list[ScriptedServer] = []

    def start(*answers: bytes | Callable[[socket.socket], None]) -> ScriptedServer:
        servers.append(ScriptedServer(answers))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(params=FRAMINGS)
def framing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each framing in turn (httptools, h11), for the adapter of the test and for every
    adapter it makes (``ETCDMAP_FRAMING``); httptools is skipped when not installed."""
    name: str = request.param
    if name == "httptools":
        pytest.importorskip("httptools")
    monkeypatch.setenv(ENV_FRAMING, name)
    return name


@pytest.fixture
def adapter(framing: str) -> Iterator[FastAdapter]:
    """A FastAdapter with the test's framing, closed after the test."""
    fast = FastAdapter(framing=framing)
    yield fast
    fast.close()
