"""The listening half of the tests' scripted loopback peers (``tests/unit/scripted.py``,
``tests/unit/ws_fake.py``, ``tests/integration/relay.py``...): a socket on a free port of
127.0.0.1 whose connections are each handed to a function on a daemon thread of their own.

Not a test module: the test modules import it by name (pytest puts ``tests/`` on
``sys.path``, as for ``apis.py``).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


class Listener:
    """Accepts connections until :meth:`close` and runs ``handle(conn)`` for each on its own
    daemon thread (the handler owns the connection).

    :param handle: what to do with one accepted connection.
    :ivar port: the port listened on.

    Thread-safe: :meth:`close` may be called from any thread.
    """

    def __init__(self, handle: Callable[[socket.socket], object]) -> None:
        self._handle = handle
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name="loopback-accept").start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def close(self) -> None:
        """Stop accepting (connections already handed over are the handlers')."""
        self._sock.close()
