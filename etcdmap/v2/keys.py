"""The v2 keys API: ``client.keys``.

Every method sends exactly the request of the Go client (etcd-io/etcd release-3.5:client/v2/keys.go)
(``prevValue``, ``prevIndex``,
``prevExist``, ``dir``, ``noValueOnSuccess`` in the query; ``value``, ``ttl``, ``refresh`` in the
form body; ``GET`` always sends ``quorum``, ``recursive`` and ``sorted``) and returns a
:class:`~etcdmap.v2.models.Response`, or raises the :mod:`etcdmap.errors` class of etcd's
``errorCode``.

Idempotency (what may be re-sent to another member after an *ambiguous* failure: the request
was sent, then a read timeout, a reset or a 5xx; see :mod:`etcdmap.http.transport`):

==========================================================  ==========  =========================
call                                                        re-sent?    after ambiguity
==========================================================  ==========  =========================
``get``, watcher polls                                      yes         --
``set`` without conditions (file), ``refresh``              yes         same final state
``delete`` without conditions (also ``dir``/``recursive``)  yes         a retry whose first try
                                                                        applied raises
                                                                        ``KeyNotFound``: the key
                                                                        is gone either way
``create``, ``set(prev_exist=False)``, ``mkdir``            no          AmbiguousResultError
``update``, ``set(prev_exist=True)``                        no          AmbiguousResultError
CAS ``set(prev_value=/prev_index=)``                        no          AmbiguousResultError
``set(dir=True)`` (a retry would fail with 102)             no          AmbiguousResultError
``create_in_order``                                         no          AmbiguousResultError
conditional ``delete(prev_value=/prev_index=)``             no          AmbiguousResultError
==========================================================  ==========  =========================

Thread-safe: a :class:`KeysAPI` keeps no per-call state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from etcdmap.http.transport import DEFAULT as _DEFAULT
from etcdmap.http.transport import CallTimeout, UseDefault
from etcdmap.v2 import wire as _wire
from etcdmap.v2.key_requests import (
    KeyRequest,
    create_in_order_request,
    delete_request,
    get_request,
    refresh_request,
    set_request,
)
from etcdmap.v2.models import Response
from etcdmap.v2.watcher import DEFAULT_POLL_TIMEOUT, Watcher

if TYPE_CHECKING:
    from etcdmap.http.transport import HTTPResult, Transport

__all__ = ["KeysAPI"]


class KeysAPI:
    """Read, write, delete and watch keys (the etcd v2 ``/v2/keys`` API).

    Obtain it as ``client.keys``. Every method accepts ``timeout=`` to override the client's
    whole-call deadline for that call.

    :param transport: the client's transport.
    :param prefix: the API path prefix (``/v2/keys``).
    """

    def __init__(self, transport: Transport, prefix: str = _wire.KEYS_PREFIX) -> None:
        self.transport = transport
        self.prefix = prefix

    def _send(self, key: str, req: KeyRequest, timeout: CallTimeout) -> HTTPResult:
        return self.transport.request(
            req.method, _wire.key_path(key, self.prefix), params=req.params or None,
            form=req.form, idempotent=req.idempotent, timeout=timeout,
        )

    def _call(self, key: str, req: KeyRequest, timeout: CallTimeout) -> Response:
        res = self._send(key, req, timeout)
        return _wire.decode_response(res.status, res.headers, res.body, res.endpoint)

    def get(
        self,
        key: str,
        *,
        recursive: bool = False,
        sort: bool = False,
        quorum: bool = False,
        timeout: float | UseDefault | None = _DEFAULT,
    ) -> Response:
        """Read a key or list a directory.

        :param key: the key (``"/"`` or ``""`` for the root).
        :param recursive: list the whole subtree of a directory.
        :param sort: sort the children of directories by key, at every level.
        :param quorum: a linearizable read through raft (otherwise the member's local view).
        :param timeout: whole-call deadline override.
        :returns: the ``get`` response; ``node.nodes`` holds the children of a directory.
        :raises KeyNotFound: no such key.
        :raises ClusterError: no endpoint answered.
        :raises DeadlineExceeded: the timeout ran out.
        """
        return self._call(key, get_request(recursive=recursive, sort=sort, quorum=quorum), timeout)

    def get_json(
        self,
        key: str,
        *,
        recursive: bool = False,
        sort: bool = False,
        quorum: bool = False,
        timeout: float | UseDefault | None = _DEFAULT,
    ) -> tuple[dict[str, Any], int]:
        """:meth:`get`, returning etcd's parsed JSON instead of models (for bulk reads).

        Building a :class:`~etcdmap.models.Node` per key dominates a recursive read of
        thousands of keys; :meth:`etcdmap.EtcdMap.to_dict` walks this JSON instead.

        :param key: the key (``"/"`` or ``""`` for the root).
        :param recursive: list the whole subtree of a directory.
        :param sort: sort the children of directories by key, at every level.
        :param quorum: a linearizable read through raft.
        :param timeout: whole-call deadline override.
        :returns: ``(event, index)``: the decoded event object (``event["node"]`` is the node
            as etcd sent it, children under ``"nodes"``) and the ``X-Etcd-Index`` header.
        :raises KeyNotFound: no such key.
        :raises ClusterError: no endpoint answered.
        :raises DeadlineExceeded: the timeout ran out.
        """
        res = self._send(key, get_request(recursive=recursive, sort=sort, quorum=quorum), timeout)
        event = _wire.decode_event(res.status, res.headers, res.body, res.endpoint)
        return event, _wire.parse_index(res.headers, res.endpoint)

    def set(
        self,
        key: str,
        value: str,
        *,
        ttl: int | None = None,
        prev_value: str | None = None,
        prev_index: int | None = None,
        prev_exist: bool | None = None,
        refresh: bool = False,
        dir: bool = False,
        no_value_on_success: bool = False,
        timeout: float | UseDefault | None = _DEFAULT,
    ) -> Response:
        """Write a key (PUT): set, create, update or compare-and-swap depending on the options.

        :param key: the key.
        :param value: the value (a ``str``); must be ``""`` when ``dir=True``.
        :param ttl: seconds to live, a positive whole number; ``None`` makes the node
            permanent (any write without ``ttl`` clears an existing TTL: etcd-io/etcd
            release-3.4:Documentation/v2/api.md).
        :param prev_value: compare-and-swap on the current value. ``""`` is sent as is and etcd
            answers :class:`~etcdmap.errors.PrevValueRequired` (never a silent plain set).
        :param prev_index: compare-and-swap on ``modified_index`` (``0``: no comparison).
        :param prev_exist: ``True`` = update (must exist), ``False`` = create (must not exist).
        :param refresh: reset the TTL without notifying watchers (needs ``ttl``; the value must
            be ``""``); see also :meth:`refresh`.
        :param dir: create a directory instead of a file.
        :param no_value_on_success: etcd answers only ``{"action": ...}`` (``node`` is ``None``).
        :param timeout: whole-call deadline override.
        :returns: the response (action ``set``, ``create``, ``update`` or ``compareAndSwap``).
        :raises TypeError: ``value`` is not a ``str`` (or another argument has the wrong type).
        :raises ValueError: a TTL that is not a positive whole number of seconds, a value or
            ``prev_value`` with ``dir=True``.
        :raises CompareFailed: the ``prev_value``/``prev_index`` condition did not hold.
        :raises NodeExists: ``prev_exist=False`` and the key exists.
        :raises KeyNotFound: ``prev_exist=True`` (or a CAS) and the key does not exist.
        :raises NotAFile: the key is a directory (``set`` cannot replace a directory).
        :raises AmbiguousResultError: a conditional or directory write was sent and no answer came.
        :raises ClusterError: no endpoint answered.
        :raises DeadlineExceeded: the timeout ran out.
        """
        req = set_request(
            value, ttl=ttl, prev_value=prev_value, prev_index=prev_index, prev_exist=prev_exist,
            refresh=refresh, dir=dir, no_value_on_success=no_value_on_success,
        )
        return self._call(key, req, timeout)

    def create(
        self, key: str, value: str, *, ttl: int | None = None, timeout: float | UseDefault | None = _DEFAULT
    ) -> Response:
        """Create a key that must not exist yet (``prevExist=false``).

        :returns: the ``create`` response.
        :raises NodeExists: the key exists.
        :raises AmbiguousResultError: sent, and no answer came (never re-sent).
        :raises TypeError: ``value`` is not a ``str``.
        :raises ValueError: a bad ``ttl``.
        """
        return self.set(key, value, ttl=ttl, prev_exist=False, timeout=timeout)

    def update(
        self, key: str, value: str, *, ttl: int | None = None, timeout: float | UseDefault | None = _DEFAULT
    ) -> Response:
        """Replace the value of an existing key (``prevExist=true``), keeping ``created_index``.

        :returns: the ``update`` response.
        :raises KeyNotFound: the key does not exist.
        :raises AmbiguousResultError: sent, and no answer came (never re-sent).
        :raises TypeError: ``value`` is not a ``str``.
        :raises ValueError: a bad ``ttl``.
        """
        return self.set(key, value, ttl=ttl, prev_exist=True, timeout=timeout)

    def create_in_order(
        self,
        dir: str,
        value: str,
        *,
        ttl: int | None = None,
        timeout: float | UseDefault | None = _DEFAULT,
    ) -> Response:
        """Create a uniquely named, increasing key in a directory (POST).

        The new key is ``<dir>/<20-digit index>``, so a sorted listing gives creation order.

        :returns: the ``create`` response; ``node.key`` is the new key.
        :raises NotADirectory: ``dir`` is a file.
        :raises AmbiguousResultError: sent, and no answer came (never re-sent: a retry could
            create a second key).
        :raises TypeError: ``value`` is not a ``str``.
        :raises ValueError: a bad ``ttl``.
        """
        return self._call(dir, create_in_order_request(value, ttl=ttl), timeout)

    def refresh(self, key: str, ttl: int, *, timeout: float | UseDefault | None = _DEFAULT) -> Response:
        """Reset the TTL of an existing key without changing its value or notifying watchers.

        Sent as an update (``prevExist=true&refresh=true``), so the node keeps its
        ``created_index`` and a missing key raises instead of being created.

        :returns: the ``update`` response with the new TTL.
        :raises KeyNotFound: the key does not exist.
        :raises DirectoryTTLUnsupported: a directory on etcd 3.5 (server regression).
        :raises ValueError: a bad ``ttl``.
        """
        return self._call(key, refresh_request(ttl), timeout)

    def mkdir(
        self, key: str, *, ttl: int | None = None, timeout: float | UseDefault | None = _DEFAULT
    ) -> Response:
        """Create a directory that must not exist yet (``dir=true&prevExist=false``).

        :returns: the ``create`` response.
        :raises NodeExists: the key exists (file or directory).
        :raises AmbiguousResultError: sent, and no answer came.
        :raises ValueError: a bad ``ttl``.
        """
        return self.set(key, "", dir=True, ttl=ttl, prev_exist=False, timeout=timeout)

    def delete(
        self,
        key: str,
        *,
        recursive: bool = False,
        dir: bool = False,
        prev_value: str | None = None,
        prev_index: int | None = None,
        timeout: float | UseDefault | None = _DEFAULT,
    ) -> Response:
        """Delete a key, an empty directory (``dir=True``) or a subtree (``recursive=True``).

        With ``prev_value``/``prev_index`` it is a compare-and-delete (files only).

        :returns: the ``delete`` or ``compareAndDelete`` response; ``prev_node`` is the old node.
        :raises KeyNotFound: no such key (also possible when an unconditional delete was
            retried on another member after its first attempt applied).
        :raises NotAFile: a directory without ``dir``/``recursive``, or a CAD on a directory.
        :raises DirectoryNotEmpty: ``dir=True`` on a non-empty directory.
        :raises CompareFailed: the condition did not hold.
        :raises RootReadOnly: ``key`` is the root.
        :raises AmbiguousResultError: a conditional delete was sent and no answer came.
        """
        req = delete_request(
            recursive=recursive, dir=dir, prev_value=prev_value, prev_index=prev_index
        )
        return self._call(key, req, timeout)

    def watcher(
        self,
        key: str,
        *,
        after_index: int = 0,
        recursive: bool = False,
        poll_timeout: float = DEFAULT_POLL_TIMEOUT,
    ) -> Watcher:
        """A :class:`~etcdmap.v2.watcher.Watcher` of the events on ``key`` after ``after_index``.

        :param key: the key or directory to watch.
        :param after_index: deliver events with an index greater than this; ``0`` = from now.
        :param recursive: include events on every key below ``key``.
        :param poll_timeout: longest wait of one long poll before it is re-issued; a member
            that then does not answer is left for the next one (so a stopped member is noticed).
        :raises TypeError: a wrong argument type.
        :raises ValueError: a negative ``after_index``.
        """
        return Watcher(
            self.transport, key, after_index=after_index, recursive=recursive,
            poll_timeout=poll_timeout, prefix=self.prefix,
        )

    def __repr__(self) -> str:
        return f"<KeysAPI {self.prefix} on {self.transport!r}>"
