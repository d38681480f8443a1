"""The mapping layer: ``EtcdMap``, codecs, the read-through cache, the live mirror, the watch that
feeds signals, and keep-alive. It talks to etcd only through a :class:`etcdmap.backend.Backend`
(etcd v2, etcd v3 or memory), never through a client or HTTP.
"""

from etcdmap.mapping.emap import EtcdMap

__all__ = ["EtcdMap"]
