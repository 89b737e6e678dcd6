"""What the commands' argument parsers share: one-line usage errors, ``--debug``, and
argument types whose message argparse shows on a bad value."""

from __future__ import annotations

import argparse
from typing import NoReturn


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: what is wrong and where the help is
    (argparse's own prints the whole usage block first, which buries the message)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_debug(parser: argparse.ArgumentParser) -> None:
    """``--debug``: the full error (a traceback) instead of one line, when a command fails."""
    parser.add_argument(
        "--debug", action="store_true", help="on failure, print the full error (traceback)"
    )


def positive_int(text: str) -> int:
    """A whole number ≥ 1 (turn limits, key counts)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A number > 0 (budgets, timeouts); nan is refused, as nothing would ever reach it."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value
