"""The released sdists of python-etcd3 0.12.0 and python-etcd 0.4.5, whose own test suites run
against etcdmap's drop-ins (``tests/compat/test_compat_upstream.py``).

Nothing of them is committed here: the sdists are downloaded with pip (``pip download
--no-deps --no-binary :all:``) into a cache, checked against the SHA-256 below, and only
their ``tests`` directories are extracted, into a temporary directory, for one run.

The cache is ``$ETCDMAP_COMPAT_CACHE``, else ``~/.cache/etcdmap/upstream-sdists``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["SDISTS", "Sdist", "extract_tests", "fetch"]


@dataclass(frozen=True)
class Sdist:
    """One released sdist and where its tests are inside it.

    :ivar requirement: what pip downloads.
    :ivar filename: the archive's name.
    :ivar sha256: its digest (PyPI's).
    :ivar tests: the tests directory inside the archive.
    :ivar target: where that directory goes, relative to the extraction root.
    """

    requirement: str
    filename: str
    sha256: str
    tests: str
    target: str


SDISTS = {
    "etcd3": Sdist("etcd3==0.12.0", "etcd3-0.12.0.tar.gz",
                   "89a704cb389bf0a010a1fa050ce19342d23bf6371ebda1c21cfe8ff3ed488726",
                   "etcd3-0.12.0/tests", "tests"),
    "python-etcd": Sdist("python-etcd==0.4.5", "python-etcd-0.4.5.tar.gz",
                         "f1b5ebb825a3e8190494f5ce1509fde9069f2754838ed90402a8c11e1f52b8cb",
                         "python-etcd-0.4.5/src/etcd/tests", "src/etcd/tests"),
}


def cache_dir() -> Path:
    """Where the sdists are kept between runs."""
    env = os.environ.get("ETCDMAP_COMPAT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "etcdmap" / "upstream-sdists"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(sdist: Sdist) -> Path:
    """The sdist's archive, downloaded once (pip) and checked.

    :raises RuntimeError: pip failed, or the archive's digest is not the pinned one.
    """
    cache = cache_dir()
    path = cache / sdist.filename
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", str(cache), sdist.requirement]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not path.is_file():
            raise RuntimeError(f"pip download {sdist.requirement} failed:\n{done.stderr[-2000:]}")
    if _digest(path) != sdist.sha256:
        path.unlink()
        raise RuntimeError(f"{sdist.filename}: SHA-256 mismatch (removed from the cache)")
    return path


def extract_tests(sdist: Sdist, root: Path) -> Path:
    """Extract the sdist's tests directory under ``root`` (files only, no links).

    :returns: the extracted tests directory.
    """
    prefix = PurePosixPath(sdist.tests)
    dest = root / sdist.target
    with tarfile.open(fetch(sdist)) as archive:
        for member in archive.getmembers():
            name = PurePosixPath(member.name)
            if not member.isfile() or prefix not in name.parents or ".." in name.parts:
                continue
            out = dest / name.relative_to(prefix)
            out.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            out.write_bytes(source.read())
    return dest
