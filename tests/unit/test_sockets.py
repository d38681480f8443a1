"""The fast adapter's socket primitives: readiness without the GIL, kernel deadlines."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from etcdmap.http import sockets
from etcdmap.http.connection import Connection
from etcdmap.v2 import wire


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


@pytest.fixture(params=["libc poll", "select fallback"])
def readiness_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "select fallback":
        monkeypatch.setattr(sockets, "_POLL", None)
    elif sockets._POLL is None:  # pragma: no cover - a platform without libc poll
        pytest.skip("no libc poll here")
    return str(request.param)


def test_idle_socket_is_not_readable(pair: tuple[socket.socket, socket.socket],
                                     readiness_impl: str) -> None:
    assert not sockets.Readiness(pair[0])()


def test_stray_bytes_make_it_readable(pair: tuple[socket.socket, socket.socket],
                                      readiness_impl: str) -> None:
    ready = sockets.Readiness(pair[0])
    pair[1].sendall(b"x")
    assert ready()


def test_peer_close_makes_it_readable(pair: tuple[socket.socket, socket.socket],
                                      readiness_impl: str) -> None:
    ready = sockets.Readiness(pair[0])
    pair[1].close()
    assert ready()


def test_own_close_counts_as_readable(pair: tuple[socket.socket, socket.socket],
                                      readiness_impl: str) -> None:
    ready = sockets.Readiness(pair[0])
    pair[0].close()
    assert ready()  # never handed out again


def test_plain_sockets_use_kernel_timeouts(pair: tuple[socket.socket, socket.socket]) -> None:
    assert sockets.uses_kernel_timeouts(pair[0])


def test_kernel_timeout_bounds_a_blocking_recv(pair: tuple[socket.socket, socket.socket]) -> None:
    sock = pair[0]
    sock.settimeout(None)
    sockets.set_kernel_timeout(sock, 0.05)
    started = time.monotonic()
    with pytest.raises(BlockingIOError):
        sock.recv(10)
    assert 0.03 < time.monotonic() - started < 2
    sockets.set_kernel_timeout(sock, None)  # back to waiting forever
    pair[1].sendall(b"ok")
    assert sock.recv(10) == b"ok"


def test_connection_reports_a_kernel_timeout_as_timeout_error(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    conn = Connection(pair[0], "http://x", "x", fresh=False, generation=0)
    assert pair[0].gettimeout() is None  # blocking: the deadline is the kernel's
    conn.start("GET")
    conn.set_budget(0.05)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        conn.receive()
    assert time.monotonic() - started < 2


def test_connection_back_from_non_blocking_waits_again(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    conn = Connection(pair[0], "http://x", "x", fresh=False, generation=0)
    conn.set_budget(0.05)
    conn.set_blocking(False)
    with pytest.raises(BlockingIOError):
        pair[0].recv(10)
    conn.set_blocking(True)  # no deadline until set_budget/set_idle
    pair[1].sendall(b"late")
    assert pair[0].recv(10) == b"late"


def test_key_path_of_a_str_subclass_equals_the_plain_one() -> None:
    class Key(str):
        pass

    assert wire.key_path(Key("/a b")) == wire.key_path("/a b") == "/v2/keys/a%20b"
