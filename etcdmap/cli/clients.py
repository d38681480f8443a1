"""The clients a run talks to: which etcd API it uses (``--api``; ``auto`` probes once), the
v3 client built from the global options (the v2 one is :meth:`Context.client
<etcdmap.cli.common.Context.client>`), and the ONE factory of the
:class:`~etcdmap.backend.Backend` that ``dump``, ``load`` and ``mkdir`` use.

``--api auto`` (the default) probes the server once: a v2 ``GET`` of a hidden, normally absent
key answers etcd's JSON ``Key not found`` (or another v2 error) where v2 is served, and
``404 page not found`` (:class:`~etcdmap.errors.V2DisabledError`) where it is not (etcd 3.6+,
or 3.4/3.5 started without ``--enable-v2``): then the command runs on v3.

Nothing here is shared between threads: one :class:`~etcdmap.cli.common.Context` per run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcdmap.cli.common import CommandError, Context, endpoint_list
from etcdmap.errors import EtcdError, V2DisabledError
from etcdmap.http.transport import enable_curl_debug

if TYPE_CHECKING:
    from etcdmap.backend import Backend
    from etcdmap.v3 import Client as V3Client

__all__ = ["API_CHOICES", "open_backend", "resolve_api", "v3_client"]

API_CHOICES = ("auto", "v2", "v3")
"""The values ``--api`` accepts."""

_PROBE_KEY = "/_etcdmap_api_probe"


def _serves_v2(ctx: Context) -> bool:
    """One v2 read of a hidden, normally absent key: ``True`` unless v2 is not served."""
    try:
        ctx.unsynced_client().keys.get(_PROBE_KEY)
    except EtcdError:  # etcd's v2 JSON error (not found, or no read permission on it)
        return True
    except V2DisabledError:
        return False
    return True  # the key exists: v2 is served all the same


def resolve_api(ctx: Context) -> str:
    """The API this run uses, ``"v2"`` or ``"v3"`` (probing the server once for ``auto``).

    :param ctx: the run.
    :returns: ``"v2"`` or ``"v3"``; cached in ``ctx.api``.
    :raises etcdmap.errors.ClusterError: the probe reached no endpoint (exit 2).
    """
    if ctx.api is None:
        choice = str(getattr(ctx.options, "api", "v2") or "v2")
        if choice not in API_CHOICES:  # from $ETCDMAP_API, which argparse does not check
            raise CommandError(
                f"Error:  unknown API {choice!r} (use one of {', '.join(API_CHOICES)})"
            )
        if choice == "auto":
            choice = "v2" if _serves_v2(ctx) else "v3"
            if ctx.options.debug:
                print(f"api: {choice} (probed)", file=ctx.stderr)
        ctx.api = choice
    return ctx.api


def v3_client(ctx: Context, endpoints: list[str] | None = None) -> V3Client:
    """The run's ``etcdmap.v3.Client``, built from the global options (endpoints, timeouts,
    TLS, user) on first use and closed with the run.

    :param ctx: the run.
    :param endpoints: a client for these endpoints instead (e.g. one member, as ``endpoint
        health`` asks each member on its own); a new client each call.
    :returns: the client.
    :raises CommandError: an option v3 cannot use.
    """
    from etcdmap.v3 import Client as V3Client  # noqa: PLC0415 (only v3 runs need it)

    if endpoints is None and ctx.v3 is not None:
        shared: V3Client = ctx.v3
        return shared
    opts = ctx.options
    if opts.discovery_srv:
        raise CommandError("Error:  --discovery-srv is not supported with the v3 API yet")
    username, password = ctx.credentials()
    cert: str | tuple[str, str] | None = None
    if opts.cert_file:
        cert = (opts.cert_file, opts.key_file) if opts.key_file else opts.cert_file
    verify: bool | str = opts.ca_file or True
    if opts.debug:
        enable_curl_debug()
    client = V3Client(
        endpoints or endpoint_list(opts.endpoints),
        timeout=opts.total_timeout or None,
        request_timeout=opts.timeout or None,
        username=username,
        password=password,
        verify=verify,
        cert=cert,
    )
    ctx.add_closer(client.close)
    if endpoints is None:
        ctx.v3 = client
    return client


def open_backend(ctx: Context) -> Backend:
    """The store the Backend command bodies run on: the ONE place that builds it.

    On v2 it is ``client.backend`` of the run's v2 client; on v3 the ``backend`` of an
    ``etcdmap.v3.Client`` built from the global options. Built once per run and closed with
    the run (:meth:`~etcdmap.cli.common.Context.close`); a store set on ``ctx.backend``
    beforehand (tests) is used as is.

    :param ctx: the run.
    :returns: an :class:`~etcdmap.backend.Backend`.
    """
    if ctx.backend is not None:
        given: Backend = ctx.backend
        return given
    if resolve_api(ctx) == "v2":
        v2: Backend = ctx.client().backend
        ctx.backend = v2  # owned by the v2 client, which the context closes
        return v2
    backend: Backend = v3_client(ctx).backend
    ctx.backend = backend  # owned by the v3 client, which the context closes
    return backend
