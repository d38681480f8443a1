"""Value codecs: round trips, refusals, and name resolution (pure, no server)."""

from __future__ import annotations

import binascii
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etcdmap.mapping import codecs
from etcdmap.mapping.codecs import Base64Codec, Codec, JsonCodec, StrCodec, codec_name, resolve

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


class TestStrCodec:
    @given(st.text())
    def test_round_trip_is_identity(self, text: str) -> None:
        c = StrCodec()
        assert c.encode(text) == text
        assert c.decode(c.encode(text)) == text

    @pytest.mark.parametrize("value", [True, 1, 1.5, None, b"x", ["a"], {"a": "b"}])
    def test_refuses_non_str_instead_of_str_conversion(self, value: Any) -> None:
        with pytest.raises(TypeError, match="str values only"):
            StrCodec().encode(value)

    def test_error_names_the_type_and_the_json_alternative(self) -> None:
        with pytest.raises(TypeError, match=r"not bool; .*codec='json'"):
            StrCodec().encode(True)


class TestJsonCodec:
    @given(json_values)
    def test_round_trip(self, value: Any) -> None:
        c = JsonCodec()
        assert c.decode(c.encode(value)) == value

    def test_compact_and_utf8(self) -> None:
        assert JsonCodec().encode({"a": [1, 2], "é": "ü"}) == '{"a":[1,2],"é":"ü"}'

    def test_canonical_for_equal_values(self) -> None:
        assert JsonCodec().encode([1, "x", None]) == JsonCodec().encode([1, "x", None])

    def test_refuses_non_json_types(self) -> None:
        with pytest.raises(TypeError):
            JsonCodec().encode({1, 2})

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), [float("-inf")]])
    def test_refuses_nan_and_infinities(self, value: Any) -> None:
        with pytest.raises(ValueError, match="Out of range"):
            JsonCodec().encode(value)

    def test_decode_of_garbage_is_a_value_error(self) -> None:
        with pytest.raises(json.JSONDecodeError):
            JsonCodec().decode("{not json")
        assert issubclass(json.JSONDecodeError, ValueError)


class TestBase64Codec:
    @given(st.binary())
    def test_round_trip(self, data: bytes) -> None:
        c = Base64Codec()
        text = c.encode(data)
        assert text.isascii()
        assert c.decode(text) == data

    def test_accepts_bytes_like(self) -> None:
        assert Base64Codec().encode(bytearray(b"\x00\xff")) == "AP8="
        assert Base64Codec().encode(memoryview(b"\x00\xff")) == "AP8="

    def test_refuses_str(self) -> None:
        with pytest.raises(TypeError, match="bytes-like"):
            Base64Codec().encode("text")

    @pytest.mark.parametrize("text", ["not base64!", "AP8", "é"])
    def test_decode_refuses_invalid_text(self, text: str) -> None:
        with pytest.raises(binascii.Error):
            Base64Codec().decode(text)
        assert issubclass(binascii.Error, ValueError)


class TestResolve:
    def test_none_is_the_str_codec(self) -> None:
        assert isinstance(resolve(None), StrCodec)

    @pytest.mark.parametrize(
        ("name", "cls"),
        [
            ("str", StrCodec),
            ("text", StrCodec),
            ("json", JsonCodec),
            ("JSON", JsonCodec),
            ("bytes", Base64Codec),
            ("base64", Base64Codec),
        ],
    )
    def test_names(self, name: str, cls: type) -> None:
        assert isinstance(resolve(name), cls)

    def test_unknown_name(self) -> None:
        with pytest.raises(ValueError, match="unknown codec 'yaml'.*'json'"):
            resolve("yaml")

    def test_custom_object_is_returned_as_is(self) -> None:
        class Upper:
            def encode(self, value: Any) -> str:
                return str(value).upper()

            def decode(self, text: str) -> Any:
                return text.lower()

        upper = Upper()
        assert resolve(upper) is upper
        assert isinstance(upper, Codec)  # the protocol is runtime-checkable
        assert codec_name(upper) == "Upper"

    def test_object_without_methods_is_refused(self) -> None:
        with pytest.raises(TypeError, match="encode"):
            resolve(42)  # type: ignore[arg-type]

    def test_builtin_codecs_have_names(self) -> None:
        assert [codec_name(resolve(n)) for n in ("str", "json", "bytes")] == [
            "str",
            "json",
            "bytes",
        ]

    def test_public_names(self) -> None:
        assert sorted(codecs.__all__) == codecs.__all__
        for name in codecs.__all__:
            assert hasattr(codecs, name)


class TestValuesThatAreNotUtf8:
    """A v3 value another client stored as raw bytes reaches the codec as surrogate escapes."""

    RAW = b"\xff\xfe\x00ok\x80"
    TEXT = RAW.decode("utf-8", "surrogateescape")

    @pytest.mark.parametrize("codec", [StrCodec(), JsonCodec()], ids=["str", "json"])
    def test_text_codecs_refuse_them_and_name_the_bytes_codec(self, codec: Codec) -> None:
        with pytest.raises(ValueError, match=r"not UTF-8 text.*codec='bytes'"):
            codec.decode(self.TEXT)

    def test_the_bytes_codec_reads_them_as_they_are(self) -> None:
        assert Base64Codec().decode(self.TEXT) == self.RAW
        assert Base64Codec().decode(Base64Codec().encode(self.RAW)) == self.RAW  # base64 still
        with pytest.raises(binascii.Error, match="neither base64 nor raw bytes"):
            Base64Codec().decode("\ud800")  # a surrogate no byte became

    def test_is_text(self) -> None:
        assert codecs.is_text("plain") and codecs.is_text("é日本𝄞")
        assert not codecs.is_text(self.TEXT) and not codecs.is_text("a\ud800")

    def test_decoding_is_skipped_only_where_every_value_is_text(self) -> None:
        v2 = frozenset({"dirs", "ttl"})
        v3 = frozenset({"dirs", "txn", "bytes"})
        assert codecs.decodes_verbatim(StrCodec(), v2)
        assert not codecs.decodes_verbatim(StrCodec(), v3)
        assert not codecs.decodes_verbatim(JsonCodec(), v2)

        class Upper(StrCodec):
            def decode(self, text: str) -> str:
                return text.upper()

        assert not codecs.decodes_verbatim(Upper(), v2)  # a subclass may decode
