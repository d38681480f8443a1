"""The watch hub's I/O thread (etcdmap.http.hub) and member checks (etcdmap.http.liveness),
against scripted loopback peers (answers as raw bytes; no etcd needed for the framing)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests
from scripted import ScriptedServer, ok

from etcdmap.errors import ClusterError, EtcdMapError
from etcdmap.http.hub import StreamHub
from etcdmap.http.liveness import Liveness
from etcdmap.http.transport import Transport

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


END = b"0\r\n\r\n"


class Sink:
    """Records what the hub calls back, with events to wait on."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.ends: list[EtcdMapError | None] = []
        self.silences = 0
        self.threads: set[str] = set()
        self.cond = threading.Condition()

    def on_lines(self, lines: list[bytes]) -> None:
        with self.cond:
            self.threads.add(threading.current_thread().name)
            self.lines += lines
            self.cond.notify_all()

    def on_end(self, error: EtcdMapError | None) -> None:
        with self.cond:
            self.ends.append(error)
            self.cond.notify_all()

    def on_silence(self) -> None:
        with self.cond:
            self.silences += 1
            self.cond.notify_all()

    def wait(self, pred: Callable[[], bool], timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(pred, timeout)


@pytest.fixture
def hub() -> Iterator[StreamHub]:
    h = StreamHub(name="t-hub")
    yield h
    h.close()


def scripted(steps: list[bytes | threading.Event]) -> Callable[[socket.socket], None]:
    """An answer written in steps; an Event step waits (bounded) before going on."""

    def answer(conn: socket.socket) -> None:
        for step in steps:
            if isinstance(step, threading.Event):
                step.wait(5)
            else:
                conn.sendall(step)

    return answer


def test_lines_split_anywhere_arrive_whole_and_in_order(hub: StreamHub) -> None:
    go = threading.Event()
    body = [HEAD + chunk(b'{"a": 1}\n{"b"'), go, chunk(b": 2}\n\n"), chunk(b'{"c": 3}\r\n'), END]
    with ScriptedServer([scripted(body), ok(b"again")]) as server, Transport(server.url) as t:
        sink = Sink()
        hub.attach(t.stream("/s", read_timeout=2), on_lines=sink.on_lines, on_end=sink.on_end)
        assert sink.wait(lambda: len(sink.lines) == 1)
        go.set()
        assert sink.wait(lambda: bool(sink.ends))
        assert sink.lines == [b'{"a": 1}', b'{"b": 2}', b'{"c": 3}']
        assert sink.ends == [None]
        assert sink.threads == {"t-hub-io"}
        # a body that ended cleanly gave its connection back to the pool
        assert t.request("GET", "/again").body == b"again"
        assert server.connections == 1


def test_events_that_came_with_the_head_are_not_lost(hub: StreamHub) -> None:
    body = HEAD + chunk(b"first\nsecond\n")
    with ScriptedServer([scripted([body, threading.Event()])]) as server, \
            Transport(server.url) as t:
        sink = Sink()
        stream = hub.attach(t.stream("/s", read_timeout=2), on_lines=sink.on_lines,
                            on_end=sink.on_end)
        assert sink.wait(lambda: sink.lines == [b"first", b"second"])
        stream.close()


def test_silence_after_the_head_is_reported_once(hub: StreamHub) -> None:
    late = threading.Event()
    with ScriptedServer([scripted([HEAD, late, chunk(b"late\n")])]) as server, \
            Transport(server.url) as t:
        sink = Sink()
        stream = hub.attach(t.stream("/s", read_timeout=2), on_lines=sink.on_lines,
                            on_end=sink.on_end, silence=0.05, on_silence=sink.on_silence)
        assert sink.wait(lambda: sink.silences == 1)
        late.set()
        assert sink.wait(lambda: sink.lines == [b"late"])
        stream.close()
    assert sink.silences == 1 and sink.ends == []


def test_a_broken_body_ends_with_a_cluster_error(hub: StreamHub) -> None:
    def broken(conn: socket.socket) -> None:
        conn.sendall(HEAD + chunk(b"one\n") + b"ff\r\nshort")
        conn.shutdown(socket.SHUT_WR)

    with ScriptedServer([broken]) as server, Transport(server.url) as t:
        sink = Sink()
        hub.attach(t.stream("/s", read_timeout=2), on_lines=sink.on_lines, on_end=sink.on_end)
        assert sink.wait(lambda: bool(sink.ends))
    assert sink.lines == [b"one"]
    assert isinstance(sink.ends[0], ClusterError)
    assert server.url in str(sink.ends[0])


def test_close_stops_the_callbacks_and_closes_the_connection(hub: StreamHub) -> None:
    more = threading.Event()
    closed = threading.Event()

    def answer(conn: socket.socket) -> None:
        conn.sendall(HEAD + chunk(b"one\n"))
        more.wait(5)
        try:
            conn.sendall(chunk(b"two\n"))
            conn.settimeout(5)
            if conn.recv(1) == b"":
                closed.set()
        except OSError:
            closed.set()

    with ScriptedServer([answer]) as server, Transport(server.url) as t:
        sink = Sink()
        stream = hub.attach(t.stream("/s", read_timeout=2), on_lines=sink.on_lines,
                            on_end=sink.on_end)
        assert sink.wait(lambda: sink.lines == [b"one"])
        stream.close()
        more.set()
        assert closed.wait(5), "the hub did not close the connection"
    assert sink.lines == [b"one"] and sink.ends == []


def test_a_sleeping_io_thread_is_woken_by_other_threads(hub: StreamHub) -> None:
    # The command that starts the I/O thread must not swallow the next wake-up.
    with ScriptedServer([scripted([HEAD, threading.Event()])]) as server, \
            Transport(server.url) as t:
        sink = Sink()
        stream = hub.attach(t.stream("/s", read_timeout=2), on_lines=sink.on_lines,
                            on_end=sink.on_end)
        for _ in range(3):
            fired = threading.Event()
            hub.call_later(0.0, fired.set)
            assert fired.wait(2), "a timer set from another thread never ran"
        stream.close()


def test_the_io_thread_ends_when_idle_and_comes_back(hub: StreamHub) -> None:
    for _ in range(2):
        fired = threading.Event()
        hub.call_later(0.0, fired.set)
        assert fired.wait(2)
        for thread in [th for th in threading.enumerate() if th.name == "t-hub-io"]:
            thread.join(5)
            assert not thread.is_alive(), "the idle I/O thread did not end"


def test_streams_of_another_adapter_are_read_by_a_thread_each(hub: StreamHub) -> None:
    body = [HEAD + chunk(b"x\ny\n"), END]
    with ScriptedServer([scripted(body)]) as server, \
            Transport(server.url, session=requests.Session()) as t:
        sink = Sink()
        hub.attach(t.stream("/s", read_timeout=2), on_lines=sink.on_lines, on_end=sink.on_end)
        assert sink.wait(lambda: bool(sink.ends))
    assert sink.lines == [b"x", b"y"] and sink.ends == [None]
    assert sink.threads == {"t-hub-stream"}


# ---------------------------------------------------------------------- member checks


class Checker:
    def __init__(self) -> None:
        self.reason: str | None = None
        self.calls: list[str] = []
        self.cond = threading.Condition()

    def __call__(self, endpoint: str, timeout: float) -> str | None:
        with self.cond:
            self.calls.append(endpoint)
            self.cond.notify_all()
        return self.reason


def test_one_periodic_check_per_member_shared_by_its_streams(hub: StreamHub) -> None:
    checker = Checker()
    failed: list[tuple[str, str]] = []
    down: list[str] = []

    def on_failed(ep: str, reason: str) -> None:
        with checker.cond:
            failed.append((ep, reason))
            checker.cond.notify_all()

    live = Liveness(hub, checker, 0.5, lambda ep, reason: down.append(ep))
    tokens = [live.use("http://a", 0.05, on_failed) for _ in range(10)]
    with checker.cond:
        assert checker.cond.wait_for(lambda: len(checker.calls) >= 3, 5)
    assert set(checker.calls) == {"http://a"}
    checker.reason = "RAFT NO LEADER"
    with checker.cond:
        assert checker.cond.wait_for(lambda: len(failed) >= 10, 5)
    assert failed[:10] == [("http://a", "RAFT NO LEADER")] * 10
    assert down and down[0] == "http://a"
    for token in tokens:
        live.release("http://a", token)


def test_confirm_waits_for_a_check_that_started_after(hub: StreamHub) -> None:
    checker = Checker()
    live = Liveness(hub, checker, 0.5)
    answers: list[bool] = []
    done = threading.Event()

    def got(ok: bool) -> None:
        answers.append(ok)
        done.set()

    live.confirm("http://b", time.monotonic(), got)
    assert done.wait(5) and answers == [True] and len(checker.calls) == 1
    done.clear()
    live.confirm("http://b", time.monotonic() - 60, got)  # an earlier check answers it
    assert done.wait(5) and answers == [True, True] and len(checker.calls) == 1
    checker.reason = "down"
    done.clear()
    live.confirm("http://b", time.monotonic(), got)
    assert done.wait(5) and answers[-1] is False


def test_a_line_in_many_pieces_arrives_whole(hub: StreamHub) -> None:
    line = b'{"big": "' + b"x" * 200_000 + b'"}'
    pieces = [line[i:i + 997] for i in range(0, len(line), 997)]
    body = [HEAD, *[chunk(p) for p in pieces], chunk(b"\r\n" + b"next\n"), END]
    with ScriptedServer([scripted(body)]) as server, Transport(server.url) as t:
        sink = Sink()
        hub.attach(t.stream("/s", read_timeout=2), on_lines=sink.on_lines, on_end=sink.on_end)
        assert sink.wait(lambda: bool(sink.ends))
    assert sink.lines == [line, b"next"] and sink.ends == [None]


def test_a_failing_io_thread_tells_every_stream_and_starts_again(hub: StreamHub) -> None:
    # Registering a closed socket fails inside the I/O thread: the hub must not freeze.
    with ScriptedServer([scripted([HEAD, threading.Event()])]) as server, \
            Transport(server.url) as t:
        sink = Sink()
        hub.attach(t.stream("/s", read_timeout=2), on_lines=sink.on_lines, on_end=sink.on_end)
        errors: list[BaseException] = []
        dead = socket.socket()
        dead.close()
        hub.add_reader(dead, lambda _w: None, errors.append)
        assert sink.wait(lambda: bool(sink.ends))
        assert isinstance(sink.ends[0], ClusterError)
        assert "I/O thread failed" in str(sink.ends[0])
        assert len(errors) == 1 and hub.restarts == 1
        fired = threading.Event()
        hub.call_later(0.0, fired.set)
        assert fired.wait(2), "the hub's timers froze with its I/O thread"


def test_a_reader_that_fails_is_dropped_and_told(hub: StreamHub) -> None:
    here, there = socket.socketpair()
    errors: list[BaseException] = []
    told = threading.Event()

    def ready(_writable: bool) -> None:
        raise ValueError("bad frame")

    def on_error(exc: BaseException) -> None:
        errors.append(exc)
        told.set()

    hub.add_reader(here, ready, on_error)
    there.sendall(b"x")
    assert told.wait(2) and isinstance(errors[0], ValueError)
    assert hub.streams == 0
    assert here.fileno() == -1  # the hub closed its socket
    there.close()
