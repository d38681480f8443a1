"""python-etcd 0.4.5's :class:`Client` (``etcd.Client``) on :class:`etcdmap.Client` (v2).

Every call goes through etcdmap's v2 client: keys are quoted (python-etcd cut them at ``?``
and ``#``), writes are never re-sent after an ambiguous failure, the endpoints fail over, and
``eternal_watch`` reads a live ``stream=true`` watch, so no event is lost however slowly the
generator is consumed (python-etcd's long polls fell out of etcd's 1,000-event history and
lost events, or died with ``EtcdEventIndexCleared``). ``client.etcdmap`` is the etcdmap client
underneath, for moving on to its API at your own pace.

``read_timeout`` is the whole-call deadline (across members); ``per_host_pool_size`` is
ignored; ``srv_domain`` looks up ``_etcd._tcp.<domain>`` as python-etcd did (needs the
``dns`` extra).

Thread-safety: thread-safe, as etcdmap's client is.
"""

from __future__ import annotations

import logging
from typing import Any

from etcdmap.compat.etcd.admin import Admin
from etcdmap.compat.etcd.errors import EtcdClusterIdChanged, EtcdException, reraise
from etcdmap.compat.etcd.result import EtcdResult, result_of
from etcdmap.compat.etcd.watching import Watching
from etcdmap.http.transport import normalize_endpoint
from etcdmap.v2.client import Client as CoreClient

__all__ = ["Client"]

_log = logging.getLogger("etcd.client")
_WRITE_OPTIONS = ("prevValue", "prevIndex", "prevExist", "refresh")


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value if isinstance(value, str) else str(value)


class Client(Admin, Watching):
    """python-etcd's client (see the module docstring for what differs).

    :param host: a host name, or a tuple of ``(host, port)`` pairs (with ``allow_reconnect``).
    :param port: the client port.
    :param read_timeout: seconds a call may take (0: no limit).
    :raises EtcdException: several hosts without ``allow_reconnect``, or (with it and without
        ``use_proxies``) the cluster's member list could not be read.
    """

    _MGET = "GET"
    _MPUT = "PUT"
    _MPOST = "POST"
    _MDELETE = "DELETE"
    _comparison_conditions = frozenset(_WRITE_OPTIONS)
    _read_options = frozenset(("recursive", "wait", "waitIndex", "sorted", "quorum"))
    _del_conditions = frozenset(("prevValue", "prevIndex"))
    http = None

    def __init__(  # noqa: PLR0917 - python-etcd's positional signature
            self, host: Any = "127.0.0.1", port: int = 4001, srv_domain: str | None = None,
            version_prefix: str = "/v2", read_timeout: float = 60, allow_redirect: bool = True,
            protocol: str = "http", cert: Any = None, ca_cert: str | None = None,
            username: str | None = None, password: str | None = None,
            allow_reconnect: bool = False, use_proxies: bool = False,
            expected_cluster_id: str | None = None, per_host_pool_size: int = 10,
            lock_prefix: str = "/_locks") -> None:
        if srv_domain is not None:
            try:
                host = self._discover(srv_domain)
            except Exception as exc:
                _log.error("Could not discover the etcd hosts from %s: %s", srv_domain, exc)
        self._protocol = protocol
        if isinstance(host, tuple):
            if not allow_reconnect:
                raise EtcdException("A list of hosts to connect to was given, but reconnection "
                                    "not allowed?")
            uris = [f"{protocol}://{h}:{int(p)}" for h, p in host]
        else:
            uris = [f"{protocol}://{host}:{int(port)}"]
        self._machines_cache = uris[1:]
        self.expected_cluster_id = expected_cluster_id
        self.version_prefix = version_prefix
        self._read_timeout = read_timeout
        self._allow_redirect = allow_redirect
        self._use_proxies = use_proxies
        self._allow_reconnect = allow_reconnect
        self._lock_prefix = lock_prefix
        self.username = username if username and password else None
        self.password = password if username and password else None
        if (username or password) and not (username and password):
            _log.warning("Username or password provided without the other: both are required "
                         "for authentication")
        self._client = CoreClient(
            uris, timeout=read_timeout if read_timeout > 0 else None,
            username=self.username, password=self.password,
            verify=ca_cert if ca_cert else None, cert=cert,
            max_redirects=10 if allow_redirect else 0)
        first = normalize_endpoint(uris[0])
        self._client.transport.pin(first)  # python-etcd starts with the first host
        if allow_reconnect and not use_proxies:
            self._machines_cache = sorted(set(self._machines_cache) | set(self.machines))
            self._client.set_endpoints([first, *(m for m in self._machines_cache if m != first)])
            self._client.transport.pin(first)
        if self._base_uri in self._machines_cache:
            self._machines_cache.remove(self._base_uri)
        self._version: str | None = None
        self._cluster_version: str | None = None

    @staticmethod
    def _discover(domain: str) -> tuple[tuple[str, int], ...]:
        import dns.resolver  # noqa: PLC0415 - the optional dns extra

        answers = dns.resolver.resolve(f"_etcd._tcp.{domain}", "SRV")
        hosts = tuple((a.target.to_text(omit_final_dot=True), int(a.port)) for a in answers)
        if not hosts:
            raise ValueError("The SRV record is present but no host were found")
        return hosts

    @property
    def etcdmap(self) -> CoreClient:
        """The :class:`etcdmap.Client` underneath (its API, for moving on at your pace)."""
        core: CoreClient = self._client
        return core

    def close(self) -> None:
        """Release the connections (python-etcd had no ``close``; this one is new)."""
        self._client.close()

    # ------------------------------------------------------------------ properties

    @property
    def _base_uri(self) -> str:
        pinned: str = self._client.transport.pinned
        return pinned

    @property
    def base_uri(self) -> str:
        """The URI of the member the client talks to."""
        return self._base_uri

    @property
    def host(self) -> str:
        """Its host."""
        return self._base_uri.split("://", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        """Its port."""
        return int(self._base_uri.rsplit(":", 1)[1])

    @property
    def protocol(self) -> str:
        """``http`` or ``https``."""
        return self._protocol

    @property
    def read_timeout(self) -> float:
        """Seconds a call may take (0: no limit)."""
        return self._read_timeout

    @property
    def allow_redirect(self) -> bool:
        """Whether redirects are followed."""
        return self._allow_redirect

    @property
    def lock_prefix(self) -> str:
        """The directory of :class:`~etcdmap.compat.etcd.lock.Lock` keys."""
        return self._lock_prefix

    @property
    def key_endpoint(self) -> str:
        """The keys API path."""
        return self.version_prefix + "/keys"

    def _get_headers(self) -> dict[str, str]:
        """The Basic auth header python-etcd sent (etcdmap sends the same)."""
        if self.username and self.password:
            import base64  # noqa: PLC0415 - only for this compatibility helper

            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return {"authorization": f"Basic {token}"}
        return {}

    # ------------------------------------------------------------------ calls

    def _timeout(self, timeout: float | None) -> float | None:
        if timeout is None:
            timeout = self._read_timeout
        return None if not timeout or timeout <= 0 else float(timeout)

    def _checked(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Run an etcdmap call: its errors as python-etcd's, the cluster ID checked."""
        try:
            answer = call(*args, **kwargs)
        except Exception as exc:
            reraise(exc)
        cluster_id = self._client.transport.cluster_id
        previous, self.expected_cluster_id = self.expected_cluster_id, cluster_id or self.expected_cluster_id
        if previous and cluster_id and cluster_id != previous:
            raise EtcdClusterIdChanged(f"The UUID of the cluster changed from {previous} to "
                                       f"{cluster_id}.")
        return answer

    @staticmethod
    def _sanitize_key(key: str) -> str:
        return key if key.startswith("/") else f"/{key}"

    def __contains__(self, key: str) -> bool:
        from etcdmap.compat.etcd.errors import EtcdKeyNotFound  # noqa: PLC0415 - one use

        try:
            self.get(key)
        except EtcdKeyNotFound:
            return False
        return True

    def write(self, key: str, value: Any, ttl: int | None = None, dir: bool = False,
              append: bool = False, **kwdargs: Any) -> EtcdResult:
        """Write a key: ``prevValue``, ``prevIndex``, ``prevExist``, ``refresh`` as python-etcd.

        :param append: create a new in-order key in the directory ``key`` (POST).
        :raises EtcdException: a directory with a value.
        """
        key = self._sanitize_key(key)
        unknown = set(kwdargs) - set(_WRITE_OPTIONS) - {"_endpoint"}
        if unknown:
            _log.warning("write(%r): ignoring unknown options %s", key, sorted(unknown))
        if dir and value:
            raise EtcdException("Cannot create a directory with a value")
        ttl = None if ttl is None else int(ttl)
        if append:
            return result_of(self._checked(self._client.keys.create_in_order, key, _text(value),
                                           ttl=ttl))
        prev_index = kwdargs.get("prevIndex")
        return result_of(self._checked(
            self._client.keys.set, key, _text(value), ttl=ttl,
            prev_value=None if kwdargs.get("prevValue") is None else _text(kwdargs["prevValue"]),
            prev_index=None if prev_index is None else int(prev_index),
            prev_exist=_flag(kwdargs.get("prevExist")), refresh=bool(_flag(kwdargs.get("refresh"))),
            dir=bool(dir)))

    def refresh(self, key: str, ttl: int, **kwdargs: Any) -> EtcdResult:
        """Reset a key's TTL without notifying watchers (etcd 2.3+)."""
        kwdargs["prevExist"] = True
        return self.write(key=key, value=None, ttl=ttl, refresh=True, **kwdargs)

    def update(self, obj: EtcdResult) -> EtcdResult:
        """Write back a read (and modified) result, if nobody changed the key since."""
        kwdargs: dict[str, Any] = {"dir": obj.dir, "ttl": obj.ttl, "prevExist": True}
        if not obj.dir:
            kwdargs["prevIndex"] = obj.modifiedIndex
        return self.write(obj.key, obj.value, **kwdargs)

    def read(self, key: str, **kwdargs: Any) -> EtcdResult:
        """Read a key (``recursive``, ``sorted``, ``quorum``, ``timeout``), or wait for its next
        change (``wait=True``, ``waitIndex``).

        :raises EtcdKeyNotFound: no such key.
        :raises EtcdWatchTimedOut: ``wait`` and no change within ``timeout``.
        """
        key = self._sanitize_key(key)
        timeout = self._timeout(kwdargs.get("timeout"))
        if _flag(kwdargs.get("wait")):
            return self._wait(key, kwdargs.get("waitIndex"), timeout,
                              bool(_flag(kwdargs.get("recursive"))))
        return result_of(self._checked(
            self._client.keys.get, key, recursive=bool(_flag(kwdargs.get("recursive"))),
            sort=bool(_flag(kwdargs.get("sorted"))), quorum=bool(_flag(kwdargs.get("quorum"))),
            timeout=timeout))

    def delete(self, key: str, recursive: bool | None = None, dir: bool | None = None,
               **kwdargs: Any) -> EtcdResult:
        """Delete a key (``prevValue``/``prevIndex``: compare-and-delete)."""
        prev_index = kwdargs.get("prevIndex")
        return result_of(self._checked(
            self._client.keys.delete, self._sanitize_key(key), recursive=bool(recursive),
            dir=bool(dir),
            prev_value=None if kwdargs.get("prevValue") is None else _text(kwdargs["prevValue"]),
            prev_index=None if prev_index is None else int(prev_index)))

    def pop(self, key: str, recursive: bool | None = None, dir: bool | None = None,
            **kwdargs: Any) -> EtcdResult:
        """Delete a key and return what it held."""
        prev: EtcdResult = self.delete(key=key, recursive=recursive, dir=dir, **kwdargs)._prev_node
        return prev

    def test_and_set(self, key: str, value: Any, prev_value: Any, ttl: int | None = None) -> EtcdResult:
        """Set a key only if its value is ``prev_value``.

        :raises EtcdCompareFailed: it is not (also a ``ValueError``).
        """
        return self.write(key, value, prevValue=prev_value, ttl=ttl)

    def set(self, key: str, value: Any, ttl: int | None = None) -> EtcdResult:
        """Set a key."""
        return self.write(key, value, ttl=ttl)

    def get(self, key: str) -> EtcdResult:
        """Read a key.

        :raises EtcdKeyNotFound: no such key.
        """
        return self.read(key)

    def get_lock(self, *args: Any, **kwargs: Any) -> Any:
        """Removed from etcd 2.0 (as in python-etcd)."""
        raise NotImplementedError("Lock primitives were removed from etcd 2.0")

    @property
    def election(self) -> Any:
        """Removed from etcd 2.0 (as in python-etcd)."""
        raise NotImplementedError("Election primitives were removed from etcd 2.0")

