"""The lean HTTP/1.1 exchange of etcdmap._pool, fed through a socketpair (no server, no network)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from etcdmap._pool import AttemptError, BadAnswer, Connection, ConnectionPool, RawResponse, exchange


@pytest.fixture
def pair() -> Iterator[tuple[Connection, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.settimeout(2)
    theirs.settimeout(2)
    conn = Connection(ours, "h:1")
    yield conn, theirs
    conn.close()
    theirs.close()


def _answer(pair: tuple[Connection, socket.socket], raw: bytes, method: str = "GET") -> RawResponse:
    conn, peer = pair
    peer.sendall(raw)
    return RawResponse(conn, method)


def test_content_length_body(pair: tuple[Connection, socket.socket]) -> None:
    resp = _answer(pair, b"HTTP/1.1 201 Created\r\nX-Etcd-Index: 7\r\nContent-Length: 5\r\n\r\nhello")
    assert resp.status == 201
    assert resp.headers["x-etcd-index"] == "7"
    assert resp.read() == b"hello"
    assert not resp.will_close


def test_chunked_body_and_lines(pair: tuple[Connection, socket.socket]) -> None:
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"6\r\n{\"a\":1\r\n3;ext=1\r\n}\n{\r\n4\r\n\"b\"}\r\n2\r\n\n\n\r\n0\r\nTrailer: x\r\n\r\n")
    resp = _answer(pair, raw)
    assert resp.readline() == b'{"a":1}\n'
    assert resp.readline() == b'{"b"}\n'
    assert resp.readline() == b"\n"
    assert resp.readline() == b""
    assert resp.read() == b""


def test_chunked_read_all(pair: tuple[Connection, socket.socket]) -> None:
    resp = _answer(pair, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert resp.read() == b"abcde"


def test_body_until_close_and_connection_close(pair: tuple[Connection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>")
    peer.shutdown(socket.SHUT_WR)
    resp = RawResponse(conn, "GET")
    assert resp.will_close
    assert resp.read() == b"<html>"


def test_no_body_statuses_and_informational(pair: tuple[Connection, socket.socket]) -> None:
    resp = _answer(pair, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n"
                         b"Connection: close\r\n\r\n")
    assert resp.status == 204
    assert resp.will_close
    assert resp.read() == b""


@pytest.mark.parametrize(
    "raw",
    [b"", b"SSH-2.0-OpenSSH\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"],
)
def test_not_http(pair: tuple[Connection, socket.socket], raw: bytes) -> None:
    conn, peer = pair
    peer.sendall(raw)
    peer.shutdown(socket.SHUT_WR)
    with pytest.raises(BadAnswer):
        RawResponse(conn, "GET")


def test_truncated_body(pair: tuple[Connection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    peer.shutdown(socket.SHUT_WR)
    with pytest.raises(BadAnswer, match="middle of the body"):
        RawResponse(conn, "GET").read()


def test_exchange_writes_one_request(pair: tuple[Connection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    resp, body = exchange(conn, method="PUT", target="/v2/keys/a%20b?dir=true",
                          body=b"value=x", headers={"Authorization": "Basic eDp5"}, preload=True)
    assert (resp.status, body) == (200, b"ok")
    sent = peer.recv(4096)
    assert sent == (b"PUT /v2/keys/a%20b?dir=true HTTP/1.1\r\nHost: h:1\r\n"
                    b"Authorization: Basic eDp5\r\nContent-Length: 7\r\n\r\nvalue=x")


def test_exchange_empty_put_has_content_length(pair: tuple[Connection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    exchange(conn, method="PUT", target="/x", body=None, headers={}, preload=True)
    assert b"Content-Length: 0\r\n" in peer.recv(4096)


def test_exchange_failure_after_sending_is_sent(pair: tuple[Connection, socket.socket]) -> None:
    conn, peer = pair
    peer.close()
    with pytest.raises(AttemptError) as info:
        exchange(conn, method="POST", target="/x", body=b"v", headers={}, preload=True)
    assert info.value.sent


def test_exchange_timeout_is_flagged(pair: tuple[Connection, socket.socket]) -> None:
    conn, _peer = pair
    conn.settimeout(0.05)
    with pytest.raises(AttemptError) as info:
        exchange(conn, method="GET", target="/x", body=None, headers={}, preload=True)
    assert info.value.sent and info.value.timed_out


def test_abort_wakes_a_blocked_reader(pair: tuple[Connection, socket.socket]) -> None:
    conn, peer = pair
    peer.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    resp = RawResponse(conn, "GET")
    conn.settimeout(5)
    timer = threading.Timer(0.1, conn.abort)
    timer.start()
    with pytest.raises((BadAnswer, OSError)):
        resp.readline()
    timer.join()


def test_pool_reuses_live_and_drops_dead_connections() -> None:
    pool = ConnectionPool("http://127.0.0.1:1", None, maxsize=1)
    live_a, live_b = socket.socketpair()
    dead_a, dead_b = socket.socketpair()
    live, dead = Connection(live_a, "x"), Connection(dead_a, "x")
    pool.put(live)
    pool.put(dead)  # over maxsize: closed at once
    assert dead_a.fileno() == -1
    assert pool.connection(1.0) is live
    pool.put(live)
    live_b.close()  # the peer went away while the connection was idle
    with pytest.raises(AttemptError) as info:  # so a new one is opened: refused on port 1
        pool.connection(1.0)
    assert not info.value.sent
    dead_b.close()
    pool.close()


# ------------------------------------------------------------------ long request lines (cmux)

_PRIMING = b"GET /version HTTP/1.1\r\nHost: h:1\r\n\r\n"
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def _long_target(line_length: int, method: str = "GET") -> str:
    """A target whose request line (``METHOD target HTTP/1.1``) is ``line_length`` long."""
    return "/v2/keys/" + "k" * (line_length - len(method) - 10 - len("/v2/keys/"))


@pytest.fixture
def fresh_pair() -> Iterator[tuple[Connection, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.settimeout(2)
    theirs.settimeout(2)
    conn = Connection(ours, "h:1", fresh=True)
    yield conn, theirs
    conn.close()
    theirs.close()


def _received(conn: Connection, peer: socket.socket) -> bytes:
    """Everything the connection sent (its write side is shut first: no timeout needed)."""
    if conn.sock.fileno() != -1:
        conn.sock.shutdown(socket.SHUT_WR)
    data = b""
    while chunk := peer.recv(65536):
        data += chunk
    return data


def _head(method: str, target: str, body: bytes | None = None) -> bytes:
    length = b"" if body is None else b"Content-Length: %d\r\n" % len(body)
    return f"{method} {target} HTTP/1.1\r\nHost: h:1\r\n".encode() + length + b"\r\n" + (body or b"")


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_long_request_line_on_a_fresh_connection_is_primed(
    fresh_pair: tuple[Connection, socket.socket], method: str
) -> None:
    conn, peer = fresh_pair
    target = _long_target(4095, method)
    version = b'{"etcdserver":"3.5.1","etcdcluster":"3.5.0"}'
    peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(version), version))
    peer.sendall(_OK + _OK)
    body = b"value=v" if method == "PUT" else None
    resp, data = exchange(conn, method=method, target=target, body=body, headers={}, preload=True)
    assert (resp.status, data) == (200, b"ok")
    assert not conn.fresh
    exchange(conn, method="GET", target=target, body=None, headers={}, preload=True)
    # primed once, then the request; the second request goes as is
    assert _received(conn, peer) == _PRIMING + _head(method, target, body) + _head("GET", target)


@pytest.mark.parametrize(("fresh", "line"), [(True, 4094), (False, 4095), (False, 20_000)])
def test_no_priming_for_short_lines_or_used_connections(
    fresh_pair: tuple[Connection, socket.socket], fresh: bool, line: int
) -> None:
    conn, peer = fresh_pair
    conn.fresh = fresh
    target = _long_target(line)
    peer.sendall(_OK)
    exchange(conn, method="GET", target=target, body=None, headers={}, preload=True)
    sent = _received(conn, peer)
    assert sent == _head("GET", target)
    assert sent.index(b"\r\n") == line


@pytest.mark.parametrize(
    "answer",
    [b"", b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", b"garbage\r\n"],
    ids=["reset", "closes", "garbage"],
)
def test_failed_priming_means_never_sent(
    fresh_pair: tuple[Connection, socket.socket], answer: bytes
) -> None:
    conn, peer = fresh_pair
    peer.sendall(answer)
    peer.shutdown(socket.SHUT_WR)
    with pytest.raises(AttemptError) as info:
        exchange(conn, method="POST", target=_long_target(5000, "POST"), body=b"v", headers={},
                 preload=True)
    assert not info.value.sent  # safe to fail over: the request itself never left
    assert conn.sock.fileno() == -1
    assert _received(conn, peer) == _PRIMING


def test_pool_marks_returned_connections_used() -> None:
    pool = ConnectionPool("http://127.0.0.1:1", None)
    ours, theirs = socket.socketpair()
    conn = Connection(ours, "x", fresh=True)
    pool.put(conn)
    assert pool.connection(1.0) is conn
    assert not conn.fresh
    conn.close()
    theirs.close()
