"""etcdmap: a complete, fast, failure-proof etcd v2 client and a dict-like ``EtcdMap``.

Import cost is small and importing has no side effects.
"""

from __future__ import annotations

from etcdmap.errors import *  # noqa: F403
from etcdmap.errors import __all__ as _errors_all
from etcdmap.models import (
    Member,
    Node,
    Permission,
    Response,
    Role,
    Selection,
    User,
    Versions,
)

__version__ = "0.1.0"

__all__ = sorted(
    [
        *_errors_all,
        "Member",
        "Node",
        "Permission",
        "Response",
        "Role",
        "Selection",
        "User",
        "Versions",
        "__version__",
    ]
)
