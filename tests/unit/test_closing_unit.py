"""The shared context-manager mixin :class:`etcdmap._closing.Closing`."""

from __future__ import annotations

import pytest

from etcdmap._closing import Closing


class _Thing(Closing):
    def __init__(self) -> None:
        self.closes = 0

    def close(self) -> None:
        self.closes += 1


def test_with_returns_the_object_and_closes_it() -> None:
    thing = _Thing()
    with thing as entered:
        assert entered is thing
        assert thing.closes == 0
    assert thing.closes == 1


def test_an_error_in_the_block_closes_and_propagates() -> None:
    thing = _Thing()
    with pytest.raises(RuntimeError, match="boom"), thing:
        raise RuntimeError("boom")
    assert thing.closes == 1


def test_close_is_abstract() -> None:
    class _NoClose(Closing):
        pass

    with pytest.raises(TypeError):
        _NoClose()  # type: ignore[abstract]
