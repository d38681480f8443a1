"""What every ``etcdmap`` sub-command shares: exit codes, the run context, argument helpers.

The exit codes are ``etcdctl`` v2's (``etcdctl/ctlv2/command/error.go``). A command is a
function ``(ctx, args) -> int`` registered on an :mod:`argparse` sub-parser with
``set_defaults(func=...)``; it raises :class:`CommandError` (or lets a library error through,
which :func:`etcdmap.cli.main` maps to an exit code) instead of calling :func:`sys.exit`, so the
whole command runs in-process in tests.

Nothing here is shared between threads: one :class:`Context` serves one command run.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from etcdmap.errors import ClusterError, DeadlineExceeded, EtcdMapError, NoEndpointsError
from etcdmap.http.endpoints import split_endpoints, with_scheme
from etcdmap.http.transport import enable_curl_debug
from etcdmap.v2.client import Client

__all__ = [
    "EXIT_BAD_ARGS",
    "EXIT_BAD_AUTH",
    "EXIT_BAD_CONNECTION",
    "EXIT_CLUSTER_NOT_HEALTHY",
    "EXIT_SERVER_ERROR",
    "EXIT_SUCCESS",
    "CommandError",
    "CommandFunc",
    "Context",
    "Parser",
    "ask_password",
    "endpoint_list",
    "parse_duration",
    "quorum_warning",
    "split_user_password",
    "stdin_bytes",
]

EXIT_SUCCESS = 0
EXIT_BAD_ARGS = 1
EXIT_BAD_CONNECTION = 2
EXIT_BAD_AUTH = 3
EXIT_SERVER_ERROR = 4
EXIT_CLUSTER_NOT_HEALTHY = 5

DEFAULT_ENDPOINTS = "http://127.0.0.1:2379"


class CommandError(Exception):
    """A command failed in a way it explains itself: print ``message`` to stderr, exit ``code``.

    :ivar code: the process exit code.
    :ivar message: the text printed on stderr (as is, no ``Error:`` prefix).
    """

    def __init__(self, message: str, code: int = EXIT_BAD_ARGS) -> None:
        self.message = message
        self.code = code
        super().__init__(message)


CommandFunc = Callable[["Context", argparse.Namespace], int]
"""The signature of a sub-command: returns the exit code."""

class Parser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose usage errors exit 1 (``ExitBadArgs``), not 2.

    argparse's own 2 would read as "cannot reach the cluster" in etcdctl's code table.
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_ARGS, f"{self.prog}: error: {message}\n")


if TYPE_CHECKING:
    # What ``Parser.add_subparsers`` returns (generic only in typeshed, not at run time).
    Subcommands = argparse._SubParsersAction[Parser]


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(text: str) -> float:
    """Parse a Go-style duration (``"2s"``, ``"500ms"``, ``"1m30s"``) or plain seconds (``"2.5"``).

    Used as an :mod:`argparse` ``type=``, so the options read like ``etcdctl``'s.

    :param text: the option's text.
    :returns: the duration in seconds (``0`` means "no limit" to the caller).
    :raises argparse.ArgumentTypeError: the text is not a duration.
    """
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds < 0:
            raise argparse.ArgumentTypeError(f"negative duration: {text!r}")
        return seconds
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos == 0 or pos != len(text):
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r} (examples: 2s, 500ms, 1m30s, 2.5)"
        )
    return total


def endpoint_list(spec: str) -> list[str]:
    """Split ``--endpoints`` (comma-separated) and default the scheme to ``http://``, by the
    library's own rule (:mod:`etcdmap.http.endpoints`).

    :param spec: e.g. ``"127.0.0.1:2379,https://h:2379"``.
    :returns: the endpoint URLs, e.g. ``["http://127.0.0.1:2379", "https://h:2379"]``.
    :raises CommandError: no endpoint in ``spec``.
    """
    endpoints = [with_scheme(str(part)) for part in split_endpoints(spec)]
    if not endpoints:
        raise CommandError(f"Error:  no endpoint given in {spec!r}", EXIT_BAD_ARGS)
    return endpoints


def split_user_password(spec: str) -> tuple[str, str | None]:
    """Split ``--username user[:password]``.

    :param spec: the option's text.
    :returns: ``(user, password)``; ``password`` is ``None`` when there is no ``:``.
    """
    user, sep, password = spec.partition(":")
    return user, (password if sep else None)


def stdin_bytes(stdin: TextIO) -> bytes:
    """All of standard input as bytes (nothing when it is a terminal): a value given on stdin.

    :param stdin: the run's input; its binary buffer is read when it has one, so that any
        bytes reach etcd unchanged.
    :returns: the bytes read (``b""`` for a terminal or an empty input).
    """
    if stdin.isatty():
        return b""
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        data: bytes = buffer.read()
        return data
    return stdin.read().encode("utf-8", "surrogateescape")


def quorum_warning(started_voters: int, voters: int) -> str | None:
    """The warning ``member add`` prints when the cluster loses its quorum until the new
    member starts (a one-member cluster gaining a second voter needs both for a quorum).

    :param started_voters: the voting members running before the new one starts.
    :param voters: the voting members with the new one.
    :returns: the warning, or ``None`` when the started members still make a quorum.
    """
    quorum = voters // 2 + 1
    if started_voters >= quorum:
        return None
    return (
        f"warning: the cluster now has {voters} voting members and needs {quorum} for a "
        f"quorum, but only {started_voters} {'is' if started_voters == 1 else 'are'} "
        "running: it accepts no writes, not even a member remove, until the new member "
        "starts. Start it now (a learner, member add --learner on v3, keeps the quorum)."
    )


def _have_terminal() -> bool:
    """Whether the process has a controlling terminal to prompt on."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def ask_password(prompt: str, stdin: TextIO, stderr: TextIO) -> str:
    """Read a password without echoing it.

    On a terminal this is :func:`getpass.getpass`: no echo, and the terminal is used even when
    the process's stdin is a pipe (``echo value | etcdmap -u root set /k`` still prompts). With
    no terminal at all (a script, a test), one line is read from ``stdin``, not echoed either.

    :param prompt: the prompt, e.g. ``"Password: "``.
    :param stdin: where to read from when there is no terminal.
    :param stderr: where the prompt goes.
    :returns: the password, without the line end.
    :raises CommandError: end of input before a password.
    """
    if stdin.isatty() or (stdin is sys.__stdin__ and _have_terminal()):
        try:
            return getpass.getpass(prompt, stream=stderr)
        except EOFError as exc:
            raise CommandError("Error reading password: end of input") from exc
    line = stdin.readline()
    if not line:
        raise CommandError("Error reading password: end of input")
    return line.rstrip("\r\n")


@dataclass
class Context:
    """One run of the command: the global options, the streams and the (lazy) client.

    :ivar options: the parsed command line (global and command options).
    :ivar stdin: input stream (values read from stdin, passwords from a pipe).
    :ivar stdout: output stream.
    :ivar stderr: error stream (errors, prompts, progress).
    """

    options: argparse.Namespace
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _client: Client | None = field(default=None, init=False, repr=False)
    _synced: bool = field(default=False, init=False, repr=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, init=False, repr=False)
    _credentials: tuple[str | None, str | None] | None = field(
        default=None, init=False, repr=False
    )
    api: str | None = field(default=None, init=False)
    """The API this run uses, ``"v2"`` or ``"v3"``, once resolved (:mod:`etcdmap.cli.command_sets`)."""
    backend: Any = field(default=None, init=False, repr=False)
    """The run's :class:`~etcdmap.backend.Backend` once opened (``open_backend``)."""
    v3: Any = field(default=None, init=False, repr=False)
    """The run's ``etcdmap.v3.Client`` once built (``v3_client``)."""

    @property
    def output(self) -> str:
        """The ``--output`` format."""
        return str(self.options.output)

    def client(self, *, sync: bool | None = None) -> Client:
        """The client for this run, built on first use from the global options.

        Unless ``--no-sync`` (or ``sync=False``), the endpoint list is first replaced by the
        cluster's advertised client URLs, as ``etcdctl`` does.

        :param sync: override ``--no-sync`` (``cluster-health`` never syncs).
        :returns: the client; :meth:`close` closes it.
        :raises CommandError: the endpoints or the options cannot be used, or the cluster
            publishes no client URL.
        :raises etcdmap.errors.ClusterError: the sync could not reach the cluster (exit 2).
        :raises etcdmap.errors.EtcdMapError: SRV discovery failed.
        """
        if self._client is None:
            self._client = self._build_client()
        if not self._synced:
            self._synced = True
            if sync if sync is not None else not self.options.no_sync:
                self._sync(self._client)
            if self.options.debug:
                print("Cluster-Endpoints:", ", ".join(self._client.endpoints), file=self.stderr)
        return self._client

    def unsynced_client(self) -> Client:
        """The run's client without the endpoint sync (for the API probe): a later
        :meth:`client` call still syncs as the options say.

        :raises CommandError: as :meth:`client`.
        """
        if self._client is None:
            self._client = self._build_client()
        return self._client

    def credentials(self) -> tuple[str | None, str | None]:
        """``(username, password)`` from ``--username user[:password]`` and, on v3, etcdctl's
        ``--password`` (then ``--user`` is the name alone); the password is asked for once
        when neither gives it.

        :raises CommandError: end of input before a password.
        """
        if self._credentials is None:
            username: str | None = None
            password: str | None = getattr(self.options, "password", None) or None
            if self.options.username and password is not None:
                username = self.options.username
            elif self.options.username:
                username, password = split_user_password(self.options.username)
                if password is None:
                    password = ask_password("Password: ", self.stdin, self.stderr)
            self._credentials = (username, password)
        return self._credentials

    def add_closer(self, close: Callable[[], None]) -> None:
        """Have :meth:`close` call ``close`` (e.g. a v3 client's), last added first."""
        self._closers.append(close)

    def _build_client(self) -> Client:
        opts = self.options
        username, password = self.credentials()
        verify: bool | str = opts.ca_file or True
        cert: str | tuple[str, str] | None = None
        if opts.cert_file:
            cert = (opts.cert_file, opts.key_file) if opts.key_file else opts.cert_file
        if opts.debug:
            enable_curl_debug()
        options: dict[str, Any] = {
            "timeout": opts.total_timeout or None,
            "request_timeout": opts.timeout or None,
            "username": username,
            "password": password,
            "verify": verify,
            "cert": cert,
        }
        if not opts.discovery_srv:
            return Client(endpoint_list(opts.endpoints), **options)
        try:
            client = Client.from_srv(
                opts.discovery_srv, service_name=opts.discovery_srv_name, **options
            )
        except ImportError as exc:
            raise CommandError(f"Error:  {exc}", EXIT_BAD_ARGS) from exc
        if not opts.insecure_discovery:
            # As etcdctl: plain-http SRV answers are dropped unless asked for.
            secure = [ep for ep in client.endpoints if not ep.startswith("http://")]
            for ep in client.endpoints:
                if ep.startswith("http://"):
                    print(f'ignoring discovered insecure endpoint "{ep}"', file=self.stderr)
            if not secure:
                client.close()
                raise CommandError(
                    f"Error:  no secure endpoint found for {opts.discovery_srv!r} "
                    "(use --insecure-discovery to accept http:// ones)",
                    EXIT_BAD_CONNECTION,
                )
            client.set_endpoints(secure)
        return client

    def _sync(self, client: Client) -> None:
        if self.options.debug:
            print(
                f"start to sync cluster using endpoints({','.join(client.endpoints)})",
                file=self.stderr,
            )
        try:
            client.sync()
        except (ClusterError, DeadlineExceeded):
            raise  # cannot reach the cluster: main() reports it, exit 2
        except NoEndpointsError as exc:
            raise CommandError(
                "etcd cluster has no published client endpoints.\n"
                "Try '--no-sync' if you want to access non-published client endpoints"
                f"({','.join(client.endpoints)}).\nError:  {exc}",
                EXIT_SERVER_ERROR,
            ) from exc
        except EtcdMapError as exc:
            # etcdctl ignores sync failures other than connection errors, and so do we: the
            # command itself will report a real problem.
            if self.options.debug:
                print(f"sync failed, keeping the given endpoints: {exc}", file=self.stderr)
        if self.options.debug:
            print(f"got endpoints({','.join(client.endpoints)}) after sync", file=self.stderr)

    def close(self) -> None:
        """Close the client, if one was built, and whatever :meth:`add_closer` registered."""
        while self._closers:
            self._closers.pop()()
        self.backend = self.v3 = None
        if self._client is not None:
            self._client.close()
            self._client = None
