"""The transport's direct path (``Requester.direct``/``exchange``: no ``PreparedRequest``, no
``Response`` when the session adds nothing to a request) puts the same bytes on the wire as the
prepared path, and is left for the prepared one whenever something on the session must see
the request: a hook, a cookie, session auth, another adapter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.auth import HTTPBasicAuth
from scripted import ScriptedServer, ok

from etcdmap.http.adapter import FastAdapter
from etcdmap.http.response import DirectAnswer
from etcdmap.http.session import default_session
from etcdmap.http.transport import Transport

JSON = b'{"a":1}'


def _exchange(session: requests.Session | None, **kw: Any) -> tuple[bytes, bytes, int]:
    """One POST with a JSON body and a call header; what the server got, and the status."""
    with ScriptedServer([ok(JSON, b"Content-Type: application/json\r\n")]) as srv:
        with Transport(f"http://127.0.0.1:{srv.port}", session=session, **kw) as t:
            result = t.request("POST", "/v3/kv/range", body=b'{"key":"YQ=="}',
                               content_type="application/json", headers={"X-Token": "t"})
        assert result.body == JSON and result.headers["content-type"] == "application/json"
        (_, head, body), = srv.requests
        return head.replace(b":%d\r\n" % srv.port, b":PORT\r\n"), body, result.status


def _hooked() -> requests.Session:
    session = default_session()
    session.hooks["response"].append(lambda r, *a, **k: r)
    return session


def test_the_direct_path_sends_what_the_prepared_path_sends() -> None:
    direct = _exchange(None)
    prepared = _exchange(_hooked())  # a hook: the prepared path
    assert direct == prepared
    head = direct[0].decode("latin-1")
    assert head.startswith("POST /v3/kv/range HTTP/1.1\r\n")
    for line in ("Content-Type: application/json", "X-Token: t", "Content-Length: 14",
                 "Accept: application/json"):
        assert line in head.split("\r\n")
    assert "Host: 127.0.0.1:PORT" in head.split("\r\n")


def test_basic_auth_of_the_client_goes_the_direct_path_too() -> None:
    direct = _exchange(None, username="u", password="p")
    prepared = _exchange(_hooked(), username="u", password="p")
    assert direct == prepared and b"Authorization: Basic dTpw" in direct[0]


Setup = Callable[[requests.Session], object]
SETUPS: dict[str, Setup] = {
    "response hook": lambda s: s.hooks["response"].append(lambda r, *a, **k: r),
    "cookie": lambda s: s.cookies.set("c", "1"),
    "session auth": lambda s: setattr(s, "auth", HTTPBasicAuth("u", "p")),
    "another adapter": lambda s: s.mount("http://", requests.adapters.HTTPAdapter()),
    "a FastAdapter subclass": lambda s: s.mount("http://", type("Mine", (FastAdapter,), {})()),
}


def test_a_plain_default_session_takes_the_direct_path(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []
    real = FastAdapter.exchange

    def spy(self: FastAdapter, *args: Any, **kwargs: Any) -> DirectAnswer:
        answer = real(self, *args, **kwargs)
        seen.append(answer)
        return answer

    monkeypatch.setattr(FastAdapter, "exchange", spy)
    _exchange(None)
    assert len(seen) == 1 and isinstance(seen[0], DirectAnswer)


@pytest.mark.parametrize("setup", SETUPS.values(), ids=SETUPS.keys())
def test_whatever_the_session_adds_takes_the_prepared_path(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FastAdapter, "exchange", lambda *a, **k: pytest.fail("went direct"))
    session = default_session()
    setup(session)
    head, _, status = _exchange(session)
    assert status == 200 and head.startswith(b"POST /v3/kv/range ")
