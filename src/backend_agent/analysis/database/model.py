"""What every migration format is normalised to: operations, migrations and their findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from backend_agent.analysis.findings import Finding

OperationKind = Literal[
    "create-table",
    "drop-table",
    "rename-table",
    "add-column",
    "drop-column",
    "rename-column",
    "alter-column",
    "add-index",
    "drop-index",
    "add-constraint",
    "drop-constraint",
    "validate-constraint",
    "raw-sql",  # SQL we could not (or did not) turn into schema operations
    "run-code",  # application code run by the migration (Django RunPython)
]
ConstraintKind = Literal["foreign-key", "unique", "check", "primary-key"]
Dialect = Literal["postgres", "mysql", "sqlite"]
Tool = Literal[
    "alembic",
    "django",
    "prisma",
    "knex",
    "typeorm",
    "sequelize",
    "golang-migrate",
    "goose",
    "rails",
    "sql",
]


@dataclass(frozen=True)
class Operation:
    """One schema change, whatever wrote it.

    Renames keep the old name in ``table``/``column`` and the new one in ``new_name``.
    ``nullable=False`` on add-column/alter-column means NOT NULL is being required.
    """

    kind: OperationKind
    line: int
    table: str | None = None
    column: str | None = None
    name: str | None = None  # index or constraint name
    new_name: str | None = None
    type: str | None = None  # column type, as written (alter-column: the new type)
    nullable: bool | None = None
    has_default: bool = False
    unique: bool = False
    concurrent: bool = False
    constraint: ConstraintKind | None = None
    not_valid: bool = False
    using_index: str | None = None  # ADD CONSTRAINT ... USING INDEX: no new index is built
    reversible: bool = True  # False: the tool cannot undo this step automatically
    sql: str | None = None  # for raw-sql: the statement (shortened)
    note: str | None = None  # why it is raw/opaque, or what code it runs

    def as_dict(self) -> dict[str, Any]:
        """The fields that differ from their defaults (kind and line always)."""
        defaults = {f.name: f.default for f in fields(self)}
        return {k: v for k, v in asdict(self).items() if k in ("kind", "line") or v != defaults[k]}


@dataclass
class Migration:
    """One migration file (or directory, for Prisma) and what its up step does."""

    tool: Tool
    file: str
    name: str  # version and/or name, e.g. "0002_add_email" or "20240101120000"
    dialect: Dialect
    operations: list[Operation] = field(default_factory=list)  # the up step
    down_operations: list[Operation] = field(default_factory=list)
    has_down: bool = False
    irreversible_line: int | None = None  # where the down step refuses to run, if it does
    findings: list[Finding] = field(default_factory=list)
    # The version to roll back to: the one before this in its sequence (Alembic: its
    # down_revision; "base"/"zero"/"0" before the first); None when unknown.
    previous: str | None = None
    dialect_evidence: str = ""  # where the dialect comes from, e.g. "Gemfile: pg"

    @property
    def version(self) -> str:
        """The version the tool knows this migration by (its leading number, or name)."""
        head = self.name.split("_", 1)[0].split("-", 1)[0]
        return head if head.isdigit() else self.name

    @property
    def reversible(self) -> bool:
        """Whether its down step can run (it exists, refuses nothing, and every step can be
        undone)."""
        irreversible = self.irreversible_line is not None or any(
            not op.reversible for op in self.operations
        )
        return self.has_down and not irreversible

    @property
    def created_tables(self) -> set[str]:
        return {op.table for op in self.operations if op.kind == "create-table" and op.table}

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "file": self.file,
            "name": self.name,
            "dialect": self.dialect,
            "dialect_evidence": self.dialect_evidence,
            "has_down": self.has_down,
            "previous": self.previous,
            "operations": [op.as_dict() for op in self.operations],
            "down_operations": [op.as_dict() for op in self.down_operations],
            "findings": [f.as_dict() for f in self.findings],
        }
