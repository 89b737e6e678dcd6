"""Exceptions that the CLI turns into one clear line for the user, and the warning sink."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class UserError(Exception):
    """Bad input or configuration: the message says what failed and what to do."""


def warn_to_stderr(message: str) -> None:
    """Report something the user should know but that does not stop the run: one stderr line."""
    print(f"backend-agent: warning: {message}", file=sys.stderr)


def first_problem(error: ValidationError, section: str = "") -> str:
    """The first problem pydantic found in a configuration ``section``, as ``where: what`` in
    the file's own terms (``sandbox: expected an object``, not pydantic's model class names)."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in (section, *first["loc"]) if part != "")
    what = "expected an object" if first["type"] == "model_type" else first["msg"]
    return f"{where}: {what}" if where else what
