"""The global options of ``etcdmap``, for both command sets, in one table.

Each option has etcdmap's names (on both APIs) and, on the v3 set, ``etcdctl`` 3.5's names too
(``--user``, ``--cacert``, ``--cert``, ``--key``, ``--dial-timeout``, ``--command-timeout``,
``-w``/``--write-out``, ``-d``), so that a command line written for ``ETCDCTL_API=3 etcdctl``
runs unchanged. A value not given on the command line comes from etcdmap's environment variable
(``ETCDMAP_ENDPOINTS``...), on v3 then from etcdctl's (``ETCDCTL_ENDPOINTS``...), else the
default: :func:`finish` fills them in once the API is known.

Pure data and parser set-up: thread-safe.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from etcdmap.cli.common import DEFAULT_ENDPOINTS, CommandError, parse_duration

__all__ = [
    "API_ENV",
    "ENDPOINTS_ENV",
    "GLOBAL_OPTIONS",
    "USERNAME_ENV",
    "GlobalOption",
    "add_global_options",
    "finish",
    "first_word",
    "global_flags",
]

ENDPOINTS_ENV = "ETCDMAP_ENDPOINTS"
USERNAME_ENV = "ETCDMAP_USERNAME"
API_ENV = "ETCDMAP_API"


@dataclass(frozen=True)
class GlobalOption:
    """One global option.

    :ivar dest: the attribute of the parsed options.
    :ivar flags: etcdmap's spellings (both sets).
    :ivar v3_flags: etcdctl 3.5's spellings (the v3 set only).
    :ivar help: the help text.
    :ivar metavar: the value's name; ``None`` for an on/off flag.
    :ivar convert: turns the text (command line or environment) into the value.
    :ivar default: the value when nothing gives one.
    :ivar env: etcdmap's environment variable.
    :ivar etcdctl_env: etcdctl's environment variable (read on v3 only).
    :ivar v2: the option exists in the v2 set.
    """

    dest: str
    flags: tuple[str, ...]
    v3_flags: tuple[str, ...] = ()
    help: str = ""
    metavar: str | None = None
    convert: Callable[[str], Any] = str
    default: Any = None
    env: str | None = None
    etcdctl_env: str | None = None
    v2: bool = True

    def names(self, api: str | None) -> tuple[str, ...]:
        """The spellings on ``api`` (``None``: every spelling of both sets)."""
        if api == "v2":
            return self.flags if self.v2 else ()
        return self.flags + self.v3_flags


GLOBAL_OPTIONS = (
    GlobalOption("endpoints", ("--endpoints",), help="comma-separated etcd client URLs "
                 f"(env {ENDPOINTS_ENV}; default: {DEFAULT_ENDPOINTS})", metavar="URLS",
                 default=DEFAULT_ENDPOINTS, env=ENDPOINTS_ENV, etcdctl_env="ETCDCTL_ENDPOINTS"),
    GlobalOption("username", ("-u", "--username"), ("--user",), metavar="USER[:PASSWORD]",
                 help=f"user[:password]; the password is prompted for when omitted "
                 f"(env {USERNAME_ENV})", env=USERNAME_ENV, etcdctl_env="ETCDCTL_USER"),
    GlobalOption("password", (), ("--password",), metavar="PASSWORD", v2=False,
                 help="the password (then --user is the name alone)",
                 etcdctl_env="ETCDCTL_PASSWORD"),
    GlobalOption("ca_file", ("--ca-file",), ("--cacert",), metavar="FILE",
                 help="verify HTTPS servers with this CA bundle", etcdctl_env="ETCDCTL_CACERT"),
    GlobalOption("cert_file", ("--cert-file",), ("--cert",), metavar="FILE",
                 help="client TLS certificate file", etcdctl_env="ETCDCTL_CERT"),
    GlobalOption("key_file", ("--key-file",), ("--key",), metavar="FILE",
                 help="client TLS key file", etcdctl_env="ETCDCTL_KEY"),
    GlobalOption("timeout", ("--timeout",), ("--dial-timeout",), metavar="DURATION",
                 convert=parse_duration, default=2.0, etcdctl_env="ETCDCTL_DIAL_TIMEOUT",
                 help="timeout of one request to one endpoint, e.g. 2s, 500ms (default: 2s)"),
    GlobalOption("total_timeout", ("--total-timeout",), ("--command-timeout",),
                 metavar="DURATION", convert=parse_duration, default=5.0,
                 etcdctl_env="ETCDCTL_COMMAND_TIMEOUT",
                 help="timeout of each call across endpoints, except watches (default: 5s; "
                 "0: none)"),
    GlobalOption("output", ("-o", "--output"), ("-w", "--write-out"), metavar="FORMAT",
                 default="simple", etcdctl_env="ETCDCTL_WRITE_OUT",
                 help="output format: v2 simple|extended|json, v3 simple|json|fields|table "
                 "(default: simple)"),
    GlobalOption("debug", ("--debug",), default=False,
                 help="print a cURL command for every request (on stderr)"),
    GlobalOption("discovery_srv", ("-D", "--discovery-srv"), ("-d",), metavar="DOMAIN",
                 help="find the endpoints in this domain's SRV records"),
    GlobalOption("discovery_srv_name", ("--discovery-srv-name",), metavar="NAME", default="",
                 help="service name for SRV discovery"),
    GlobalOption("insecure_discovery", ("--insecure-discovery",), default=False,
                 help="accept http:// endpoints found by SRV discovery"),
    GlobalOption("no_sync", ("--no-sync",), default=False,
                 help="v2: do not replace the endpoints by the cluster's advertised client URLs "
                 "first (v3 never does)"),
)
"""Every global option but ``--api`` (which chooses the set, so it goes before the command)."""


def _argparse_type(option: GlobalOption) -> Callable[[str], Any]:
    convert = option.convert

    def parse(text: str) -> Any:
        try:
            return convert(text)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    parse.__name__ = option.dest  # argparse names the type in its error
    return parse


def add_global_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, api: str | None, *,
    suppress: bool = False,
    output_choices: tuple[str, ...] | None = None,
) -> None:
    """Add the global options of ``api``'s set to a parser.

    :param api: ``"v2"``, ``"v3"``, or ``None`` for every spelling of both (the first pass).
    :param suppress: leave an option out of the result unless given (a verb's parser, whose
        values override those given before the command).
    :param output_choices: what ``-o`` accepts (``None``: anything; the verb checks it).
    """
    for option in GLOBAL_OPTIONS:
        names = option.names(api)
        if not names:
            continue
        keywords: dict[str, Any] = {"dest": option.dest, "help": option.help,
                                    "default": argparse.SUPPRESS if suppress else None}
        if option.metavar is None:
            keywords["action"] = "store_true"
        else:
            keywords.update(metavar=option.metavar, type=_argparse_type(option))
            if option.dest == "output" and output_choices:
                keywords["choices"] = output_choices
                del keywords["metavar"]
        parser.add_argument(*names, **keywords)


def global_flags(api: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """The spellings of the global options of ``api``'s set.

    :returns: ``(all flags, the flags that take a value)``, ``--api`` included.
    """
    every = {"--api"}
    valued = {"--api"}
    for option in GLOBAL_OPTIONS:
        every.update(option.names(api))
        if option.metavar is not None:
            valued.update(option.names(api))
    return frozenset(every), frozenset(valued)


def first_word(tokens: Sequence[str], valued: frozenset[str]) -> int | None:
    """The index of the first token that is neither an option nor an option's value.

    :param tokens: command-line words.
    :param valued: the options that take a value (``--endpoints URL``).
    :returns: the index, or ``None`` when every token is an option.
    """
    skip = False
    for i, token in enumerate(tokens):
        if skip:
            skip = False
        elif token == "--":
            return i + 1 if i + 1 < len(tokens) else None
        elif token.startswith("-") and token != "-":
            skip = "=" not in token and token in valued
        else:
            return i
    return None


def finish(options: argparse.Namespace, api: str | None) -> None:
    """Fill in every global option the command line did not give, from etcdmap's environment
    variable, on v3 then etcdctl's, else the default.

    :param options: the parsed options (changed in place).
    :param api: the set the run uses (``None``: a run that talks to no server).
    :raises CommandError: an environment variable holds a value the option refuses (exit 1).
    """
    for option in GLOBAL_OPTIONS:
        if getattr(options, option.dest, None) is not None:
            continue
        value = option.default
        for var in (option.env, option.etcdctl_env if api == "v3" else None):
            text = os.environ.get(var) if var else None
            if text:
                try:
                    value = option.convert(text) if option.metavar else text.lower() == "true"
                except (ValueError, argparse.ArgumentTypeError) as exc:
                    raise CommandError(f"Error:  ${var}: {exc}") from exc
                break
        setattr(options, option.dest, value)
