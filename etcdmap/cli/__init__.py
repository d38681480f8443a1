"""The ``etcdmap`` command: an etcdctl v2 work-alike, one module per command group."""

from etcdmap.cli.app import main

__all__ = ["main"]
