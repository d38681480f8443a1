"""etcdmap's own verbs in the v3 set, beyond etcdctl: ``dump``, ``load``, ``mkdir`` and
``serve``, the same bodies as in the v2 set (on the Backend protocol, or talking to no server).
Under ``--api auto``, ``dump`` of a path empty on v3 says when the v2 store has keys there.
"""

from __future__ import annotations

from etcdmap.cli import dump, mkdir, serve
from etcdmap.cli.clients import hint_v2_keys
from etcdmap.cli.v3.verbs import ALL_FORMATS, Verb

__all__ = ["VERBS"]

VERBS = (
    Verb(("dump",), "dump [--ttl] PATH", dump.DUMP_HELP, hint_v2_keys(dump.cmd_dump),
         dump.dump_arguments, ALL_FORMATS, own_positionals=True),
    Verb(("load",), "load [--dry-run] [--force] FILE PATH", dump.LOAD_HELP, dump.cmd_load,
         dump.load_arguments, ALL_FORMATS, own_positionals=True),
    Verb(("mkdir",), "mkdir [--ttl N] KEY", f"{mkdir.MKDIR_HELP}: the marker key EtcdMap uses",
         mkdir.cmd_mkdir, mkdir.mkdir_arguments, ALL_FORMATS, own_positionals=True),
    Verb(("serve",), "serve [--data-dir DIR] [--port N] [--name NAME]", serve.SERVE_HELP,
         serve.cmd_serve, serve.serve_arguments, ALL_FORMATS, own_positionals=True),
)
"""etcdmap's verbs in the v3 set."""
