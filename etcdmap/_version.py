"""The package version (one place: setup.cfg reads it, the User-Agent and --version show it)."""

__version__ = "0.2.0"
