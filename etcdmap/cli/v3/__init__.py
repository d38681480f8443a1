"""The v3 command set of ``etcdmap``: a work-alike of ``ETCDCTL_API=3 etcdctl`` 3.5.

:mod:`~etcdmap.cli.v3.dispatch` finds and parses a verb; one module per group of verbs holds
their bodies and their output: :mod:`~etcdmap.cli.v3.kv` (get, put, del, compaction),
:mod:`~etcdmap.cli.v3.extensions` (etcdmap's dump, load, mkdir, serve);
:mod:`~etcdmap.cli.v3.printing` holds etcdctl's output formats and :mod:`~etcdmap.cli.v3.verbs`
what every verb shares.
"""
