"""``TransportOptions``: one definition of the transport settings, for every client, with the
keyword arguments of before."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import requests

import etcdmap
import etcdmap.v3
from etcdmap.http.options import TransportOptions
from etcdmap.http.transport import Transport

CLIENTS = [etcdmap.Client, etcdmap.v3.Client, Transport]


@pytest.mark.parametrize("make", CLIENTS)
def test_every_keyword_argument_of_before_still_works(make: type) -> None:
    session = requests.Session()
    with make("http://a:1", timeout=2.0, request_timeout=0.5, username="u", password="p",
              verify=False, cert=("c.pem", "k.pem"), max_redirects=3, session=session) as c:
        transport = c if isinstance(c, Transport) else c.transport
        assert (transport.timeout, transport.request_timeout, transport.max_redirects) == \
            (2.0, 0.5, 3)
        assert (transport.verify, transport.cert) == (False, ("c.pem", "k.pem"))
        assert transport.session is session


@pytest.mark.parametrize("make", CLIENTS)
def test_options_as_one_value_and_keywords_over_it(make: type) -> None:
    base = TransportOptions(timeout=2.0, request_timeout=1.0, max_redirects=4)
    with make("http://a:1", options=base, request_timeout=0.25) as c:
        transport = c if isinstance(c, Transport) else c.transport
        assert (transport.timeout, transport.request_timeout, transport.max_redirects) == \
            (2.0, 0.25, 4)
    assert base.request_timeout == 1.0  # the given value is not changed


@pytest.mark.parametrize(("make", "owner"), [(etcdmap.Client, "Client"),
                                              (etcdmap.v3.Client, "etcdmap.v3.Client"),
                                              (Transport, "Transport")])
def test_a_misspelt_option_is_a_type_error_naming_it(make: type, owner: str) -> None:
    with pytest.raises(TypeError, match=rf"^{owner}\(\) got an unexpected keyword argument "
                                        r"'request_timout' \(did you mean 'request_timeout'\?\)"):
        make("http://a:1", request_timout=1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'zzz'$"):
        make("http://a:1", zzz=1)


@pytest.mark.parametrize(
    ("settings", "error", "words"),
    [({"timeout": 0}, ValueError, "timeout must be a positive number"),
     ({"timeout": "5"}, TypeError, "timeout must be a number of seconds or None, not str"),
     ({"request_timeout": -1}, ValueError, "request_timeout must be"),
     ({"timeout": True}, ValueError, "timeout must be"),
     ({"max_redirects": -1}, ValueError, "max_redirects must be an int >= 0"),
     ({"max_redirects": 1.5}, ValueError, "max_redirects"),
     ({"username": 5}, TypeError, "username must be a str or None, not int"),
     ({"password": b"pw"}, TypeError, "password must be a str or None, not bytes"),
     ({"verify": 1}, TypeError, "verify must be True, False, a CA bundle path or None"),
     ({"cert": ("only-one",)}, TypeError, "cert must be a PEM path"),
     ({"cert": 3}, TypeError, "cert must be a PEM path"),
     ({"session": object()}, TypeError, "session must be a requests.Session, not object")],
)
def test_bad_values_are_refused_in_one_place(
    settings: dict[str, object], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        TransportOptions(**settings)  # type: ignore[arg-type]
    for make in CLIENTS:
        with pytest.raises(error, match=words):
            make("http://a:1", **settings)


def test_options_must_be_a_transport_options() -> None:
    with pytest.raises(TypeError, match="options must be a TransportOptions, not dict"):
        etcdmap.Client("http://a:1", options={"timeout": 1})  # type: ignore[arg-type]


def test_the_value_is_frozen_and_hides_the_password() -> None:
    opts = TransportOptions(username="root", password="s3cret")
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.timeout = 1.0  # type: ignore[misc]
    assert "s3cret" not in repr(opts)
    assert "root" in repr(opts)
    assert opts.replace(timeout=1.0) == TransportOptions(timeout=1.0, username="root",
                                                         password="s3cret")
    with pytest.raises(TypeError, match="'timeot'"):
        opts.replace(timeot=1.0)


def test_signatures_show_every_setting() -> None:
    names = [f.name for f in dataclasses.fields(TransportOptions)]
    for make in CLIENTS:
        params = inspect.signature(make).parameters
        assert [n for n in params if n in names] == names
        assert params["timeout"].default == 5.0
        assert params["timeout"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "selection" in inspect.signature(etcdmap.Client).parameters


def test_v3_sends_the_user_as_a_token_not_basic_auth() -> None:
    with etcdmap.v3.Client("http://a:1", username="u", password="p") as c:
        assert c.transport.username is None
        assert "u" in repr(c)
