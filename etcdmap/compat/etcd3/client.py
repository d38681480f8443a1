"""python-etcd3 0.12's client (``etcd3.client``) on :class:`etcdmap.v3.Client`: no gRPC.

``etcd3.client(host, port, ...)`` returns an :class:`Etcd3Client` whose methods take and
return what python-etcd3's did: keys and values in, ``bytes`` out, ``(value, KVMetadata)``
pairs, answers with protobuf's attribute names (``.header.revision``, ``.kvs``,
``.prev_kv``...). What it runs on is etcdmap's v3 client over etcd's HTTP/JSON gateway
(``client.etcdmap`` is that client, for moving on to its API at your own pace).

Differences: calls have a deadline (``timeout``, 5 s when not given; python-etcd3 had none);
``grpc_options`` is accepted and ignored; ``create_alarm`` is not available yet (see
:meth:`~etcdmap.compat.etcd3.admin.Admin.create_alarm`).

Thread-safety: :class:`Etcd3Client` is thread-safe, as etcdmap's client is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from etcdmap.compat.etcd3 import leases, locks, transactions, utils
from etcdmap.compat.etcd3.admin import Admin, Alarm, Status
from etcdmap.compat.etcd3.etcdrpc import RangeRequest as _RpcRange
from etcdmap.compat.etcd3.exceptions import handle_errors
from etcdmap.compat.etcd3.watch import Watcher, WatchMethods
from etcdmap.v3 import Client as CoreClient
from etcdmap.v3.kv import SortOrder, SortTarget
from etcdmap.v3.models import KeyValue, PutResponse, RangeResponse, ResponseHeader, TxnResponse
from etcdmap.v3.wire import prefix_end

__all__ = ["Alarm", "Etcd3Client", "EtcdTokenCallCredentials", "KVMetadata", "ResponseOp",
           "Status", "Transactions", "client"]

_ORDERS = {None: "NONE", "ascend": "ASCEND", "descend": "DESCEND"}
_TARGETS = {None: "KEY", "key": "KEY", "version": "VERSION", "create": "CREATE", "mod": "MOD",
            "value": "VALUE"}
_EMPTY_KV = KeyValue(b"")


@dataclass(frozen=True)
class RangeRequest:
    """A range with protobuf's field names and enum values (``sort_order``, ``sort_target``)."""

    key: bytes
    range_end: bytes | None
    limit: int
    revision: int
    sort_order: _RpcRange.SortOrder
    sort_target: _RpcRange.SortTarget
    serializable: bool
    keys_only: bool
    count_only: bool


class Transactions:
    """``client.transactions``: the compare and operation builders."""

    def __init__(self) -> None:
        self.value = transactions.Value
        self.version = transactions.Version
        self.create = transactions.Create
        self.mod = transactions.Mod
        self.put = transactions.Put
        self.get = transactions.Get
        self.delete = transactions.Delete
        self.txn = transactions.Txn


class KVMetadata:
    """A key's metadata: ``key``, ``create_revision``, ``mod_revision``, ``version``,
    ``lease_id`` and the answer's ``response_header``."""

    def __init__(self, keyvalue: KeyValue, header: ResponseHeader) -> None:
        self.key = keyvalue.key
        self.create_revision = keyvalue.create_revision
        self.mod_revision = keyvalue.mod_revision
        self.version = keyvalue.version
        self.lease_id = keyvalue.lease
        self.response_header = header


class ResponseOp:
    """One answer of a txn's write, as protobuf's ``ResponseOp`` (one field set)."""

    def __init__(self, name: str, response: Any) -> None:
        self.response_put = self.response_delete_range = self.response_txn = None
        self.response_range = None
        setattr(self, name, response)
        self._name = name

    def WhichOneof(self, group: str) -> str:
        """The name of the field that is set (protobuf's API)."""
        return self._name


class EtcdTokenCallCredentials:
    """python-etcd3's token credentials plugin: calls ``callback((("token", t),), None)``."""

    def __init__(self, access_token: str) -> None:
        self._access_token = access_token

    def __call__(self, context: Any, callback: Callable[..., Any]) -> None:
        callback((("token", self._access_token),), None)


def _url(host: str, port: int, secure: bool) -> str:
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"{'https' if secure else 'http'}://{host}:{int(port)}"


class Etcd3Client(Admin, WatchMethods):
    """python-etcd3's client, on etcdmap's v3 client.

    :param host: the member's host; ``port``: its client port.
    :param ca_cert: a CA bundle: talk HTTPS and verify the member with it.
    :param cert_key: the client certificate's key; ``cert_cert``: the certificate (both or none).
    :param timeout: the deadline of each call in seconds (``None``: etcdmap's 5 s).
    :param user: the etcd user; ``password``: its password (both or none; checked at once).
    :param grpc_options: ignored (there is no gRPC channel).
    :raises ValueError: only one of ``cert_key``/``cert_cert`` with ``ca_cert``.
    :raises Exception: only one of ``user``/``password`` (as python-etcd3).
    """

    def __init__(  # noqa: PLR0917 - python-etcd3's positional signature
            self, host: str = "localhost", port: int = 2379, ca_cert: str | None = None,
                 cert_key: str | None = None, cert_cert: str | None = None,
                 timeout: float | None = None, user: str | None = None,
                 password: str | None = None, grpc_options: Any = None) -> None:
        cert: tuple[str, str] | None = None
        if ca_cert is not None and (cert_key is None) != (cert_cert is None):
            raise ValueError("to use a secure channel ca_cert is required by itself, "
                             "or cert_cert and cert_key must both be specified.")
        if ca_cert is not None and cert_key is not None and cert_cert is not None:
            cert = (cert_cert, cert_key)
        if (user is None) != (password is None):
            raise Exception("if using authentication credentials both user and password "  # noqa: TRY002
                            "must be specified.")
        self.uses_secure_channel = ca_cert is not None
        self.timeout = timeout
        self._client = CoreClient(
            _url(host, port, self.uses_secure_channel), timeout=5.0 if timeout is None else timeout,
            username=user, password=password, verify=ca_cert if ca_cert is not None else None,
            cert=cert)
        self.metadata: tuple[tuple[str, str], ...] | None = None
        self.call_credentials: EtcdTokenCallCredentials | None = None
        if user is not None:
            token = self._authenticate()
            if token is not None:
                self.metadata = (("token", token),)
                self.call_credentials = EtcdTokenCallCredentials(token)
        self.watcher = Watcher(self._client, timeout)
        self.transactions = Transactions()

    @handle_errors
    def _authenticate(self) -> str | None:
        token: str | None = self._client.auth.authenticate()
        return token

    @property
    def etcdmap(self) -> CoreClient:
        """The :class:`etcdmap.v3.Client` underneath (its API, for moving on at your pace)."""
        core: CoreClient = self._client
        return core

    def close(self) -> None:
        """Cancel the watches and release the connections."""
        self.watcher.close()
        self._client.close()

    def __enter__(self) -> Etcd3Client:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads

    def _build_get_range_request(  # noqa: PLR0917 - python-etcd3's signature
            self, key: str | bytes, range_end: Any = None, limit: Any = None,
            revision: Any = None, sort_order: str | None = None,
            sort_target: str | None = "key", serializable: bool = False,
            keys_only: bool = False, count_only: Any = None, min_mod_revision: Any = None,
            max_mod_revision: Any = None, min_create_revision: Any = None,
            max_create_revision: Any = None) -> RangeRequest:
        """A range as python-etcd3 built it (protobuf's names and enum values);
        ``min_/max_*_revision`` are accepted and ignored, as in python-etcd3 0.12.

        :raises ValueError: an unknown ``sort_order`` or ``sort_target``.
        """
        if sort_order not in _ORDERS:
            raise ValueError(f'unknown sort order: "{sort_order}"')
        if sort_target not in _TARGETS:
            raise ValueError('sort_target must be one of "key", "version", "create", "mod" or "value"')
        return RangeRequest(
            utils.to_bytes(key), None if range_end is None else utils.to_bytes(range_end),
            int(limit or 0), int(revision or 0), _RpcRange.SortOrder[_ORDERS[sort_order]],
            _RpcRange.SortTarget[_TARGETS[sort_target]], bool(serializable), bool(keys_only),
            bool(count_only))

    def _range(self, key: str | bytes, *, prefix: bool = False, **kwargs: Any) -> Any:
        request = self._build_get_range_request(key, **kwargs)
        order = cast(SortOrder, request.sort_order.name)
        target = cast(SortTarget, request.sort_target.name)
        if order == "NONE" and target != "KEY":
            # etcd sorts ascending then (etcd-io/etcd release-3.5:server/etcdserver/apply.go, Range)
            order = "ASCEND"
        return self._client.kv.range(
            request.key, range_end=request.range_end, prefix=prefix, sort_order=order,
            sort_target=target, serializable=request.serializable, keys_only=request.keys_only,
            count_only=request.count_only, limit=request.limit, revision=request.revision)

    @handle_errors
    def get_response(self, key: str | bytes, serializable: bool = False) -> Any:
        """The range answer for one key (``.count`` 0 when it does not exist)."""
        return self._range(key, serializable=serializable)

    def get(self, key: str | bytes, **kwargs: Any) -> tuple[bytes | None, KVMetadata | None]:
        """The value of a key and its metadata, or ``(None, None)``."""
        response = self.get_response(key, **kwargs)
        if not response.kvs:
            return None, None
        kv = response.kvs[-1]
        return kv.value, KVMetadata(kv, response.header)

    @handle_errors
    def get_prefix_response(self, key_prefix: str | bytes, **kwargs: Any) -> Any:
        """The range answer for every key under a prefix."""
        if "key" in kwargs or "range_end" in kwargs:
            raise TypeError("Don't use key or range_end with prefix")
        return self._range(key_prefix, prefix=True, **kwargs)

    def get_prefix(self, key_prefix: str | bytes, **kwargs: Any) -> Iterator[tuple[bytes, KVMetadata]]:
        """``(value, metadata)`` of every key under a prefix (keyword arguments:
        ``sort_order``, ``sort_target``, ``keys_only``, ``serializable``, ``limit``...)."""
        response = self.get_prefix_response(key_prefix, **kwargs)
        return ((kv.value, KVMetadata(kv, response.header)) for kv in response.kvs)

    @handle_errors
    def get_range_response(self, range_start: str | bytes, range_end: str | bytes,
                           sort_order: str | None = None, sort_target: str | None = "key",
                           **kwargs: Any) -> Any:
        """The range answer for ``[range_start, range_end)``."""
        return self._range(range_start, range_end=range_end, sort_order=sort_order,
                           sort_target=sort_target, **kwargs)

    def get_range(self, range_start: str | bytes, range_end: str | bytes,
                  **kwargs: Any) -> Iterator[tuple[bytes, KVMetadata]]:
        """``(value, metadata)`` of every key in ``[range_start, range_end)`` (a generator)."""
        response = self.get_range_response(range_start, range_end, **kwargs)
        for kv in response.kvs:
            yield kv.value, KVMetadata(kv, response.header)

    @handle_errors
    def get_all_response(self, sort_order: str | None = None, sort_target: str | None = "key",
                         keys_only: bool = False) -> Any:
        """The range answer for every key."""
        return self._range(b"\0", range_end=b"\0", sort_order=sort_order,
                           sort_target=sort_target, keys_only=keys_only)

    def get_all(self, **kwargs: Any) -> Iterator[tuple[bytes, KVMetadata]]:
        """``(value, metadata)`` of every key (a generator)."""
        response = self.get_all_response(**kwargs)
        for kv in response.kvs:
            yield kv.value, KVMetadata(kv, response.header)

    # ------------------------------------------------------------------ writes

    @handle_errors
    def put(self, key: str | bytes, value: str | bytes, lease: Any = None,
            prev_kv: bool = False) -> PutResponse:
        """Set a key; the answer's ``.prev_kv`` is empty unless ``prev_kv`` and the key existed."""
        response: PutResponse = self._client.kv.put(
            key, utils.to_bytes(value), lease=utils.lease_to_id(lease), prev_kv=bool(prev_kv))
        if response.prev_kv is None:
            response = PutResponse(response.header, _EMPTY_KV)
        return response

    def put_if_not_exists(self, key: str | bytes, value: str | bytes, lease: Any = None) -> bool:
        """Create a key only if it does not exist; whether it was created."""
        status, _ = self.transaction(
            compare=[self.transactions.create(key) == "0"],
            success=[self.transactions.put(key, value, lease=lease)], failure=[])
        return status

    def replace(self, key: str | bytes, initial_value: str | bytes, new_value: str | bytes) -> bool:
        """Set a key to ``new_value`` only if its value is ``initial_value``; whether it was."""
        status, _ = self.transaction(
            compare=[self.transactions.value(key) == initial_value],
            success=[self.transactions.put(key, new_value)], failure=[])
        return status

    @handle_errors
    def delete(self, key: str | bytes, prev_kv: bool = False, return_response: bool = False) -> Any:
        """Delete a key: whether it existed, or the whole answer with ``return_response``."""
        response = self._client.kv.delete(key, prev_kv=bool(prev_kv))
        return response if return_response else response.deleted >= 1

    @handle_errors
    def delete_prefix(self, prefix: str | bytes) -> Any:
        """Delete every key under a prefix; the answer (``.deleted``)."""
        return self._client.kv.delete(prefix, prefix=True)

    def _ops_to_requests(self, ops: Sequence[Any]) -> list[Any]:
        """python-etcd3's operations as :class:`etcdmap.v3.Op` objects."""
        return transactions.ops_to_core(ops)

    @handle_errors
    def transaction(self, compare: Sequence[Any], success: Sequence[Any] | None = None,
                    failure: Sequence[Any] | None = None) -> tuple[bool, list[Any]]:
        """Run ``success`` if every compare holds, else ``failure``, atomically.

        :returns: ``(succeeded, responses)``: a range gives a list of ``(value, KVMetadata)``,
            a write a :class:`ResponseOp` (``.response_put.header.revision``...).
        """
        answer: TxnResponse = self._client.kv.txn(
            [c.to_core() for c in compare], self._ops_to_requests(success or []),
            self._ops_to_requests(failure or []))
        names = {"PutResponse": "response_put", "DeleteResponse": "response_delete_range",
                 "TxnResponse": "response_txn"}
        out: list[Any] = []
        for response in answer.responses:
            name = names.get(type(response).__name__, "")
            if isinstance(response, RangeResponse):
                out.append([(kv.value, KVMetadata(kv, answer.header)) for kv in response.kvs])
            else:
                out.append(ResponseOp(name, response))
        return answer.succeeded, out

    # ------------------------------------------------------------------ leases and locks

    @handle_errors
    def lease(self, ttl: int, lease_id: int | None = None) -> leases.Lease:
        """Grant a lease (etcd raises a TTL below its minimum, ~2 s)."""
        grant = self._client.lease.grant(max(int(ttl), 1), lease_id=int(lease_id or 0))
        return leases.Lease(lease_id=grant.id, ttl=grant.ttl, etcd_client=self)

    @handle_errors
    def revoke_lease(self, lease_id: int) -> None:
        """Revoke a lease (its keys are deleted).

        :raises RpcError: NOT_FOUND: no such lease.
        """
        self._client.lease.revoke(lease_id)

    @handle_errors
    def refresh_lease(self, lease_id: int) -> Iterator[leases.LeaseKeepAliveResponse]:
        """Refresh a lease once (a generator of one answer; ``TTL`` 0: the lease is gone)."""
        answer = self._client.lease.keepalive_once(lease_id)
        yield leases.LeaseKeepAliveResponse(answer.header, answer.id, answer.ttl)

    @handle_errors
    def get_lease_info(self, lease_id: int) -> leases.LeaseTimeToLiveResponse:
        """A lease's remaining and granted TTL and its keys."""
        info = self._client.lease.time_to_live(lease_id, keys=True)
        return leases.LeaseTimeToLiveResponse(info.header, info.id, info.ttl, info.granted_ttl,
                                              list(info.keys))

    def lock(self, name: str, ttl: int = 60) -> locks.Lock:
        """python-etcd3's lock recipe on ``/locks/<name>`` (see :mod:`~etcdmap.compat.etcd3.locks`)."""
        return locks.Lock(name, ttl=ttl, etcd_client=self)

    # ------------------------------------------------------------------ watches

    @handle_errors
    def add_watch_callback(self, *args: Any, **kwargs: Any) -> int:
        """Watch a key (``range_end=``, ``start_revision=``, ``prev_kv=``, ``filters=``,
        ``progress_notify=``) and call ``callback(response_or_exception)``.

        :returns: the watch ID, for :meth:`cancel_watch`.
        :raises WatchTimedOut: etcd did not create the watch within ``timeout``.
        """
        return self.watcher.add_callback(*args, **kwargs)

    def add_watch_prefix_callback(self, key_prefix: str | bytes, callback: Callable[[Any], None],
                                  **kwargs: Any) -> int:
        """:meth:`add_watch_callback` for every key under a prefix."""
        kwargs["range_end"] = prefix_end(utils.to_bytes(key_prefix))
        return self.add_watch_callback(key_prefix, callback, **kwargs)

    def cancel_watch(self, watch_id: int) -> None:
        """Stop a watch made by :meth:`add_watch_callback`."""
        self.watcher.cancel(watch_id)


def client(  # noqa: PLR0917 - python-etcd3's positional signature
        host: str = "localhost", port: int = 2379, ca_cert: str | None = None,
           cert_key: str | None = None, cert_cert: str | None = None,
           timeout: float | None = None, user: str | None = None, password: str | None = None,
           grpc_options: Any = None) -> Etcd3Client:
    """An :class:`Etcd3Client` (python-etcd3's entry point)."""
    return Etcd3Client(host=host, port=port, ca_cert=ca_cert, cert_key=cert_key,
                       cert_cert=cert_cert, timeout=timeout, user=user, password=password,
                       grpc_options=grpc_options)
