"""The clients a run talks to: which etcd API it uses (``--api``; ``auto`` probes once), the
v3 client built from the global options (the v2 one is :meth:`Context.client
<etcdmap.cli.common.Context.client>`), and the ONE factory of the
:class:`~etcdmap.backend.Backend` that ``dump``, ``load`` and ``mkdir`` use.

``--api auto`` (the default) follows the library's rule (:mod:`etcdmap._api`, shared with
``etcdmap.connect``): v3 wherever the server serves it (etcd 3.4 and later), v2 only on older
servers, decided by one ``GET /version``. A command that then finds no key on v3 where the v2
store has one says so on stderr (:func:`v2_keys_note`), with ``--api v2`` as the way to reach
it: ``get`` (which, as etcdctl, prints nothing for a missing key) and ``dump``.

Nothing here is shared between threads: one :class:`~etcdmap.cli.common.Context` per run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etcdmap._api import API_CHOICES, choose_api, v2_has_keys_instead, v2_keys_hint
from etcdmap.cli.common import EXIT_SERVER_ERROR, CommandError, Context, endpoint_list
from etcdmap.errors import KeyNotFound
from etcdmap.http.transport import enable_curl_debug

if TYPE_CHECKING:
    import argparse

    from etcdmap.backend import Backend
    from etcdmap.cli.common import CommandFunc
    from etcdmap.v3 import Client as V3Client

__all__ = ["API_CHOICES", "hint_v2_keys", "open_backend", "resolve_api", "v2_keys_note",
           "v3_client"]


def resolve_api(ctx: Context) -> str:
    """The API this run uses, ``"v2"`` or ``"v3"`` (probing the server once for ``auto``).

    :param ctx: the run.
    :returns: ``"v2"`` or ``"v3"``; cached in ``ctx.api``.
    :raises etcdmap.errors.ClusterError: the probe reached no endpoint (exit 2).
    :raises etcdmap.errors.InvalidResponseError: the endpoint is not etcd (exit 2).
    """
    if ctx.api is None:
        choice = str(getattr(ctx.options, "api", "v2") or "v2")
        if choice not in API_CHOICES:  # from $ETCDMAP_API, which argparse does not check
            raise CommandError(
                f"Error:  unknown API {choice!r} (use one of {', '.join(API_CHOICES)})"
            )
        if choice == "auto":
            choice = choose_api(ctx.unsynced_client().transport)
            if ctx.options.debug:
                print(f"api: {choice} (probed)", file=ctx.stderr)
        ctx.api = choice
    return ctx.api


def v2_keys_note(ctx: Context, key: str) -> str | None:
    """The hint line for a key that a v3 run found nothing at: ``hint: ...`` when ``--api
    auto`` chose v3 and the v2 store has keys at ``key`` (:func:`etcdmap._api.
    v2_has_keys_instead`: one or two reads more, advisory), else ``None``.

    :param ctx: the run (its v3 client is used).
    :param key: the key or directory looked for.
    """
    if ctx.options.api != "auto" or ctx.api != "v3":
        return None
    if not v2_has_keys_instead(v3_client(ctx), key):
        return None
    return f"hint: {v2_keys_hint(key, cli=True)}"


def hint_v2_keys(body: CommandFunc) -> CommandFunc:
    """``body`` (a v3 set's command), saying on a ``Key not found`` that the v2 store has the
    key, when ``--api auto`` chose v3 and it does (:func:`v2_keys_note`).

    :param body: the v3 body.
    :returns: the body with the hint; its other behaviour is unchanged.
    """

    def run(ctx: Context, args: argparse.Namespace) -> int:
        try:
            return body(ctx, args)
        except KeyNotFound as exc:
            note = v2_keys_note(ctx, exc.cause or "/")
            if note is not None:
                raise CommandError(f"Error:  {exc}\n{note}", EXIT_SERVER_ERROR) from exc
            raise

    return run


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
