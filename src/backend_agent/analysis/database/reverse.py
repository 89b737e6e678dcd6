"""The SQL that undoes a migration, where its operations say enough to write it.

For tools with no down step (Prisma, plain SQL) the way back is a new migration; this writes
what it can of it. Creating, adding and renaming can be undone from the migration alone;
dropping and changing types cannot (the old definition and the data are gone), so those are
listed as what a backup has to restore.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend_agent.analysis.database.model import Dialect, Migration, Operation


@dataclass
class Reversal:
    """The statements that undo a migration, last operation first, and what they cannot."""

    statements: list[str] = field(default_factory=list)
    not_derivable: list[str] = field(default_factory=list)  # e.g. "drop-column users.name"


def reverse_sql(migration: Migration) -> Reversal:
    """Reverse statements for ``migration`` in its dialect (see the module docstring)."""
    reversal = Reversal()
    created = migration.created_tables
    for op in reversed(migration.operations):
        if op.kind != "create-table" and op.table in created:
            continue  # dropping the new table undoes this too
        statement = _reverse(op, migration.dialect)
        if statement is not None:
            reversal.statements.append(statement)
        elif op.kind not in _NOTHING_TO_UNDO:
            reversal.not_derivable.append(_label(op))
    reversal.not_derivable.reverse()
    return reversal


_NOTHING_TO_UNDO = frozenset({"validate-constraint"})


def _reverse(op: Operation, dialect: Dialect) -> str | None:
    def q(name: str) -> str:
        """A quoted identifier ("Name" keeps its case, as Prisma writes it)."""
        mark = "`" if dialect == "mysql" else '"'
        return mark + name.replace(mark, mark * 2) + mark

    table = q(op.table) if op.table else None
    if op.kind == "create-table" and table:
        return f"DROP TABLE {table};"
    if op.kind == "add-column" and table and op.column:
        return f"ALTER TABLE {table} DROP COLUMN {q(op.column)};"
    if op.kind == "rename-table" and table and op.new_name:
        return f"ALTER TABLE {q(op.new_name)} RENAME TO {table};"
    if op.kind == "rename-column" and table and op.column and op.new_name:
        return f"ALTER TABLE {table} RENAME COLUMN {q(op.new_name)} TO {q(op.column)};"
    if op.kind == "add-index" and op.name:
        if dialect == "mysql":
            return f"DROP INDEX {q(op.name)} ON {table};" if table else None
        return f"DROP INDEX {q(op.name)};"
    if op.kind == "add-constraint" and table and op.name:
        if dialect == "mysql" and op.constraint == "foreign-key":
            return f"ALTER TABLE {table} DROP FOREIGN KEY {q(op.name)};"
        if dialect == "mysql" and op.constraint == "unique":
            return f"ALTER TABLE {table} DROP INDEX {q(op.name)};"
        return None if dialect == "sqlite" else f"ALTER TABLE {table} DROP CONSTRAINT {q(op.name)};"
    set_not_null = op.kind == "alter-column" and op.type is None and op.nullable is False
    if set_not_null and table and op.column and dialect == "postgres":
        return f"ALTER TABLE {table} ALTER COLUMN {q(op.column)} DROP NOT NULL;"
    return None


def _label(op: Operation) -> str:
    target = ".".join(p for p in (op.table, op.column) if p) or op.name or ""
    return f"{op.kind} {target} (line {op.line})".replace("  ", " ")
