"""Socket primitives of the fast adapter that cost no trip through the GIL.

Every socket call of CPython that may block (``recv``, ``sendall``, ``select.poll().poll``)
releases the GIL and takes it back afterwards. With one thread that costs nothing; with
eight threads sharing a client each release lets another thread run, and taking the GIL
back waits until that thread blocks in turn. Measured with 8 threads on a 2-core machine
(GETs of a shared client on etcd 3.5): dropping one ``poll(0)`` per request and the
``poll()`` that a socket timeout puts before each ``recv``/``send`` raised the rate by
about 40 %. So:

- Plain sockets stay in blocking mode and their deadlines are the kernel's
  (``SO_RCVTIMEO``/``SO_SNDTIMEO``): a ``recv`` is one system call, and a timed-out one fails
  with ``EAGAIN``, which :func:`kernel_timeout_error` reads as :class:`TimeoutError`. TLS
  sockets keep Python's timeouts (the ``ssl`` module retries a read that the kernel timed
  out on a blocking socket, so only Python's own timeout ends it).
- :func:`readable_now` asks ``poll(2)`` with a zero timeout without releasing the GIL (a
  non-blocking call has nothing to wait for), through ``ctypes.PyDLL`` where libc is at
  hand; elsewhere it falls back to :func:`select.select`.
"""

from __future__ import annotations

import ctypes
import select
import socket
import ssl
import struct

__all__ = ["Readiness", "kernel_timeout_error", "set_kernel_timeout", "uses_kernel_timeouts"]


class _PollFd(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short)]


def _libc_poll() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """``poll(2)`` of libc as a function that keeps the GIL (``None``: not available)."""
    if not hasattr(select, "POLLIN"):
        return None
    try:
        function = ctypes.PyDLL(None).poll  # PyDLL: the GIL is held during the call
    except (OSError, AttributeError):  # no dlopen(NULL) or no poll symbol
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_POLL = _libc_poll()


class Readiness:
    """Whether one socket has something to read (data, end of stream, error) right now.

    :param sock: the socket; its descriptor must not change while this object is used.
    """

    __slots__ = ("_arg", "_fd", "_sock", "_struct")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._struct = _PollFd(self._fd, select.POLLIN, 0) if _POLL is not None else None
        self._arg = ctypes.addressof(self._struct) if self._struct is not None else None

    def __call__(self) -> bool:
        """``True`` when a read would not block (or the socket is closed or failed)."""
        sock = self._sock
        if sock.fileno() != self._fd:
            return True  # closed
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        if _POLL is not None:
            return bool(_POLL(self._arg, 1, 0))  # > 0: ready or error; -1: failed
        try:
            ready, _, failed = select.select([sock], [], [sock], 0)
        except (OSError, ValueError):
            return True
        return bool(ready or failed)


def uses_kernel_timeouts(sock: socket.socket) -> bool:
    """Whether ``sock`` takes its deadlines from the kernel (plain sockets where the options
    exist) rather than from Python's socket timeout (TLS)."""
    return not isinstance(sock, ssl.SSLSocket) and hasattr(socket, "SO_RCVTIMEO")


def set_kernel_timeout(sock: socket.socket, seconds: float | None) -> None:
    """Bound each later ``recv``/``send`` of a blocking socket by ``seconds`` (``None``: no
    bound). The kernel's resolution is a microsecond; shorter values become one."""
    if seconds is None:
        value = struct.pack("@ll", 0, 0)  # zero: wait forever
    else:
        micros = max(int(seconds * 1_000_000), 1)
        value = struct.pack("@ll", micros // 1_000_000, micros % 1_000_000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)


def kernel_timeout_error(exc: BlockingIOError) -> TimeoutError:
    """The :class:`TimeoutError` a kernel-timed read or write that gave up means."""
    error = TimeoutError("timed out")
    error.__cause__ = exc
    return error
