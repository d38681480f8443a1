"""``etcdmap --api v3 user|role|auth ...`` against ``etcdctl`` 3.5.1, on a server of this
module's own (auth is cluster-wide): every verb, its formats and errors, ``auth enable`` giving
``root`` its role, and commands with and without credentials once auth is on."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from etcdctl3 import needs_etcdctl3, same

from etcdmap.errors import EtcdMapError
from etcdmap.testing import EtcdServer
from etcdmap.v3 import Client as V3Client

pytestmark = needs_etcdctl3

CLI = Callable[..., Any]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with EtcdServer(enable_v2=False) as server:
        yield server.client_url


@pytest.fixture
def root(url: str) -> Iterator[V3Client]:
    with V3Client(url, username="root", password="rootpw") as client:
        yield client


def quietly(call: Callable[[], object]) -> None:
    with contextlib.suppress(EtcdMapError):
        call()


def test_users(cli: CLI, url: str, root: V3Client) -> None:
    def fresh() -> None:
        quietly(lambda: root.auth.user_delete("u1"))

    for args, stdin in ((("user", "add", "u1:pw"), None),
                        (("user", "add", "u1", "--new-user-password=pw", "-w", "json"), None),
                        (("user", "add", "u1", "--interactive=false", "-w", "fields"), "pw\n")):
        same(cli, url, *args, stdin=stdin, before=fresh)
    quietly(lambda: root.auth.role_add("r1"))
    root.auth.role_grant_permission("r1", "READ", "k1")
    for args in (("user", "add", "u1:again"), ("user", "add", ":pw"), ("user", "add"),
                 ("user", "get", "u1"), ("user", "grant-role", "u1", "r1"),
                 ("user", "grant-role", "u1", "no-such-role"), ("user", "get", "u1"),
                 ("user", "get", "--detail", "u1"), ("user", "get", "u1", "-w", "json"),
                 ("user", "get", "u1", "-w", "fields"), ("user", "list"),
                 ("user", "list", "-w", "json"), ("user", "list", "-w", "fields"),
                 ("user", "revoke-role", "u1"),
                 ("user", "get", "nobody"), ("user", "delete", "nobody")):
        same(cli, url, *args)
    same(cli, url, "user", "revoke-role", "u1", "r1",
         before=lambda: quietly(lambda: root.auth.user_grant_role("u1", "r1")))
    same(cli, url, "user", "passwd", "u1", "--interactive=false", stdin="new\n")
    with V3Client(url, username="u1", password="new") as u1:  # auth is off: any password
        u1.kv.range("k1")

    def recreate() -> None:
        fresh()
        root.auth.user_add("u1", "pw")

    same(cli, url, "user", "delete", "u1", before=recreate)
    same(cli, url, "user", "delete", "u1", "-w", "json", before=recreate)


def test_roles(cli: CLI, url: str, root: V3Client) -> None:
    def fresh() -> None:
        quietly(lambda: root.auth.role_delete("r2"))

    same(cli, url, "role", "add", "r2", before=fresh)
    same(cli, url, "role", "add", "r2", "-w", "json", before=fresh)
    for args in (
        ("role", "add", "r2"),
        ("role", "grant-permission", "r2", "readwrite", "k1"),
        ("role", "grant-permission", "r2", "read", "--prefix", "p/"),
        ("role", "grant-permission", "r2", "WRITE", "a", "z"),
        ("role", "grant-permission", "--from-key", "r2", "read", "f"),
        ("role", "grant-permission", "r2", "write", "", "--prefix"),
        ("role", "grant-permission", "r2", "bogus", "x"),
        ("role", "grant-permission", "r2", "read"),
        ("role", "grant-permission", "--prefix", "r2", "read", "a", "b"),
        ("role", "get", "r2"), ("role", "get", "r2", "-w", "json"),
        ("role", "get", "r2", "-w", "fields"), ("role", "list"), ("role", "list", "-w", "json"),
        ("role", "list", "-w", "fields"), ("role", "get", "nothing"),
    ):
        same(cli, url, *args)

    def granted() -> None:
        fresh()
        root.auth.role_add("r2")
        for key, end in (("k1", None), ("p/", b"p0"), ("a", b"z"), ("f", b"\0")):
            root.auth.role_grant_permission("r2", "READWRITE", key, range_end=end)

    for args in (("role", "revoke-permission", "r2", "k1"),
                 ("role", "revoke-permission", "r2", "--prefix", "p/"),
                 ("role", "revoke-permission", "r2", "a", "z", "-w", "json"),
                 ("role", "revoke-permission", "r2", "f", "--from-key"),
                 ("role", "revoke-permission", "r2", "never-granted"),
                 ("role", "delete", "r2")):
        same(cli, url, *args, before=granted)


def test_auth_enable_status_disable(cli: CLI, url: str, root: V3Client) -> None:
    def root_without_role() -> None:
        quietly(root.auth.disable)
        quietly(lambda: root.auth.user_delete("root"))
        quietly(lambda: root.auth.role_delete("root"))
        root.auth.user_add("root", "rootpw")

    same(cli, url, "auth", "status", "-w", "json", before=root_without_role)
    # etcdctl gives root the root role first, as etcdmap does
    same(cli, url, "auth", "enable", before=root_without_role)
    creds = ("--user", "root:rootpw")
    try:
        for args in (("auth", "status", *creds), ("auth", "status", "-w", "json", *creds),
                     ("get", "k"), ("get", "k", "--user", "root:wrong"),
                     ("get", "k", "--user=root", "--password=rootpw"),
                     ("role", "list", *creds), ("auth", "status", "-w", "fields", *creds)):
            same(cli, url, *args)
    finally:
        same(cli, url, "auth", "disable", *creds, before=lambda: quietly(root.auth.enable))
