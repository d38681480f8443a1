"""The v3 command set of ``etcdmap``: a work-alike of ``ETCDCTL_API=3 etcdctl`` 3.5.

:mod:`~etcdmap.cli.v3.dispatch` finds a verb, parses its command line and reports a failed
call as etcdctl does; one module per group of verbs holds their bodies and their output:

- :mod:`~etcdmap.cli.v3.kv`: get, put, del, compaction; :mod:`~etcdmap.cli.v3.txn`: txn;
  :mod:`~etcdmap.cli.v3.watch`: watch; :mod:`~etcdmap.cli.v3.lease`: lease ...;
- :mod:`~etcdmap.cli.v3.cluster`: member ...; :mod:`~etcdmap.cli.v3.endpoints`: endpoint
  ...; :mod:`~etcdmap.cli.v3.maintenance`: alarm, defrag, snapshot, move-leader, version;
- :mod:`~etcdmap.cli.v3.concurrency`: lock, elect;
- :mod:`~etcdmap.cli.v3.auth`, :mod:`~etcdmap.cli.v3.users`, :mod:`~etcdmap.cli.v3.roles`:
  auth, user, role;
- :mod:`~etcdmap.cli.v3.extensions`: etcdmap's own dump, load, mkdir, serve.

:mod:`~etcdmap.cli.v3.printing` holds etcdctl's output formats, :mod:`~etcdmap.cli.v3.verbs`
what every verb shares. The verbs call :class:`etcdmap.v3.Client` directly
(:func:`etcdmap.cli.clients.v3_client`).
"""
