"""The original tests that do not run on the drop-ins, each with its reason.

Keys are ``Class::test`` (``Class::*``: every test of the class), or ``file.py::Class::test``
where two files have a class of that name.
"""

from __future__ import annotations

_GRPC_STUB = ("replaces a gRPC stub of the client (kvstub/watch stub/AuthStub) with a mock; "
              "the drop-in has no gRPC stubs")
_API_EXECUTE = ("replaces Client.api_execute with a mock returning urllib3 responses; the "
                "drop-in reads and writes keys through etcdmap's v2 client, not api_execute")
_URLLIB3 = ("mocks python-etcd's urllib3 pool (client.http / urllib3.PoolManager); the drop-in "
            "sends through etcdmap's transport")

DESELECTED: dict[str, dict[str, str]] = {
    "etcd3": {
        "TestEtcd3::test_new_watch_error":
            "patches the gRPC watcher's internal condition variable (watcher._new_watch_cond)",
        "TestEtcd3::test_watch_timeout_on_establishment": _GRPC_STUB,
        "TestEtcd3::test_internal_exception_on_internal_error": _GRPC_STUB,
        "TestEtcd3::test_connection_failure_exception_on_connection_failure": _GRPC_STUB,
        "TestEtcd3::test_connection_timeout_exception_on_connection_timeout": _GRPC_STUB,
        "TestEtcd3::test_grpc_exception_on_unknown_code": _GRPC_STUB,
        "TestClient::test_user_pwd_auth": _GRPC_STUB,
    },
    "python-etcd": {
        "TestEventGenerator::test_eternal_watch":
            "a nose yield test (pytest cannot run those, with python-etcd either), and it "
            "replaces Client.api_execute with a mock",
        "TestClient::test__set_version_info": _URLLIB3,
        "TestClient::test_version_property": _URLLIB3,
        "TestClient::test_cluster_version_property": _URLLIB3,
        "TestClient::test_discover":
            "patches dnspython 1's dns.resolver.query; the drop-in resolves with dnspython 2's "
            "dns.resolver.resolve",
        "TestClientLock::test_acquire": _API_EXECUTE,
        "TestClientLock::test_acquired": _API_EXECUTE,
        "TestClientLock::test_find_lock": _API_EXECUTE,
        "TestClientLock::test_get_locker": _API_EXECUTE,
        "TestClientLock::test_is_acquired": _API_EXECUTE,
        "TestClientLock::test_is_not_acquired": _API_EXECUTE,
        "TestClientLock::test_release": _API_EXECUTE,
        "test_old_request.py::TestClientRequest::test_set": _API_EXECUTE,
        "test_old_request.py::TestClientRequest::test_test_and_set": _API_EXECUTE,
        "test_old_request.py::TestClientRequest::test_test_and_test_failure": _API_EXECUTE,
        "test_old_request.py::TestClientRequest::test_delete": _API_EXECUTE,
        "test_old_request.py::TestClientRequest::test_get": _API_EXECUTE,
        "test_old_request.py::TestClientRequest::test_in": _API_EXECUTE,
        "test_old_request.py::TestClientRequest::test_simple_watch": _API_EXECUTE,
        "test_old_request.py::TestClientRequest::test_index_watch": _API_EXECUTE,
        "test_request.py::TestClientRequest::test_delete": _URLLIB3,
        "test_request.py::TestClientRequest::test_compare_and_swap": _URLLIB3,
        "test_request.py::TestClientRequest::test_compare_and_swap_failure": _URLLIB3,
        "test_request.py::TestClientRequest::test_get_dir": _URLLIB3,
        "test_request.py::TestClientRequest::test_leader": _URLLIB3,
        "test_request.py::TestClientRequest::test_leader_stats": _URLLIB3,
        "test_request.py::TestClientRequest::test_machines": _URLLIB3,
        "test_request.py::TestClientRequest::test_members": _URLLIB3,
        "test_request.py::TestClientRequest::test_newkey": _URLLIB3,
        "test_request.py::TestClientRequest::test_not_found_response": _URLLIB3,
        "test_request.py::TestClientRequest::test_pop": _URLLIB3,
        "test_request.py::TestClientRequest::test_read": _URLLIB3,
        "test_request.py::TestClientRequest::test_read_cluster_id_changed": _URLLIB3,
        "test_request.py::TestClientRequest::test_read_connection_error": _URLLIB3,
        "test_request.py::TestClientRequest::test_refresh": _URLLIB3,
        "test_request.py::TestClientRequest::test_self_stats": _URLLIB3,
        "test_request.py::TestClientRequest::test_set_append": _URLLIB3,
        "test_request.py::TestClientRequest::test_set_plain": _URLLIB3,
        "test_request.py::TestClientRequest::test_update": _URLLIB3,
        "test_request.py::TestClientRequest::test_update_fails": _URLLIB3,
        "test_request.py::TestClientRequest::test_use_proxies": _URLLIB3,
        "test_request.py::TestClientRequest::test_watch": _URLLIB3,
        "test_request.py::TestClientRequest::test_watch_index": _URLLIB3,
        "test_request.py::TestClientRequest::test_watch_timeout": _URLLIB3,
        "TestClientApiExecutor::*": _URLLIB3,
        "TestClientApiInternals::*":
            "asserts the exact arguments python-etcd passed to its internal api_execute",
        "TestClientApiInterface::test_machines": _URLLIB3,
        "TestClientApiInterface::test_members": _API_EXECUTE,
        "TestClientApiInterface::test_set_plain": _API_EXECUTE,
        "TestClientApiInterface::test_update": _API_EXECUTE,
        "TestClientApiInterface::test_newkey": _API_EXECUTE,
        "TestClientApiInterface::test_refresh": _API_EXECUTE,
        "TestClientApiInterface::test_not_found_response":
            _API_EXECUTE + " (on the drop-in it would pass for a wrong reason: the refused "
            "connection is an EtcdException too)",
        "TestClientApiInterface::test_compare_and_swap": _API_EXECUTE,
        "TestClientApiInterface::test_compare_and_swap_failure": _API_EXECUTE,
        "TestClientApiInterface::test_set_append": _API_EXECUTE,
        "TestClientApiInterface::test_delete": _API_EXECUTE,
        "TestClientApiInterface::test_pop": _API_EXECUTE,
        "TestClientApiInterface::test_read": _API_EXECUTE,
        "TestClientApiInterface::test_get_dir": _API_EXECUTE,
        "TestClientApiInterface::test_not_in": _API_EXECUTE,
        "TestClientApiInterface::test_in": _API_EXECUTE,
        "TestClientApiInterface::test_watch": _API_EXECUTE,
        "TestClientApiInterface::test_watch_index": _API_EXECUTE,
        "TestSimple::test_directory_ttl_update":
            "etcd 3.5 refuses to update a directory's TTL (error 300 'Not a file', a server "
            "regression); python-etcd 0.4.5 fails it on etcd 3.5 too",
        "EtcdUserTest::test_write_and_delete":
            "grants the role 'test_group', which does not exist: etcd 3.5 refuses that "
            "('Role test_group does not exist'); python-etcd 0.4.5 fails every auth test on "
            "etcd 3.5 (the v2 auth JSON changed in etcd 2.3)",
    },
}


def reason_for(suite: str, filename: str, key: str) -> str | None:
    """Why ``Class::test`` of ``filename`` in ``suite`` does not run (``None``: it runs)."""
    fixed = DESELECTED[suite]
    return (fixed.get(f"{filename}::{key}") or fixed.get(key)
            or fixed.get(key.split("::", 1)[0] + "::*"))
