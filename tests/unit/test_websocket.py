"""The v3 watch WebSocket (etcdmap.http.websocket, etcdmap.v3.watch_mux) against a scripted
loopback WebSocket server: routing by watch id, fragments, bad frames, oversize messages, a
close in the middle of a message, a silent socket, a refused upgrade."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ws_fake import FakeWebSocketServer, Peer

from etcdmap.errors import ClusterError, EtcdMapError
from etcdmap.http.hub import StreamHub
from etcdmap.http.transport import Transport
from etcdmap.http.websocket import UpgradeRefused, WebSocket, WebSocketError, upgrade
from etcdmap.v3 import Client
from etcdmap.v3.watch_mux import WatchMux

H = {"cluster_id": "1", "member_id": "2", "revision": "7", "raft_term": "2"}


def answer(watch_id: int, **fields: Any) -> str:
    result: dict[str, Any] = {"header": H, **fields}
    if watch_id:
        result["watch_id"] = str(watch_id)
    return json.dumps({"result": result})


def etcd_like(peer: Peer, text: str) -> None:
    """Answers like etcd: created, then one event per created watch; cancel; progress."""
    req = json.loads(text)
    if "create_request" in req:
        wid = int(req["create_request"]["watch_id"])
        peer.text(answer(wid, created=True))
        peer.text(answer(wid, events=[{"kv": {"key": "YQ==", "mod_revision": "8"}}]))
    elif "cancel_request" in req:
        peer.text(answer(int(req["cancel_request"]["watch_id"]), canceled=True))
    elif "progress_request" in req:
        peer.text(answer(-1))


class Watches:
    """Collects what the mux routes to each watch."""

    def __init__(self) -> None:
        self.lines: dict[int, list[bytes]] = {}
        self.ends: dict[int, list[EtcdMapError | None]] = {}
        self.cond = threading.Condition()

    def callbacks(self, n: int) -> dict[str, Callable[..., None]]:
        def on_lines(lines: list[bytes]) -> None:
            with self.cond:
                self.lines.setdefault(n, []).extend(lines)
                self.cond.notify_all()

        def on_end(error: EtcdMapError | None) -> None:
            with self.cond:
                self.ends.setdefault(n, []).append(error)
                self.cond.notify_all()

        return {"on_lines": on_lines, "on_end": on_end}

    def wait(self, pred: Callable[[], bool], timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(pred, timeout)


class Fallback:
    mode = "http"

    def __init__(self) -> None:
        self.opened: list[dict[str, Any]] = []

    def open(self, create: dict[str, Any], **_kw: Any) -> tuple[str, Any]:
        self.opened.append(create)
        return "http://fallback", self


@pytest.fixture
def hub() -> Iterator[StreamHub]:
    h = StreamHub(name="t-ws")
    yield h
    h.close()


def mux_for(url: str, hub: StreamHub, idle: float = 5.0) -> tuple[Client, WatchMux, Fallback]:
    client = Client(url, timeout=2.0)
    fallback = Fallback()
    return client, WatchMux(client, hub, fallback, idle=idle), fallback  # type: ignore[arg-type]


CREATE = {"key": "YQ==", "range_end": "Yg==", "prev_kv": True, "start_revision": "8"}


def test_every_watch_shares_one_socket_and_gets_its_own_answers(hub: StreamHub) -> None:
    with FakeWebSocketServer(etcd_like) as server:
        client, mux, fallback = mux_for(server.url, hub)
        got = Watches()
        handles = [mux.open(CREATE, avoid=None, **got.callbacks(i))[1] for i in range(3)]
        assert got.wait(lambda: all(len(got.lines.get(i, [])) == 2 for i in range(3)))
        assert len(server.upgrades) == 1 and server.upgrades[0][0] == "/v3/watch"
        assert mux.mode == "websocket" and mux.sockets == 1 and not fallback.opened
        ids = [json.loads(m)["create_request"]["watch_id"] for m in server.messages]
        assert ids == ["1", "2", "3"]  # chosen by the client: never 0
        assert all(json.loads(m)["create_request"]["fragment"] for m in server.messages)
        for i in range(3):  # each watch got the answers with its own id, in order
            assert [json.loads(line)["result"].get("watch_id") for line in got.lines[i]] == \
                [str(i + 1)] * 2
        handles[1].close()
        assert server.wait(lambda: any("cancel_request" in m for m in server.messages))
        assert json.loads(server.messages[-1]) == {"cancel_request": {"watch_id": "2"}}
        client.close()


def fragments(peer: Peer, text: str) -> None:
    wid = int(json.loads(text)["create_request"]["watch_id"])
    whole = answer(wid, created=True)
    peer.text(whole[:10], final=False)
    peer.text(whole[10:20], final=False)
    peer.text(whole[20:])


def test_a_message_in_fragments_arrives_whole(hub: StreamHub) -> None:
    with FakeWebSocketServer(fragments) as server:
        client, mux, _ = mux_for(server.url, hub)
        got = Watches()
        mux.open(CREATE, avoid=None, **got.callbacks(0))
        assert got.wait(lambda: bool(got.lines.get(0)))
        assert json.loads(got.lines[0][0])["result"]["created"] is True
        client.close()


@pytest.mark.parametrize(("misbehave", "said"), [
    (lambda peer: peer.raw(b"\x8f\x00"), "bad WebSocket frame"),  # reserved opcode
    (lambda peer: peer.raw(b"\x82\x01x"), "binary WebSocket message"),
    (lambda peer: (peer.text("{", final=False), peer.drop()), "closed the WebSocket connection"),
    (lambda peer: peer.close(1011), "closed the WebSocket (code 1011"),
])
def test_a_broken_socket_ends_every_watch_on_it(
    hub: StreamHub, misbehave: Callable[[Peer], object], said: str
) -> None:
    def script(peer: Peer, text: str) -> None:
        if len(server.messages) == 2:
            misbehave(peer)

    with FakeWebSocketServer(script) as server:
        client, mux, _ = mux_for(server.url, hub)
        got = Watches()
        for i in range(2):
            mux.open(CREATE, avoid=None, **got.callbacks(i))
        assert got.wait(lambda: len(got.ends) == 2)
        for i in range(2):
            (error,) = got.ends[i]
            assert isinstance(error, ClusterError) and said in str(error), error
        assert mux.sockets == 0  # the next watch opens a new one
        client.close()


def test_an_oversize_message_is_refused(hub: StreamHub) -> None:
    closed: list[WebSocketError] = []
    done = threading.Event()

    def big(peer: Peer, _text: str) -> None:
        peer.text("x" * 3000)

    with FakeWebSocketServer(big) as server, Transport(server.url) as t:
        sock, ws = upgrade(t, server.url, "/v3/watch", token=None, timeout=2)
        sock_ws = WebSocket(hub, sock, ws, server.url, on_message=lambda _m: None,
                            on_close=lambda e: (closed.append(e), done.set()), max_message=1000)
        sock_ws.send("{}")
        assert done.wait(5)
    assert "longer than 1000 bytes" in str(closed[0])


def test_a_silent_socket_is_probed_then_dropped(hub: StreamHub) -> None:
    def silent(peer: Peer, text: str) -> None:
        if "create_request" in text:
            peer.text(answer(int(json.loads(text)["create_request"]["watch_id"]), created=True))

    with FakeWebSocketServer(silent) as server:
        client, mux, _ = mux_for(server.url, hub, idle=0.1)
        got = Watches()
        mux.open(CREATE, avoid=None, **got.callbacks(0))
        assert got.wait(lambda: bool(got.ends), 5)
        assert '{"progress_request":{}}' in server.messages
        assert "did not answer a progress request" in str(got.ends[0][0])
        client.close()


def test_an_answered_probe_keeps_an_idle_socket(hub: StreamHub) -> None:
    with FakeWebSocketServer(etcd_like) as server:
        client, mux, _ = mux_for(server.url, hub, idle=0.05)
        got = Watches()
        mux.open(CREATE, avoid=None, **got.callbacks(0))
        assert server.wait(lambda: server.messages.count('{"progress_request":{}}') >= 3)
        assert not got.ends and mux.sockets == 1
        client.close()


def test_a_refused_upgrade_falls_back_to_http_streams(hub: StreamHub) -> None:
    with FakeWebSocketServer(etcd_like, refuse=404) as server:
        client, mux, fallback = mux_for(server.url, hub)
        endpoint, _ = mux.open(CREATE, avoid=None, **Watches().callbacks(0))
        assert endpoint == "http://fallback" and fallback.opened == [CREATE]
        assert mux.mode == "http" and "HTTP 404" in (mux.refused or "")
        mux.open(CREATE, avoid=None, **Watches().callbacks(1))
        assert len(server.upgrades) == 1  # not asked again
        client.close()


def test_the_token_goes_as_the_bearer_subprotocol(hub: StreamHub) -> None:
    with FakeWebSocketServer(etcd_like) as server, Transport(server.url) as t:
        sock, _ = upgrade(t, server.url + "/prefix", "/v3/watch", token="tok.42", timeout=2)
        sock.close()
    assert server.upgrades == [("/prefix/v3/watch", ["Bearer", "tok.42"])]


def test_a_session_that_cannot_hand_over_its_socket_is_refused() -> None:
    import requests

    with Transport("http://127.0.0.1:9", session=requests.Session()) as t, \
            pytest.raises(UpgradeRefused, match="cannot hand a socket over"):
        upgrade(t, "http://127.0.0.1:9", "/v3/watch", token=None, timeout=1)


def refuse_second_without_id(peer: Peer, text: str) -> None:
    """etcd 3.4 refuses a create with ``watch_id: -1`` (not the id asked for)."""
    wid = int(json.loads(text)["create_request"]["watch_id"])
    if wid == 2:
        peer.text(answer(-1, created=True, canceled=True,
                         cancel_reason="rpc error: code = PermissionDenied desc = "
                                       "etcdserver: permission denied"))
    else:
        peer.text(answer(wid, created=True))


def test_a_refusal_without_an_id_reaches_the_watch_it_refused(hub: StreamHub) -> None:
    with FakeWebSocketServer(refuse_second_without_id) as server:
        client, mux, _ = mux_for(server.url, hub)
        got = Watches()
        for i in range(3):
            mux.open(CREATE, avoid=None, **got.callbacks(i))
        assert got.wait(lambda: all(got.lines.get(i) for i in range(3)))
        refusal = json.loads(got.lines[1][0])["result"]
        assert refusal["canceled"] and "permission denied" in refusal["cancel_reason"]
        assert all(json.loads(got.lines[i][0])["result"].get("canceled") is None for i in (0, 2))
        client.close()
