"""How to roll a migration back: the tool's down command for this very migration, or, for tools
with no down step (Prisma, plain SQL), a new migration that reverses it, with its SQL when the
operations allow; and one backup step for the data no rollback brings back."""

from __future__ import annotations

from pathlib import PurePosixPath

from backend_agent.analysis.database.model import Dialect, Migration, Operation
from backend_agent.analysis.database.reverse import reverse_sql

# Tools whose migrations are rolled back by writing a new one, by design.
FORWARD_ONLY = frozenset({"prisma", "sql"})
DESTRUCTIVE = frozenset({"drop-table", "drop-column"})
SQL_SHOWN = 12  # reverse statements written out in a rollback step


def rollback_steps(migration: Migration) -> list[str]:
    """The rollback procedure for one migration, in the order to follow it."""
    steps: list[str] = []
    if migration.tool in FORWARD_ONLY:
        steps += _new_migration(migration)
    elif not migration.has_down:
        steps.append(
            f"{migration.file} has no down step: write one that undoes each operation, in "
            "reverse order, before deploying."
        )
    elif not migration.reversible:
        steps.append(
            f"Its down step cannot run ({_why_irreversible(migration)}): the way back is the "
            "backup taken right before deploying."
        )
    else:
        note = (
            f" (it reverts the latest migration run: repeat until {migration.name} is reverted)"
            if migration.tool == "typeorm"
            else ""
        )
        steps.append(f"Run the down step: `{down_command(migration)}`{note}.")
    backup = _backup_step(migration)
    if backup:
        steps.append(backup)
    return steps


def down_command(migration: Migration) -> str:
    """The command that runs this migration's down step, with its real version."""
    path = PurePosixPath(migration.file)
    directory, filename = path.parent.as_posix(), path.name
    previous = migration.previous
    if migration.tool == "rails":
        return f"bin/rails db:migrate:down VERSION={migration.version}"
    if migration.tool == "alembic":
        return f"alembic downgrade {previous or '-1'}"
    if migration.tool == "django":
        app = path.parent.parent.name if path.parent.name == "migrations" else "<app>"
        return f"python manage.py migrate {app} {previous or '<previous migration>'}"
    if migration.tool == "knex":
        return f"npx knex migrate:down {filename}"
    if migration.tool == "sequelize":
        return f"npx sequelize-cli db:migrate:undo --name {filename}"
    if migration.tool == "typeorm":
        return "npx typeorm migration:revert"
    if migration.tool == "golang-migrate":
        target = "down -all" if previous == "0" else f"goto {previous or '<previous version>'}"
        return f'migrate -path {directory} -database "$DATABASE_URL" {target}'
    if migration.tool == "goose":
        driver = _GOOSE_DRIVER[migration.dialect]
        return f'goose -dir {directory} {driver} "$DATABASE_URL" down-to {previous or 0}'
    return "the tool's down command"


_GOOSE_DRIVER: dict[Dialect, str] = {"postgres": "postgres", "mysql": "mysql", "sqlite": "sqlite3"}


def _new_migration(migration: Migration) -> list[str]:
    """Prisma and plain SQL: roll forward with a migration that reverses this one."""
    if migration.tool == "prisma":
        name = migration.name
        first = (
            "Prisma Migrate has no down migrations: roll back with a new migration that "
            f"reverses this one (`npx prisma migrate dev --create-only --name revert_{name}`, "
            "then `npx prisma migrate deploy`; if this one failed half-way, first "
            f"`npx prisma migrate resolve --rolled-back {name}`)."
        )
    else:
        first = (
            f"{migration.file} has no down step: roll back with a new migration that reverses "
            "it, reviewed before it runs."
        )
    steps = [first]
    reversal = reverse_sql(migration)
    if reversal.statements:
        shown = " ".join(reversal.statements[:SQL_SHOWN])
        more = len(reversal.statements) - SQL_SHOWN
        tail = f" (and {more} more statements)" if more > 0 else ""
        steps.append(f"Its SQL, derived from the migration: {code_span(shown)}{tail}.")
    if reversal.not_derivable:
        listed = ", ".join(reversal.not_derivable[:5])
        count = len(reversal.not_derivable)
        extra = f" and {count - 5} more" if count > 5 else ""
        how = (
            " (`npx prisma migrate diff --from-schema-datasource prisma/schema.prisma "
            "--to-schema-datamodel <the previous schema.prisma> --script` writes them)"
            if migration.tool == "prisma"
            else ""
        )
        steps.append(
            f"Not derivable from the migration alone: {listed}{extra}; write those statements "
            f"from the previous schema{how}."
        )
    return steps


def _why_irreversible(migration: Migration) -> str:
    if migration.irreversible_line is not None:
        return f"it raises at line {migration.irreversible_line}"
    op = next(op for op in migration.operations if not op.reversible)
    what = op.note or op.kind
    target = ".".join(p for p in (op.table, op.column) if p)
    return f"{what} {target} at line {op.line} cannot be reversed".replace("  ", " ")


def _backup_step(migration: Migration) -> str | None:
    """One step for every operation that destroys data: back up first, restore to roll back."""
    destructive = [op for op in migration.operations if op.kind in DESTRUCTIVE and op.table]
    if not destructive:
        return None
    tables = sorted({op.table for op in destructive if op.table})
    listed = ", ".join(_target(op) for op in destructive[:5])
    if len(destructive) > 5:
        listed += f" and {len(destructive) - 5} more"
    return (
        f"A rollback does not bring back the data ({listed}): back up with "
        f"{code_span(dump_command(migration.dialect, tables))} right before deploying, and restore "
        "from that backup to roll back."
    )


def _target(op: Operation) -> str:
    if op.column:
        return f"drop column {op.table}.{op.column} at line {op.line}"
    return f"drop table {op.table} at line {op.line}"


def code_span(text: str) -> str:
    """Markdown code: ``` `` `a` `` ``` when the text holds backquotes (MySQL identifiers)."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def dump_command(dialect: str, tables: list[str]) -> str:
    """The command that backs up ``tables`` in this dialect."""
    if dialect == "mysql":
        return f"mysqldump <database> {' '.join(tables)}"
    if dialect == "sqlite":
        dumps = " ".join(f'".dump {t}"' for t in tables)
        return f"sqlite3 <database file> {dumps}"
    # pg_dump folds unquoted names to lower case: "User" (as Prisma names tables) is quoted.
    flags = " ".join(f"--table='\"{t}\"'" if t != t.lower() else f"--table={t}" for t in tables)
    return f"pg_dump {flags}"
