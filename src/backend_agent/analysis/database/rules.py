"""The migration rules: operations in, findings (with a safe rollback) out.

Rule ids are stable; reports and suppressions refer to them. Tables created by the same
migration are empty, so the rules about locking or filling existing rows skip them. Rules and
messages follow the migration's dialect: PostgreSQL's lock rules are not MySQL's, and a
PostgreSQL project gets no MySQL notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from backend_agent.analysis.database.model import Migration, Operation
from backend_agent.analysis.database.rollback import dump_command
from backend_agent.analysis.findings import Finding, Severity

# Tools whose migrations have a down step by convention (Prisma and raw SQL files do not:
# they roll back with a new migration, see rollback.py).
TOOLS_WITH_DOWN = frozenset(
    {"alembic", "knex", "typeorm", "sequelize", "golang-migrate", "goose", "rails"}
)

RULES: dict[str, Severity] = {
    "drop-table": Severity.HIGH,
    "drop-column": Severity.HIGH,
    "rename-table": Severity.HIGH,
    "rename-column": Severity.HIGH,
    "change-column-type": Severity.HIGH,
    "add-not-null-column": Severity.HIGH,
    "set-not-null": Severity.MEDIUM,
    "add-index-non-concurrent": Severity.MEDIUM,
    "drop-index-non-concurrent": Severity.MEDIUM,
    "add-unique-constraint": Severity.MEDIUM,
    "add-foreign-key-validating": Severity.MEDIUM,
    "missing-down-migration": Severity.MEDIUM,
    "irreversible-migration": Severity.HIGH,
    "raw-sql": Severity.LOW,
    "orm-auto-sync": Severity.HIGH,
}


def check(migration: Migration) -> list[Finding]:
    """Every rule that fires on a migration, in file order."""
    findings = [
        finding
        for op in migration.operations
        for rule in OPERATION_RULES
        if (finding := rule(migration, op)) is not None
    ]
    findings.extend(_whole_migration(migration))
    return sorted(findings, key=lambda f: (f.line, f.rule))


def _finding(migration: Migration, rule: str, line: int, message: str, fix: str) -> Finding:
    return Finding(rule, RULES[rule], message, migration.file, line, fix)


def _existing(migration: Migration, op: Operation) -> bool:
    """True when the operation touches a table that existed before this migration."""
    return op.table is None or op.table not in migration.created_tables


def _postgres(migration: Migration) -> bool:
    return migration.dialect == "postgres"


def _drop_table(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "drop-table" or not _existing(m, op):
        return None
    if not op.reversible:  # Rails: drop_table without a block has no definition to restore
        recreate = (
            "Rails cannot reverse a drop_table without a block: give it the table's definition "
            "as a block so that the down step can at least recreate the table, empty. "
        )
    else:
        recreate = "A down migration can recreate the table but not its rows. "
    return _finding(
        m,
        "drop-table",
        op.line,
        f"drops table {op.table} and every row in it",
        f"Back up the table before deploying ({dump_command(m.dialect, [op.table or '<table>'])}). "
        f"{recreate}Rolling back means restoring the rows from that backup. Safer: stop "
        "reading and writing the table in one release and drop it in a later one.",
    )


def _drop_column(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "drop-column" or not _existing(m, op):
        return None
    return _finding(
        m,
        "drop-column",
        op.line,
        f"drops column {op.table}.{op.column} and its data; running code that still reads it "
        "will fail",
        f"Deploy code that no longer uses {op.column} first, and copy the column out "
        f"(CREATE TABLE {op.table}_{op.column}_backup AS SELECT <primary key>, {op.column} "
        f"FROM {op.table}). Roll back by re-adding the column and restoring its values from "
        "that copy; the down migration alone brings back an empty column.",
    )


def _rename_table(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "rename-table":
        return None
    return _finding(
        m,
        "rename-table",
        op.line,
        f"renames table {op.table} to {op.new_name}: application instances still running the "
        "old code fail until they are replaced",
        f"Roll back with {_rename_back(m, op)} (instant, no data "
        f"loss). To avoid the outage: create a view named {op.table} over the new table while "
        "both versions run, or copy to a new table and switch reads and writes in steps.",
    )


def _rename_back(m: Migration, op: Operation) -> str:
    if m.dialect == "mysql":
        return f"RENAME TABLE {op.new_name} TO {op.table}"
    return f"ALTER TABLE {op.new_name} RENAME TO {op.table}"


def _rename_column(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "rename-column":
        return None
    return _finding(
        m,
        "rename-column",
        op.line,
        f"renames column {op.table}.{op.column} to {op.new_name}: running code that uses the "
        "old name fails until it is replaced",
        f"Roll back with ALTER TABLE {op.table} RENAME COLUMN {op.new_name} TO {op.column} "
        "(instant). To avoid the outage: add the new column, write both, backfill, switch "
        "reads, then drop the old column in a later release.",
    )


def _change_column_type(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "alter-column" or op.type is None or not _existing(m, op):
        return None
    how = {
        "postgres": "PostgreSQL may rewrite the table under an ACCESS EXCLUSIVE lock",
        "mysql": "MySQL copies the table, blocking writes until it is done",
        "sqlite": "SQLite needs the table rebuilt",
    }[m.dialect]
    return _finding(
        m,
        "change-column-type",
        op.line,
        f"changes the type of {op.table}.{op.column} to {op.type}: {how}, and values may be "
        "converted or rejected",
        "Add a column of the new type, backfill it in batches, switch the code, then drop the "
        "old column. Rolling back by changing the type back only works if every value still "
        "fits the old type: keep a copy of the column until the change has settled.",
    )


def _add_not_null_column(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "add-column" or op.nullable is not False or op.has_default:
        return None
    if not _existing(m, op):
        return None
    effect = {
        "postgres": "fails on a table that has rows",
        "mysql": "MySQL fills existing rows with the type's implicit default (0, '' or a zero "
        "date) instead of failing, which hides the missing values",
        "sqlite": "SQLite refuses to add a NOT NULL column without a default",
    }[m.dialect]
    return _finding(
        m,
        "add-not-null-column",
        op.line,
        f"adds NOT NULL column {op.table}.{op.column} with no default: {effect}",
        "Add the column as nullable (or with a default), backfill it, then add NOT NULL in a "
        f"later migration. Roll back by dropping {op.column}; no existing data is affected.",
    )


def _set_not_null(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "alter-column" or op.nullable is not False or not _existing(m, op):
        return None
    if _validated_before(m, op):
        return None  # the safe pattern: a CHECK (col IS NOT NULL) validated first, no scan
    if m.dialect == "mysql":
        effect = "MySQL rebuilds the table, blocking writes"
        fix = (
            "On a large table use an online schema change tool (gh-ost, pt-online-schema-change)"
            ", after backfilling the NULLs. Roll back with ALTER TABLE "
            f"{op.table} MODIFY {op.column} <type> NULL."
        )
    else:
        effect = "the whole table is scanned under a lock that blocks reads and writes"
        fix = (
            f"On PostgreSQL 12+: ADD CONSTRAINT {op.column}_not_null CHECK ({op.column} IS NOT "
            "NULL) NOT VALID, then VALIDATE CONSTRAINT, then SET NOT NULL (no scan). Roll back "
            f"with ALTER TABLE {op.table} ALTER COLUMN {op.column} DROP NOT NULL (instant)."
        )
    return _finding(
        m,
        "set-not-null",
        op.line,
        f"makes {op.table}.{op.column} NOT NULL: {effect}, and the migration fails if any row "
        "is NULL",
        fix,
    )


def _validated_before(m: Migration, op: Operation) -> bool:
    """A constraint on the same table was validated earlier in this migration (as squawk)."""
    return any(
        other.kind == "validate-constraint" and other.table == op.table and other.line < op.line
        for other in m.operations
    )


def _add_index_non_concurrent(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "add-index" or op.concurrent or not _postgres(m) or not _existing(m, op):
        return None
    name = op.name or "<index>"
    return _finding(
        m,
        "add-index-non-concurrent",
        op.line,
        f"creates {_named('index', op)} without CONCURRENTLY: writes to the table are blocked "
        "while it builds",
        "Use CREATE INDEX CONCURRENTLY outside a transaction (Alembic: postgresql_concurrently"
        "=True in an autocommit_block; Django: AddIndexConcurrently with atomic = False; Rails:"
        " algorithm: :concurrently with disable_ddl_transaction!; Knex/TypeORM: raw SQL in a "
        f"migration without a transaction). Roll back with DROP INDEX CONCURRENTLY {name}.",
    )


def _drop_index_non_concurrent(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "drop-index" or op.concurrent or not _postgres(m) or not _existing(m, op):
        return None
    name = op.name or "<index>"
    return _finding(
        m,
        "drop-index-non-concurrent",
        op.line,
        f"drops {_named('index', op)} without CONCURRENTLY: the table is locked against reads and "
        "writes until the drop finishes",
        f"Use DROP INDEX CONCURRENTLY {name} outside a transaction. Roll back by recreating "
        "the index with CREATE INDEX CONCURRENTLY; queries that needed it are slow until "
        "it is built.",
    )


def _add_unique_constraint(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "add-constraint" or op.constraint != "unique" or op.using_index:
        return None
    if not _existing(m, op):
        return None
    name = op.name or "<constraint>"
    locks = "" if m.dialect == "mysql" else "its index is built while writes are blocked, and "
    return _finding(
        m,
        "add-unique-constraint",
        op.line,
        f"adds {_named('unique constraint', op)}: {locks}the migration fails if duplicates exist",
        _unique_fix(m, op, name),
    )


def _unique_fix(m: Migration, op: Operation, name: str) -> str:
    if m.dialect == "mysql":
        return (
            "Find and resolve duplicates first, and add the index with ALGORITHM=INPLACE, "
            f"LOCK=NONE. Roll back with ALTER TABLE {op.table} DROP INDEX {name}."
        )
    return (
        "Find and resolve duplicates first; build the index with CREATE UNIQUE INDEX "
        f"CONCURRENTLY, then ALTER TABLE {op.table} ADD CONSTRAINT {name} UNIQUE USING INDEX "
        f"<index>. Roll back with ALTER TABLE {op.table} DROP CONSTRAINT {name}."
    )


def _add_foreign_key_validating(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "add-constraint" or op.constraint != "foreign-key" or op.not_valid:
        return None
    if not _postgres(m) or not _existing(m, op):
        return None
    name = op.name or "<constraint>"
    return _finding(
        m,
        "add-foreign-key-validating",
        op.line,
        f"adds {_named('foreign key', op)} and validates it at once: both tables are "
        "scanned while writes to them are blocked",
        "Add the constraint with NOT VALID (Rails: validate: false; Alembic: "
        "postgresql_not_valid=True), then VALIDATE CONSTRAINT in a separate migration. Roll "
        f"back with ALTER TABLE {op.table} DROP CONSTRAINT {name}.",
    )


RAW_SQL_NOTES = {
    "not parsed": "runs SQL that was not analysed",
    "SQL built at run time": "runs SQL built at run time, which was not analysed",
    "execute in change": "runs SQL inside change, which Rails cannot reverse",
}


def _raw_sql(m: Migration, op: Operation) -> Finding | None:
    if op.kind != "raw-sql":
        return None
    what = RAW_SQL_NOTES.get(op.note or "", op.note or "runs SQL that was not analysed")
    return _finding(
        m,
        "raw-sql",
        op.line,
        f"{what}: {op.sql}" if op.sql else what,
        "Review locks and data effects by hand, run it against a copy of production data "
        "first, and give it a matching reverse statement in the down step (for data changes: "
        "keep a copy of the affected rows to restore from).",
    )


OPERATION_RULES: list[Callable[[Migration, Operation], Finding | None]] = [
    _drop_table,
    _drop_column,
    _rename_table,
    _rename_column,
    _change_column_type,
    _add_not_null_column,
    _set_not_null,
    _add_index_non_concurrent,
    _drop_index_non_concurrent,
    _add_unique_constraint,
    _add_foreign_key_validating,
    _raw_sql,
]


def _whole_migration(m: Migration) -> Iterator[Finding]:
    first_line = m.operations[0].line if m.operations else 1
    irreversible = [op for op in m.operations if not op.reversible]
    if m.irreversible_line is not None or irreversible:
        line = m.irreversible_line or irreversible[0].line
        reason = (
            "its down step refuses to run"
            if m.irreversible_line is not None
            else f"{_describe(irreversible[0])} cannot be reversed automatically"
        )
        yield _finding(
            m,
            "irreversible-migration",
            line,
            f"migration {m.name} cannot be rolled back: {reason}",
            "Take a backup (or snapshot) right before deploying: it is the only way back. "
            "Where possible make the step reversible instead (Rails: give remove_column its "
            "type, use up/down or reversible; Django: RunPython reverse_code / RunSQL "
            "reverse_sql; Alembic/Knex/TypeORM/Sequelize: a down that undoes the up).",
        )
    elif m.tool in TOOLS_WITH_DOWN and not m.has_down and m.operations:
        yield _finding(
            m,
            "missing-down-migration",
            first_line,
            f"migration {m.name} has no down step: nothing reverses its "
            f"{len(m.operations)} operation(s)",
            _missing_down_fix(m),
        )


def _missing_down_fix(m: Migration) -> str:
    if m.tool == "golang-migrate":
        return "Add the matching .down.sql file that undoes each statement of the .up.sql."
    if m.tool == "goose":
        return "Add a `-- +goose Down` section that undoes each statement of the Up section."
    return "Write a down step that undoes each operation, in reverse order, before deploying."


def _named(what: str, op: Operation) -> str:
    """``index ix_a on users`` or, for unnamed ones, ``index on users(email)``."""
    if op.name:
        return f"{what} {op.name}" + (f" on {op.table}" if op.table else "")
    return f"{what} on {op.table}" + (f"({op.column})" if op.column else "")


def _describe(op: Operation) -> str:
    target = ".".join(p for p in (op.table, op.column) if p) or op.name or ""
    return f"{op.note or op.kind} ({target})" if target else (op.note or op.kind)
