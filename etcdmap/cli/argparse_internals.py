"""The only places where the command line reads argparse's internals.

argparse has no public way to list a parser's actions or its subcommands with their help
(``parser._actions``, ``_SubParsersAction._choices_actions``), nor public names for the
actions of ``store_true``/``store_false``. Each function below does one such thing, says
which internals it relies on, and is pinned by ``tests/unit/test_argparse_internals.py``,
which fails as soon as a Python release changes them.

Thread-safety: pure functions (they read a parser).
"""

from __future__ import annotations

import argparse

__all__ = ["bool_options", "subcommand_helps"]


def subcommand_helps(parser: argparse.ArgumentParser) -> list[tuple[str, str | None]]:
    """``(name, help)`` of each subcommand of ``parser``, in the order they were added (the
    first subparsers group; aliases left out).

    Relies on: ``parser._actions`` listing every action, ``argparse._SubParsersAction``
    being the action of ``add_subparsers()``, and its ``_choices_actions`` holding one
    pseudo-action per ``add_parser(name, help=...)`` (``dest``: the name, ``help``).

    :raises ValueError: ``parser`` has no subcommands.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return [(choice.dest, choice.help) for choice in action._choices_actions]
    raise ValueError(f"{parser.prog} has no subcommands")


def bool_options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Each option string of ``parser``'s ``store_true``/``store_false`` options, with its
    action.

    Relies on: ``parser._actions`` listing every action (groups' too), and
    ``argparse._StoreTrueAction``/``_StoreFalseAction`` being their classes.
    """
    kinds = (argparse._StoreTrueAction, argparse._StoreFalseAction)
    return {flag: action for action in parser._actions if isinstance(action, kinds)
            for flag in action.option_strings}
