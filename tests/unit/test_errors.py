"""The error tree: the errorCode registry, builtin meanings, str/repr and pickling."""

from __future__ import annotations

import pickle

import pytest

from etcdmap import errors

CODES = {
    100: errors.KeyNotFound,
    101: errors.CompareFailed,
    102: errors.NotAFile,
    104: errors.NotADirectory,
    105: errors.NodeExists,
    107: errors.RootReadOnly,
    108: errors.DirectoryNotEmpty,
    110: errors.Unauthorized,
    201: errors.PrevValueRequired,
    202: errors.TTLNaN,
    203: errors.IndexNaN,
    209: errors.InvalidField,
    210: errors.InvalidForm,
    211: errors.RefreshValue,
    212: errors.RefreshTTLRequired,
    300: errors.RaftInternal,
    301: errors.LeaderElect,
    400: errors.WatcherCleared,
    401: errors.EventIndexCleared,
}


@pytest.mark.parametrize(("code", "cls"), sorted(CODES.items()))
def test_every_code_maps_to_its_class(code: int, cls: type[errors.EtcdError]) -> None:
    err = errors.error_for_code(code, "msg", "cause", 7)
    assert type(err) is cls
    assert (err.code, err.message, err.cause, err.index) == (code, "msg", "cause", 7)
    assert str(err) == f"{code}: msg (cause) [7]"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and repr(back) == repr(err)


def test_unknown_code_is_a_plain_etcd_error() -> None:
    err = errors.error_for_code(999, "new", "", 3)
    assert type(err) is errors.EtcdError and err.code == 999


def test_request_errors_are_value_errors_and_key_not_found_a_key_error() -> None:
    for code in (201, 202, 203, 204, 209, 210, 211, 212):
        assert isinstance(errors.error_for_code(code), ValueError)
    assert isinstance(errors.error_for_code(100), KeyError)


def test_unauthorized_is_both_an_etcd_error_and_an_auth_error() -> None:
    err = errors.error_for_code(110, "The request requires user authentication", "Insufficient credentials")
    assert isinstance(err, errors.EtcdError) and isinstance(err, errors.AuthError)
    assert err.status == 401
    assert "Insufficient credentials" in str(err)


def test_directory_ttl_regression_is_named() -> None:
    err = errors.error_for_code(300, "Raft Internal Error", "nodePath /1/dir : Not a file ()", 5)
    assert type(err) is errors.DirectoryTTLUnsupported
    assert isinstance(err, errors.RaftInternal)
    other = errors.error_for_code(300, "Raft Internal Error", "etcdserver: request timed out")
    assert type(other) is errors.RaftInternal


def test_cluster_error_lists_each_endpoint() -> None:
    err = errors.ClusterError([("http://a:1", OSError("refused")), ("http://b:2", OSError("reset"))])
    assert [ep for ep, _ in err.errors] == ["http://a:1", "http://b:2"]
    assert "error #0: http://a:1: refused" in str(err) and "error #1: http://b:2: reset" in str(err)
    assert err.maybe_applied is False
