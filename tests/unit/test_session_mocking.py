"""Users' mocking libraries intercept etcdmap: requests-mock on a default Client, ``responses``
on a Client over ``requests.Session()``; environment settings resolved with requests' rules."""

from __future__ import annotations

import json

import pytest
import requests
import requests_mock
import responses

from etcdmap.errors import ClusterError, KeyNotFound
from etcdmap.http.session import default_session, endpoint_settings
from etcdmap.v2.client import Client

URL = "http://etcd.test:2379"
_NODE = {"action": "get", "node": {"key": "/config/db", "value": "pg", "modifiedIndex": 7,
                                   "createdIndex": 7}}
_MISSING = {"errorCode": 100, "message": "Key not found", "cause": "/config/x", "index": 7}
_INDEX = {"X-Etcd-Index": "7"}


def test_requests_mock_intercepts_a_default_client() -> None:
    with requests_mock.Mocker() as mock, Client(URL) as c:
        mock.get(URL + "/v2/keys/config/db", json=_NODE, headers=_INDEX)
        mock.get(URL + "/v2/keys/config/x", status_code=404, json=_MISSING, headers=_INDEX)
        mock.put(URL + "/v2/keys/config/db", json={**_NODE, "action": "set"}, headers=_INDEX)
        mock.get(URL + "/version", json={"etcdserver": "3.5.1", "etcdcluster": "3.5.0"})
        node = c.keys.get("/config/db").node
        assert node is not None and node.value == "pg"
        with pytest.raises(KeyNotFound):
            c.keys.get("/config/x")
        assert c.keys.set("/config/db", "pg").action == "set"
        assert c.version().server == "3.5.1"
        assert mock.request_history[2].text == "value=pg"
        assert mock.request_history[2].headers["Accept"] == "application/json"


def test_requests_mock_serves_a_watch() -> None:
    event = {"action": "set", "node": {"key": "/a", "value": "1", "modifiedIndex": 9,
                                       "createdIndex": 9}}
    with requests_mock.Mocker() as mock, Client(URL) as c:
        mock.get(URL + "/v2/keys/a?wait=true", content=json.dumps(event).encode(),
                 headers={"X-Etcd-Index": "8"})
        got = c.keys.watcher("/a").next(timeout=2)
    assert got.node is not None and got.node.modified_index == 9


def test_requests_mock_connection_errors_fail_over() -> None:
    with requests_mock.Mocker() as mock, Client([URL, "http://other.test:2379"]) as c:
        mock.get(URL + "/v2/keys/a", exc=requests.ConnectTimeout)
        mock.get("http://other.test:2379/v2/keys/a", exc=requests.ConnectTimeout)
        with pytest.raises(ClusterError) as info:
            c.keys.get("/a")
    assert not info.value.maybe_applied  # connect timeouts never reached a member


@responses.activate
def test_responses_intercepts_a_client_on_a_plain_session() -> None:
    responses.add(responses.GET, URL + "/v2/keys/config/db", json=_NODE, headers=_INDEX)
    with Client(URL, session=requests.Session()) as c:
        node = c.keys.get("/config/db").node
    assert node is not None and node.value == "pg"
    assert len(responses.calls) == 1


def test_a_user_session_is_not_closed_by_the_client() -> None:
    session = requests.Session()
    with Client(URL, session=session) as c:
        assert c.session is session
    assert session.adapters  # still usable
    with pytest.raises(TypeError):
        Client(URL, session="nope")  # type: ignore[arg-type]


def test_default_session_mounts_the_fast_adapter() -> None:
    from etcdmap.http.adapter import FastAdapter  # noqa: PLC0415

    session = default_session()
    assert isinstance(session.get_adapter("http://h:1/"), FastAdapter)
    assert isinstance(session.get_adapter("https://h:1/"), FastAdapter)
    assert "Accept-Encoding" not in session.headers


def test_ca_bundle_environment_follows_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ca-a.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ca-b.pem")
    session = requests.Session()
    assert endpoint_settings(session, "https://h:1", None, None).verify == "/etc/ca-a.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    assert endpoint_settings(session, "https://h:1", True, None).verify == "/etc/ca-b.pem"
    assert endpoint_settings(session, "https://h:1", "/mine.pem", None).verify == "/mine.pem"
    assert endpoint_settings(session, "https://h:1", False, None).verify is False
    session.trust_env = False
    assert endpoint_settings(session, "https://h:1", None, None).verify is True


def test_proxy_environment_follows_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.test:3128")
    session = requests.Session()
    assert endpoint_settings(session, "http://h:1", None, None).proxy == "http://proxy.test:3128"
    assert endpoint_settings(session, "https://h:1", None, None).proxy is None
    monkeypatch.setenv("NO_PROXY", "h")
    assert endpoint_settings(session, "http://h:1", None, None).proxy is None
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.setenv("ALL_PROXY", "socks5://proxy.test:1080")
    assert endpoint_settings(session, "https://h:1", None, None).proxy == "socks5://proxy.test:1080"
    session.trust_env = False
    assert endpoint_settings(session, "http://h:1", None, None).proxy is None
