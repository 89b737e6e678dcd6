"""Database impact: migrations of every supported tool, normalised to operations and checked.

Public API (used by ``backend-agent report``):

- ``analyze_migrations(project, paths=None) -> list[Migration]``
- ``orm_auto_sync(project) -> list[Finding]``
- ``rollback_steps(migration) -> list[str]``: how to roll one migration back
- ``reverse_sql(migration) -> Reversal``: the SQL that undoes it, where it can be derived
- ``Migration.as_dict()`` / ``Operation.as_dict()``: the JSON shape (docs/database.md).
- ``inspect_url(url, schema, limit, progress) -> SqlSchema | RedisSummary``: a live
  database, read-only (loaded on first use: it needs SQLAlchemy and the drivers).
"""

from typing import TYPE_CHECKING, Any

from backend_agent.analysis.database.autosync import orm_auto_sync
from backend_agent.analysis.database.migrations import analyze_migrations, classify
from backend_agent.analysis.database.model import Migration, Operation
from backend_agent.analysis.database.reverse import Reversal, reverse_sql
from backend_agent.analysis.database.rollback import down_command, rollback_steps
from backend_agent.analysis.database.rules import RULES

if TYPE_CHECKING:
    from backend_agent.analysis.database.live import RedisSummary, SqlSchema, inspect_url

__all__ = [
    "RULES",
    "Migration",
    "Operation",
    "RedisSummary",
    "Reversal",
    "SqlSchema",
    "analyze_migrations",
    "classify",
    "down_command",
    "inspect_url",
    "orm_auto_sync",
    "reverse_sql",
    "rollback_steps",
]


def __getattr__(name: str) -> Any:
    if name in ("inspect_url", "RedisSummary", "SqlSchema"):
        from backend_agent.analysis.database import live

        return getattr(live, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
