"""Exceptions that the CLI turns into one clear line for the user, and the warning sink."""

import sys


class UserError(Exception):
    """Bad input or configuration: the message says what failed and what to do."""


def warn_to_stderr(message: str) -> None:
    """Report something the user should know but that does not stop the run: one stderr line."""
    print(f"backend-agent: warning: {message}", file=sys.stderr)
