"""Pure members logic: peer URL validation, member JSON, error mapping (no server)."""

from __future__ import annotations

import json

import pytest

from etcdmap.errors import (
    AuthError,
    InsufficientCredentials,
    InvalidResponseError,
    MemberError,
    MemberExists,
    MemberNotFound,
    MemberRemoved,
    NoLeaderError,
)
from etcdmap.v2.members import (
    error_message,
    member_error,
    parse_member,
    parse_members,
    validate_member_id,
    validate_peer_url,
)
from etcdmap.v2.models import Member
from etcdmap.v2.sync import client_urls


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:2380",
        "https://etcd-2.example.com:12380",
        "http://[::1]:2380",
        "unix://localhost:2380",
        "unixs://localhost:2380",
    ],
)
def test_valid_peer_urls_pass_unchanged(url: str) -> None:
    assert validate_peer_url(url) == url


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("127.0.0.1:2380", "scheme"),
        ("localhost:2380", "scheme"),
        ("ftp://h:2380", "scheme"),
        ("http://h", "host:port"),
        ("http://:2380", "host:port"),
        ("http://h:port", "port"),
        ("http://h:99999", "port"),
        ("http://h:2380/path", "path"),
        ("http://h:2380/", "path"),
        ("http://h:2380?x=1", "path"),
        ("http://user@h:2380", "host:port"),
        ("", "non-empty"),
    ],
)
def test_invalid_peer_urls_raise_clear_value_error(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        validate_peer_url(url)


def test_member_id_validation() -> None:
    assert validate_member_id("2745E2525FCE8FE") == "2745e2525fce8fe"
    assert validate_member_id(Member(id="abc")) == "abc"
    for bad in ("", "xyz", "1" * 17, "a/b"):
        with pytest.raises(ValueError, match="hexadecimal"):
            validate_member_id(bad)


def test_parse_member_full_and_unstarted() -> None:
    m = parse_member(
        {
            "id": "8e9e05c52164694d",
            "name": "infra1",
            "peerURLs": ["http://127.0.0.1:2380"],
            "clientURLs": ["http://127.0.0.1:2379", "http://10.0.0.1:2379"],
        }
    )
    assert m == Member(
        "8e9e05c52164694d",
        "infra1",
        ("http://127.0.0.1:2380",),
        ("http://127.0.0.1:2379", "http://10.0.0.1:2379"),
    )
    # A member added but not started yet: no name, no client URLs (null or []).
    added = parse_member({"id": "1a", "name": "", "peerURLs": ["http://h:1"], "clientURLs": None})
    assert added.name == "" and added.client_urls == ()


@pytest.mark.parametrize("bad", [[], "x", {"name": "n"}, {"id": 5}, {"id": "a", "peerURLs": "h"}])
def test_parse_member_rejects_garbage(bad: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_member(bad)


def test_parse_members() -> None:
    body = {"members": [{"id": "a", "name": "x"}, {"id": "b"}]}
    assert [m.id for m in parse_members(body)] == ["a", "b"]
    assert parse_members({"members": None}) == []
    assert parse_members({}) == []
    with pytest.raises(InvalidResponseError):
        parse_members({"members": {}})
    with pytest.raises(InvalidResponseError):
        parse_members([])


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (404, "No such member: 123", MemberNotFound),
        (409, "membership: peerURL exists", MemberExists),
        (410, "Member permanently removed: 123", MemberRemoved),
        (503, "During election", NoLeaderError),
        (400, 'URL must not contain a path: "http://h:1/x"', MemberError),
        (500, "Internal Server Error", MemberError),
    ],
)
def test_member_errors_carry_the_server_message(
    status: int, message: str, cls: type[MemberError]
) -> None:
    err = member_error(status, json.dumps({"message": message}).encode())
    assert type(err) is cls
    assert isinstance(err, MemberError)
    assert err.message == message and err.status == status
    assert message in str(err)
    assert "unexpected status" not in str(err)


def test_member_401_is_an_auth_error() -> None:
    err = member_error(401, b'{"message":"Insufficient credentials"}')
    assert isinstance(err, InsufficientCredentials) and isinstance(err, AuthError)
    assert err.message == "Insufficient credentials"


def test_error_message_of_non_json_bodies() -> None:
    assert error_message(b"404 page not found\n") == "404 page not found"
    assert error_message(b'{"other": 1}') == '{"other": 1}'
    assert len(error_message(b"x" * 1000)) < 200
    assert member_error(415, b"").message == "HTTP 415"


def test_client_urls_for_sync() -> None:
    members = [
        Member("a", "m0", (), ("http://127.0.0.1:2379/", "http://10.0.0.1:2379")),
        Member("b", "", ("http://h:2380",), ()),  # added, not started: no client URL
        Member("c", "m2", (), ("unix://sock:0", "http://127.0.0.1:2379", "https://h:2379")),
    ]
    assert client_urls(members) == [
        "http://127.0.0.1:2379",
        "http://10.0.0.1:2379",
        "https://h:2379",
    ]
    assert client_urls([Member("b")]) == []
