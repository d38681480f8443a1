"""The ``etcdmap`` command: etcdctl's work-alike for etcd's v2 and v3 APIs.

- :mod:`~etcdmap.cli.app`: the entry point (``main``), ``--help``, error reporting;
- :mod:`~etcdmap.cli.command_sets`: the two command sets and which one a run uses;
  :mod:`~etcdmap.cli.hints`: a verb of the other set names the one to use;
- :mod:`~etcdmap.cli.options`: the global options of both sets;
  :mod:`~etcdmap.cli.clients`: the API choice, the clients and the store of a run;
  :mod:`~etcdmap.cli.common`: the run context, exit codes, shared helpers;
- :mod:`etcdmap.cli.v2`: etcdctl v2's commands; :mod:`etcdmap.cli.v3`: etcdctl 3.5's;
- on both sets: :mod:`~etcdmap.cli.dump` and :mod:`~etcdmap.cli.dumpfile` (dump, load),
  :mod:`~etcdmap.cli.mkdir`, :mod:`~etcdmap.cli.serve`.
"""

from etcdmap.cli.app import main

__all__ = ["main"]
