"""The v2 command set of ``etcdmap``: a work-alike of ``ETCDCTL_API=2 etcdctl``.

:mod:`~etcdmap.cli.v2.keys` (get, set, mk, setdir, update, updatedir, rm, rmdir, ls, watch,
exec-watch; ``mkdir`` is :mod:`etcdmap.cli.mkdir`, on both sets), :mod:`~etcdmap.cli.v2.members`
(member, cluster-health), :mod:`~etcdmap.cli.v2.auth` (user, role, auth) and
:mod:`~etcdmap.cli.v2.printing` (etcdctl v2's output formats). The set's parser is
:func:`etcdmap.cli.command_sets.build_parser`.
"""
