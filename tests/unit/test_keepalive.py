"""KeepAlive's thread logic with plain callables standing in for the refresh (no server).

Waits are on threading events with timeouts, never sleeps.
"""

from __future__ import annotations

import logging
import threading

import pytest

from etcdmap.errors import ClusterError, DirectoryTTLUnsupported, KeyNotFound
from etcdmap.mapping.keepalive import KeepAlive

WAIT = 5.0


class Refresher:
    """Counts calls; raises the queued exceptions first; signals every call."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.called = threading.Event()
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.calls += 1
            self.called.set()
            if self.errors:
                raise self.errors.pop(0)

    def wait_calls(self, n: int) -> None:
        for _ in range(1000):
            if self.calls >= n:
                return
            self.called.wait(WAIT)
            self.called.clear()
        raise AssertionError(f"only {self.calls} calls")


def is_alive(ka: KeepAlive) -> bool:
    return ka.alive  # a call, so that mypy does not narrow the property across assertions


def test_refreshes_periodically_and_stops_cleanly() -> None:
    r = Refresher()
    with KeepAlive(r, ttl=3, interval=0.01, name="/k") as ka:
        r.wait_calls(4)
        assert is_alive(ka)
        assert ka.error is None
    assert not is_alive(ka)
    calls = r.calls
    assert ka.refreshes == calls
    ka.stop()  # idempotent
    assert r.calls == calls


def test_start_refreshes_synchronously_and_raises() -> None:
    r = Refresher(KeyNotFound("Key not found", "/k", 7))
    ka = KeepAlive(r, ttl=3, name="/k")
    with pytest.raises(KeyNotFound):
        ka.start()
    assert not ka.alive
    assert r.calls == 1


def test_fatal_error_is_stored_logged_passed_and_raised_on_exit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gone = KeyNotFound("Key not found", "/k", 9)
    r = Refresher()
    seen: list[BaseException] = []
    done = threading.Event()

    def on_error(exc: BaseException) -> None:
        seen.append(exc)
        done.set()

    with (
        caplog.at_level(logging.ERROR, logger="etcdmap.keepalive"),
        pytest.raises(KeyNotFound) as info,
        KeepAlive(r, ttl=3, interval=0.01, on_error=on_error, name="/k") as ka,
    ):
        r.errors.append(gone)
        assert done.wait(WAIT)
        assert not ka.alive
    assert info.value is gone
    assert seen == [gone]
    assert ka.error is gone
    assert "keep-alive of /k stopped" in caplog.text


def test_directory_ttl_regression_is_fatal() -> None:
    err = DirectoryTTLUnsupported("Raft Internal Error", "nodePath /1/d : Not a file ()", 0)
    r = Refresher()
    ka = KeepAlive(r, ttl=3, interval=0.01).start()
    r.errors.append(err)
    r.wait_calls(2)
    with pytest.raises(DirectoryTTLUnsupported):
        ka.stop()


def test_transient_errors_are_retried_within_the_ttl() -> None:
    r = Refresher()
    ka = KeepAlive(r, ttl=30, interval=0.01).start()
    r.errors.extend([ClusterError([]), ClusterError([])])
    r.wait_calls(6)
    assert ka.alive
    ka.stop()
    assert ka.error is None


def test_on_error_failure_is_logged_not_raised_in_thread(caplog: pytest.LogCaptureFixture) -> None:
    def bad_callback(exc: BaseException) -> None:
        raise RuntimeError("callback broke")

    r = Refresher()
    ka = KeepAlive(r, ttl=3, interval=0.01, on_error=bad_callback, name="/k").start()
    with caplog.at_level(logging.ERROR, logger="etcdmap.keepalive"):
        r.errors.append(KeyNotFound("Key not found", "/k", 1))
        r.wait_calls(2)
        with pytest.raises(KeyNotFound):
            ka.stop()
    assert "on_error callback failed" in caplog.text


def test_exit_with_exception_in_flight_does_not_mask_it() -> None:
    r = Refresher()
    with pytest.raises(ZeroDivisionError), KeepAlive(r, ttl=3, interval=0.01) as ka:
        r.errors.append(KeyNotFound("Key not found", "/k", 1))
        r.wait_calls(2)
        1 / 0  # noqa: B018
    assert isinstance(ka.error, KeyNotFound)


def test_stop_from_on_error_does_not_deadlock() -> None:
    holder: list[KeepAlive] = []
    stopped = threading.Event()

    def on_error(exc: BaseException) -> None:
        try:
            holder[0].stop()
        except KeyNotFound:
            stopped.set()

    r = Refresher()
    holder.append(KeepAlive(r, ttl=3, interval=0.01, on_error=on_error).start())
    r.errors.append(KeyNotFound("Key not found", "/k", 1))
    assert stopped.wait(WAIT)


def test_default_interval_is_a_third_of_the_ttl() -> None:
    assert KeepAlive(lambda: None, ttl=9).interval == 3


@pytest.mark.parametrize(("ttl", "interval"), [(0, None), (-1, None), (3, 3), (3, 0), (3, -1)])
def test_invalid_timing(ttl: float, interval: float | None) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        KeepAlive(lambda: None, ttl=ttl, interval=interval)


def test_double_start_is_refused() -> None:
    ka = KeepAlive(lambda: None, ttl=3).start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            ka.start()
    finally:
        ka.stop()
    assert "stopped" in repr(ka)
