"""Telling the user, on stderr, which inputs the analysis could not read."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_agent.analysis import Project


def warn_unread(project: Project) -> None:
    """One line per note: a config file that does not parse (file:line), binary files skipped."""
    for note in project.notes:
        print(f"backend-agent: not read: {note}", file=sys.stderr)
