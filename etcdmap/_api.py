"""Which etcd API to use: the one rule behind ``etcdmap.connect(api="auto")`` and the command
line's ``--api auto``, and the hint when the other API holds the keys.

**The rule**: v3 wherever the server serves it, v2 only where it does not. etcd keeps the v2 and
the v3 key spaces apart (a key written with ``etcdctl put``, v3 by default since etcd 3.4, is not
in the v2 store), v3 is what every etcd since 3.0 serves, and v2 is the legacy opt-in of 3.4/3.5
(``--enable-v2``; etcd 3.6 removed it). So ``auto`` must not follow ``--enable-v2``: restarting
a server with it would move a program from its v3 data to an empty v2 store.

**The probe**: one ``GET /version``, which every etcd answers without authentication (etcd
2.1+ as JSON, ``{"etcdserver": "3.5.1", ...}``). It proves that the endpoint is etcd (anything
else raises :class:`~etcdmap.errors.InvalidResponseError` saying so) and its version says
whether the gateway etcdmap's v3 client speaks is there: the ``/v3/`` paths arrived with etcd 3.4
(3.0-3.3 served only ``/v3alpha`` or ``/v3beta``: etcd-io/etcd
release-3.4:Documentation/dev-guide/api_grpc_gateway.md, "Notes"), so a 3.4+ server runs on
v3 and an older one on v2. (3.4+ can be started with ``--enable-grpc-gateway=false``; etcdmap
cannot speak to such a server on any API but v2, and its v3 calls fail with
``InvalidResponseError``.)

:func:`api_for_server` is the pure decision (for any I/O shell, sync or async); :func:`probe`
and :func:`choose_api` run it over a transport. :func:`v2_has_keys_instead` is the advisory check
behind the warning "v3 is empty at this path, the v2 store has keys there".

Thread-safety: pure functions and calls on thread-safe clients.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

from etcdmap.errors import EtcdMapError, InvalidResponseError, KeyNotFound
from etcdmap.http.transport import Transport
from etcdmap.v2.client import Client
from etcdmap.v2.models import Versions
from etcdmap.v2.stats import version as _version
from etcdmap.v3.client import Client as V3Client
from etcdmap.v3.layout import marker
from etcdmap.v3.models import RangeResponse
from etcdmap.v3.txn import Op

__all__ = [
    "API_CHOICES",
    "V3_GATEWAY_SINCE",
    "Api",
    "api_for_server",
    "check_v3",
    "choose_api",
    "probe",
    "v2_has_keys_instead",
    "v2_keys_hint",
]

log = logging.getLogger("etcdmap")

Api = Literal["v2", "v3"]
API_CHOICES = ("auto", "v2", "v3")
"""What ``api=`` and ``--api`` accept."""

V3_GATEWAY_SINCE = (3, 4)
"""The first etcd release whose gateway serves the ``/v3/`` paths etcdmap's v3 client uses."""


def _release(server: str) -> tuple[int, int] | None:
    match = re.match(r"\s*v?(\d+)\.(\d+)", server)
    return (int(match.group(1)), int(match.group(2))) if match else None


def api_for_server(server: str) -> Api:
    """The API ``auto`` chooses for an etcd server of this version (the rule above).

    :param server: the server version, as ``/version`` says it (``"3.5.1"``, ``"2.3.8"``).
    :returns: ``"v3"`` for etcd 3.4 and later, ``"v2"`` for older servers.
    :raises InvalidResponseError: ``server`` is not a version number.
    """
    release = _release(server)
    if release is None:
        raise InvalidResponseError(f"/version gave the server version {server!r}: not etcd's")
    return "v3" if release >= V3_GATEWAY_SINCE else "v2"


def probe(transport: Transport) -> Versions:
    """One ``GET /version`` (with the transport's failover and deadline).

    :param transport: the transport of the client that will be used.
    :returns: the server and cluster versions.
    :raises InvalidResponseError: the endpoint answered, but not like etcd.
    :raises ClusterError, DeadlineExceeded: no endpoint answered.
    """
    try:
        return _version(transport)
    except InvalidResponseError as exc:
        raise InvalidResponseError(
            f"{exc}; is {', '.join(transport.endpoints)} an etcd client URL (port 2379)?",
            exc.endpoint,
        ) from exc


def choose_api(transport: Transport) -> Api:
    """``auto``'s choice for the cluster behind ``transport``: :func:`probe`, then
    :func:`api_for_server`.

    :raises InvalidResponseError: not an etcd endpoint.
    :raises ClusterError, DeadlineExceeded: no endpoint answered.
    """
    return api_for_server(probe(transport).server)


def check_v3(transport: Transport) -> None:
    """``api="v3"``'s reachability check: the same probe as ``auto``, and a server old enough
    to lack the ``/v3/`` gateway is refused at once.

    :raises InvalidResponseError: not an etcd endpoint, or etcd older than 3.4.
    :raises ClusterError, DeadlineExceeded: no endpoint answered.
    """
    server = probe(transport).server
    if api_for_server(server) != "v3":
        raise InvalidResponseError(
            f"etcd {server} has no /v3/ gateway (etcdmap's v3 client needs etcd 3.4 or later): "
            "use api='v2'"
        )


def v2_has_keys_instead(client: V3Client, path: str) -> bool:
    """Whether ``path`` is empty on v3 while etcd's v2 store has keys there (the case of a
    program that ``auto`` used to put on v2: its data is still in the v2 store).

    Advisory: any error (the v2 API not served, no permission, a timeout) answers ``False``.
    The v2 client it asks is made on the same endpoints, session, TLS settings and timeouts,
    and closed again. Two requests at most, no values read.

    :param client: the v3 client in use.
    :param path: the map's directory (or the command's key).
    :returns: ``True`` when only the v2 store has something at ``path``.
    """
    transport = client.transport
    try:
        if _v3_has_keys(client, path):
            return False
        with Client(client.endpoints, timeout=transport.timeout,
                    request_timeout=transport.request_timeout, verify=transport.verify,
                    cert=transport.cert, session=transport.session) as v2:
            node = v2.keys.get(path.rstrip("/") or "/").node
    except KeyNotFound:
        return False
    except (EtcdMapError, ValueError, OSError) as exc:  # advisory only: never fail for it
        log.debug("could not look for v2 keys at %s: %s", path, exc)
        return False
    return node is not None and (not node.dir or bool(node.nodes))


def _v3_has_keys(client: V3Client, path: str) -> bool:
    """Whether anything is at or below ``path`` on v3 (one read-only txn, counts only)."""
    root = path.rstrip("/")
    ops = [Op.get(marker(root), prefix=True, count_only=True)]
    if root:
        ops.append(Op.get(root, count_only=True))
    return any(isinstance(r, RangeResponse) and r.count
               for r in client.kv.txn([], ops).responses)


def v2_keys_hint(path: str, *, cli: bool = False) -> str:
    """The warning when :func:`v2_has_keys_instead` is true.

    :param path: the map's directory (or the command's key).
    :param cli: word it for the command line (``--api v2``) instead of ``api="v2"``.
    :returns: the text, naming the API that holds the keys and how to choose it.
    """
    auto, v2 = ("--api auto", "--api v2") if cli else ("api='auto'", "api='v2'")
    return (f"{path} has no keys on etcd's v3 API, which {auto} chose because the server serves "
            "it, but the v2 API has keys there (etcd keeps the v2 and v3 key spaces apart): "
            f"pass {v2} to use them, or move them to v3 (README: Moving from v2 to v3)")
