"""The internals of requests (and the standard cookie jar) that etcdmap relies on, pinned: each
test fails loudly on the release that changes one (etcdmap/http/requests_internals.py)."""

from __future__ import annotations

import http.cookiejar
from typing import Any

import requests
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict

from etcdmap.http.requests_internals import (
    PREPARED_FIELDS,
    RESPONSE_FIELDS,
    ResponseHeaders,
    has_cookies,
    header_store,
    headers_from_store,
    new_prepared_request,
    new_response,
)


def test_response_init_sets_exactly_the_fields_etcdmap_fills() -> None:
    assert set(vars(requests.Response())) == RESPONSE_FIELDS


class _Answer(requests.Response):
    cookies = RequestsCookieJar()  # type: ignore[assignment]  # what a subclass provides itself


def _fields(**over: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "_content": b'{"a": 1}', "_content_consumed": True, "_next": None, "status_code": 200,
        "headers": CaseInsensitiveDict({"Content-Type": "application/json"}), "raw": None,
        "url": "http://127.0.0.1:2379/v2/keys/a", "encoding": None, "history": [],
        "reason": "OK", "elapsed": None, "request": None, "connection": None,
    }
    fields.update(over)
    return fields


def test_a_response_made_without_init_behaves_as_requests_own() -> None:
    response = new_response(_Answer, _fields())
    assert isinstance(response, requests.Response)
    assert response.ok and response.status_code == 200 and response.reason == "OK"
    assert response.content == b'{"a": 1}' and response.text == '{"a": 1}'
    assert response.json() == {"a": 1}
    assert response.headers["content-type"] == "application/json"
    assert list(response.iter_content(chunk_size=4)) == [b'{"a"', b": 1}"]
    response.close()  # no raw: nothing to release, and no error


def test_content_false_means_not_read_yet() -> None:
    class Raw:
        def __init__(self) -> None:
            self.reads = 0

        def stream(self, chunk_size: int, decode_content: bool = True) -> Any:
            self.reads += 1
            yield b"late"

    raw = Raw()
    response = new_response(_Answer, _fields(_content=False, _content_consumed=False, raw=raw))
    assert response.content == b"late" and raw.reads == 1


def test_case_insensitive_dict_keeps_everything_in_store() -> None:
    headers = CaseInsensitiveDict({"Content-Type": "x", "X-Etcd-Index": "7"})
    assert set(vars(headers)) == {"_store"}
    assert header_store(headers) == {
        "content-type": ("Content-Type", "x"), "x-etcd-index": ("X-Etcd-Index", "7")}
    headers["X-Raft-Term"] = "2"
    assert header_store(headers)["x-raft-term"] == ("X-Raft-Term", "2")  # the live dict


def test_headers_made_from_a_store_are_a_full_case_insensitive_dict() -> None:
    store = {"content-type": ("Content-Type", "x"), "x-etcd-index": ("X-Etcd-Index", "7")}
    headers = headers_from_store(CaseInsensitiveDict, store)
    assert headers["CONTENT-TYPE"] == "x" and headers.get("x-etcd-index") == "7"
    assert dict(headers.items()) == {"Content-Type": "x", "X-Etcd-Index": "7"}
    assert list(headers.lower_items()) == [("content-type", "x"), ("x-etcd-index", "7")]
    assert headers == {"content-type": "x", "X-ETCD-INDEX": "7"}
    copied = headers.copy()
    copied["A"] = "b"
    assert "a" not in headers and len(headers) == 2


def test_response_headers_get_in_one_step_with_any_case() -> None:
    headers = headers_from_store(ResponseHeaders, {"x-etcd-index": ("X-Etcd-Index", "7")})
    assert headers.get("X-ETCD-INDEX") == "7" and headers.get("missing", "d") == "d"
    assert headers["x-etcd-index"] == "7"


def test_prepared_request_init_sets_exactly_the_fields_etcdmap_fills() -> None:
    assert set(vars(requests.PreparedRequest())) == PREPARED_FIELDS


def test_a_prepared_request_made_without_init_is_one_requests_can_send_and_copy() -> None:
    jar = RequestsCookieJar()
    headers = headers_from_store(CaseInsensitiveDict, {"accept": ("Accept", "application/json")})
    prep = new_prepared_request({"method": "PUT", "url": "http://h:1/v2/keys/a",
                                 "headers": headers, "_cookies": jar, "body": b"value=1",
                                 "hooks": {"response": []}, "_body_position": None})
    twin = requests.Request("PUT", "http://h:1/v2/keys/a", data=b"value=1",
                            headers={"Accept": "application/json"}).prepare()
    for name in ("method", "url", "body"):
        assert getattr(prep, name) == getattr(twin, name)
    copy = prep.copy()  # what requests' redirect and auth code does with it
    assert copy.headers == prep.headers and copy.body == prep.body
    assert isinstance(copy._cookies, RequestsCookieJar)  # type: ignore[attr-defined] # a copy
    jar.set("k", "v", domain="h.local", path="/")
    prep.prepare_cookies(jar)  # the public step etcdmap calls when the jar has a cookie
    assert prep._cookies is jar  # type: ignore[attr-defined]


def test_has_cookies_tells_an_empty_jar_from_a_full_one() -> None:
    jar = RequestsCookieJar()
    assert not has_cookies(jar)
    jar.set("k", "v", domain="example.org", path="/")
    assert has_cookies(jar)
    assert has_cookies({"a": "1"}) and not has_cookies({})  # a plain mapping: bool()


def test_cookie_jars_keep_their_cookies_in_a_dict() -> None:
    # has_cookies tells an empty jar cheaply by its ``_cookies`` dict.
    jar = RequestsCookieJar()
    assert isinstance(jar, http.cookiejar.CookieJar) and jar._cookies == {}  # type: ignore[attr-defined]
    jar.set("k", "v", domain="example.org", path="/")
    assert jar._cookies  # type: ignore[attr-defined]
