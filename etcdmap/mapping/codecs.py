"""Value codecs: how :class:`etcdmap.EtcdMap` turns Python values into etcd's string values.

etcd v2 stores every value as a string. A *codec* is any object with two methods::

    encode(value) -> str     # refuse what it cannot store with TypeError (or ValueError)
    decode(text: str) -> value   # refuse malformed text with ValueError

Three codecs ship with etcdmap, selectable by name through :func:`resolve`:

=========== ==================== ===============================================================
name        class                stores
=========== ==================== ===============================================================
``"str"``   :class:`StrCodec`    ``str`` only, verbatim (the default). Anything else is a
                                 :class:`TypeError`: ``True`` is never silently stored as "True".
``"json"``  :class:`JsonCodec`   any JSON value (compact, UTF-8 kept as is, no NaN/Infinity).
``"bytes"`` :class:`Base64Codec` ``bytes``-like values, as standard base64 text.
=========== ==================== ===============================================================

Codecs are pure (no I/O, no state): all of them are immutable and safe to share between threads.

**Bytes that are not UTF-8.** etcd v3 values are bytes, and other clients may store any; the v3
store hands such a value to the codec as text with surrogate escapes (``\\udcff`` for the
byte ``0xff``, Python's ``surrogateescape``). The ``str`` and ``json`` codecs refuse it with a
``ValueError`` (the map raises :class:`~etcdmap.errors.DecodeError` naming the key) that says to
read it with ``codec="bytes"``, which returns those bytes (see :class:`Base64Codec`).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Base64Codec", "Codec", "JsonCodec", "StrCodec", "decodes_verbatim", "is_text", "resolve"]

_NOT_TEXT = ("the stored value is not UTF-8 text (bytes written by another client?): "
             "read it with codec='bytes'")


def is_text(text: str) -> bool:
    """Whether ``text`` is valid Unicode text, i.e. holds no surrogate: not the escaped bytes
    of a value that is not UTF-8 (see the module docstring).

    :param text: a stored value, or one about to be stored.
    :returns: ``False`` for a value with surrogates.
    """
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@runtime_checkable
class Codec(Protocol):
    """The codec protocol: a pair of pure functions between Python values and etcd strings.

    Implementations must be thread-safe (ideally stateless) and must round-trip:
    ``decode(encode(v)) == v`` for every value ``encode`` accepts. For compare-and-swap on a
    value (``prev_value=``) the encoding must also be *canonical*: equal values give equal text.
    An optional ``name`` attribute (str) is used in ``repr()`` and error messages.
    """

    def encode(self, value: Any) -> str:
        """Turn ``value`` into the string etcd stores.

        :raises TypeError: the codec cannot store values of this type.
        :raises ValueError: the value has the right type but cannot be stored.
        """
        ...

    def decode(self, text: str) -> Any:
        """Turn a stored string back into a value.

        :raises ValueError: ``text`` is not something this codec produced.
        """
        ...


class StrCodec:
    """The default codec: values are ``str`` and stored verbatim.

    Refusing other types (instead of calling ``str()``) keeps ``m["flag"] = True`` from quietly
    reading back as ``"True"``. Use ``codec="json"`` for typed values. Thread-safe (stateless).
    """

    name = "str"

    def encode(self, value: Any) -> str:
        """Return ``value`` unchanged.

        :param value: a ``str``.
        :returns: ``value``.
        :raises TypeError: ``value`` is not a ``str``.
        """
        if not isinstance(value, str):
            raise TypeError(
                f"the default codec stores str values only, not {type(value).__name__}; "
                "convert it yourself or use codec='json'"
            )
        return value

    def decode(self, text: str) -> str:
        """Return ``text`` unchanged.

        :param text: the stored value.
        :returns: ``text``.
        :raises ValueError: the stored value is not UTF-8 text (bytes written by another v3
            client): the message says to use ``codec="bytes"``.
        """
        if not is_text(text):
            raise ValueError(_NOT_TEXT)
        return text

    def __repr__(self) -> str:
        return "StrCodec()"


class JsonCodec:
    """Store any JSON value: ``None``, ``bool``, ``int``, ``float``, ``str``, lists and dicts.

    The text is compact (``separators=(",", ":")``) with non-ASCII kept as UTF-8
    (``ensure_ascii=False``) and object keys in insertion order. NaN and infinities are refused
    (they are not JSON). Thread-safe (stateless).

    Note that :class:`etcdmap.EtcdMap` turns an assigned *mapping* into a directory tree with
    every codec; with this codec a mapping is only stored as one JSON value when it is nested in
    a list, or when you call :meth:`encode` yourself.
    """

    name = "json"

    def encode(self, value: Any) -> str:
        """Serialise ``value`` as compact JSON.

        :param value: a JSON-serialisable value.
        :returns: the JSON text.
        :raises TypeError: ``value`` (or something inside it) is not JSON-serialisable.
        :raises ValueError: ``value`` contains NaN or an infinity, or a circular reference.
        """
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def decode(self, text: str) -> Any:
        """Parse JSON text.

        :param text: the stored value.
        :returns: the decoded value.
        :raises ValueError: ``text`` is not valid JSON (:class:`json.JSONDecodeError`), or not
            UTF-8 text at all (bytes written by another v3 client).
        """
        if not is_text(text):
            raise ValueError(_NOT_TEXT)
        return json.loads(text)

    def __repr__(self) -> str:
        return "JsonCodec()"


class Base64Codec:
    """Store ``bytes`` as standard base64 text (``bytes``, ``bytearray``, ``memoryview`` in;
    ``bytes`` out): the same text on etcd v2 and v3. Thread-safe (stateless).

    Reading, a v3 value that is not UTF-8 (raw bytes another client stored: never base64
    text) is returned as those bytes. A raw value that happens to be UTF-8 is read as base64
    (and refused when it is not valid base64); written back, bytes are stored as base64.
    """

    name = "bytes"

    def encode(self, value: Any) -> str:
        """Base64-encode a bytes-like value.

        :param value: ``bytes``, ``bytearray`` or ``memoryview``.
        :returns: the ASCII base64 text.
        :raises TypeError: ``value`` is not bytes-like (a ``str`` is refused too: encode it first).
        """
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"the bytes codec stores bytes-like values only, not {type(value).__name__}"
            )
        return base64.b64encode(value).decode("ascii")

    def decode(self, text: str) -> bytes:
        """Decode base64 text; a value that is not UTF-8 is returned as its raw bytes.

        :param text: the stored value.
        :returns: the original bytes.
        :raises ValueError: ``text`` is not valid base64 (:class:`binascii.Error`).
        """
        if not is_text(text):
            try:
                return text.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError as exc:  # a surrogate no byte became
                raise binascii.Error("the value is neither base64 nor raw bytes") from exc
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except UnicodeEncodeError as exc:
            raise binascii.Error("base64 text must be ASCII") from exc

    def __repr__(self) -> str:
        return "Base64Codec()"


_NAMED: dict[str, type[StrCodec] | type[JsonCodec] | type[Base64Codec]] = {
    "str": StrCodec,
    "text": StrCodec,
    "json": JsonCodec,
    "bytes": Base64Codec,
    "base64": Base64Codec,
}


def resolve(codec: Codec | str | None) -> Codec:
    """Turn a codec argument into a codec object.

    :param codec: ``None`` (the default :class:`StrCodec`), a name (``"str"``/``"text"``,
        ``"json"``, ``"bytes"``/``"base64"``) or an object with ``encode`` and ``decode``.
    :returns: a codec object.
    :raises ValueError: an unknown codec name.
    :raises TypeError: an object without callable ``encode`` and ``decode`` methods.
    """
    if codec is None:
        return StrCodec()
    if isinstance(codec, str):
        try:
            return _NAMED[codec.lower()]()
        except KeyError:
            names = ", ".join(repr(n) for n in sorted(_NAMED))
            raise ValueError(f"unknown codec {codec!r}; known names: {names}") from None
    if not (callable(getattr(codec, "encode", None)) and callable(getattr(codec, "decode", None))):
        raise TypeError(
            f"a codec needs encode(value) -> str and decode(text) -> value methods, "
            f"got {type(codec).__name__}"
        )
    return codec


def decodes_verbatim(codec: Codec, capabilities: frozenset[str]) -> bool:
    """Whether decoding can be skipped: the plain ``str`` codec (not a subclass, which may
    override ``decode``) on a store whose values are always text. A store that lists
    ``"bytes"`` in its capabilities (v3) may hold values that are not UTF-8, which the codec
    must see.

    :param codec: the map's codec.
    :param capabilities: the store's :attr:`~etcdmap.backend.Backend.capabilities`.
    """
    return type(codec) is StrCodec and "bytes" not in capabilities


def codec_name(codec: object) -> str:
    """The codec's ``name`` attribute, or its class name (for reprs and error messages)."""
    name = getattr(codec, "name", None)
    return name if isinstance(name, str) else type(codec).__name__
