"""Fixtures of the asyncio tests: ``async def`` tests run by ``asyncio.run``, scripted peers.

No pytest-asyncio: a coroutine test function is run here, each in a fresh event loop
(``asyncio.run``), bounded by :data:`TEST_TIMEOUT`; its fixtures are ordinary (synchronous)
ones. A transport left with open sockets at the end of a test shows as an unraisable
``ResourceWarning``, which the suite's configuration turns into an error.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "unit"))  # the scripted peer (scripted.py)

from scripted import ScriptedServer  # noqa: E402

TEST_TIMEOUT = 60.0
Serve = Callable[..., ScriptedServer]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests in a fresh event loop."""
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test):
        return None
    names = inspect.signature(test).parameters
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(asyncio.wait_for(test(**kwargs), TEST_TIMEOUT))
    return True


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start scripted loopback servers (each answers its connections from a script)."""
    servers: list[ScriptedServer] = []

    def start(*answers: object, context: object = None) -> ScriptedServer:
        servers.append(ScriptedServer(answers, context))  # type: ignore[arg-type]
        return servers[-1]

    yield start
    for server in servers:
        server.close()


class EchoServer(ScriptedServer):
    """A loopback HTTP/1.1 peer that answers every request with its own target as the body,
    the head and the body sent apart (``pause`` seconds between): a connection reused with
    the rest of an old answer in it would give a request another request's answer.

    :ivar connections: connections accepted.
    :ivar closed: connections the client closed (the server read EOF or a reset).
    """

    def __init__(self, pause: float = 0.002) -> None:
        self.pause = pause
        self.closed = 0
        super().__init__([])

    def _serve(self, conn: socket.socket, number: int) -> None:
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                target = head.split(b" ")[1]
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(target))
                threading.Event().wait(self.pause)
                conn.sendall(target)
        except OSError:
            return
        finally:
            with self._lock:
                self.closed += 1
            conn.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    """An :class:`EchoServer`, closed after the test."""
    server = EchoServer()
    yield server
    server.close()
