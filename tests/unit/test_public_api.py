"""The public surface: what ``import etcdmap`` offers, and that importing it does nothing else."""

from __future__ import annotations

import subprocess
import sys

import etcdmap
from etcdmap import errors


def test_all_is_sorted_and_unique() -> None:
    assert etcdmap.__all__ == sorted(set(etcdmap.__all__))


def test_every_exported_name_exists() -> None:
    missing = [name for name in etcdmap.__all__ if not hasattr(etcdmap, name)]
    assert missing == []


def test_every_public_error_is_reexported() -> None:
    public = {name for name in errors.__all__ if name[0].isupper()}
    assert public - set(etcdmap.__all__) == set()


def test_design_contract_names() -> None:
    # The names etcdmap's README promises to users.
    for name in (
        "Client", "EtcdMap", "connect", "Selection", "Permission", "Node", "Response",
        "enable_curl_debug", "signals", "EtcdMapError", "EtcdError", "KeyNotFound",
        "CompareFailed", "NotAFile", "NotADirectory", "NodeExists", "RootReadOnly",
        "DirectoryNotEmpty", "Unauthorized", "RaftInternal", "LeaderElect", "WatcherCleared",
        "EventIndexCleared", "ClusterError", "NoEndpointsError", "TooManyRedirectsError",
        "NoLeaderEndpointError", "InvalidResponseError", "DeadlineExceeded",
        "AmbiguousResultError", "MemberError", "AuthError",
    ):
        assert name in etcdmap.__all__, name
    for name in ("changed", "created", "updated", "deleted", "expired", "resynced", "watch_error"):
        assert hasattr(etcdmap.signals, name), name


def test_errors_carry_builtin_meaning() -> None:
    assert issubclass(etcdmap.KeyNotFound, KeyError)
    assert issubclass(etcdmap.RequestError, ValueError)
    assert issubclass(etcdmap.DeadlineExceeded, TimeoutError)
    assert issubclass(etcdmap.NoEndpointsError, ValueError)
    assert issubclass(etcdmap.Unauthorized, etcdmap.AuthError)
    assert issubclass(etcdmap.Unauthorized, etcdmap.EtcdError)
    for name in etcdmap.__all__:
        obj = getattr(etcdmap, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, etcdmap.EtcdMapError), name


def test_import_has_no_side_effects() -> None:
    # A fresh interpreter: importing etcdmap starts no thread, pulls in neither pytest nor the
    # testing harness, and leaves logging unconfigured.
    code = (
        "import logging, sys, threading\n"
        "import etcdmap\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert 'pytest' not in sys.modules\n"
        "assert 'etcdmap.testing' not in sys.modules\n"
        "assert not logging.getLogger().handlers\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
