"""Database impact: migrations of every supported tool, normalised to operations and checked.

Public API (used by ``backend-agent report``):

- ``analyze_migrations(project, paths=None) -> list[Migration]``
- ``orm_auto_sync(project) -> list[Finding]``
- ``rollback_steps(migration) -> list[str]``: how to roll one migration back
- ``reverse_sql(migration) -> Reversal``: the SQL that undoes it, where it can be derived
- ``Migration.as_dict()`` / ``Operation.as_dict()``: the JSON shape (docs/database.md).
"""

from backend_agent.analysis.database.autosync import orm_auto_sync
from backend_agent.analysis.database.migrations import analyze_migrations, classify
from backend_agent.analysis.database.model import Migration, Operation
from backend_agent.analysis.database.reverse import Reversal, reverse_sql
from backend_agent.analysis.database.rollback import down_command, rollback_steps
from backend_agent.analysis.database.rules import RULES

__all__ = [
    "RULES",
    "Migration",
    "Operation",
    "Reversal",
    "analyze_migrations",
    "classify",
    "down_command",
    "orm_auto_sync",
    "reverse_sql",
    "rollback_steps",
]
