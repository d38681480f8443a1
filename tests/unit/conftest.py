"""Fixtures of the HTTP-layer unit tests: scripted loopback peers and a FastAdapter."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from scripted import ScriptedServer

from etcdmap.http.adapter import FastAdapter

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


@pytest.fixture
def adapter() -> Iterator[FastAdapter]:
    """A FastAdapter, closed after the test."""
    fast = FastAdapter()
    yield fast
    fast.close()
