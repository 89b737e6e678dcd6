"""How to roll a migration back: the tool's down command, or what to do when there is none,
and a restore step for every operation that destroys data."""

from __future__ import annotations

from backend_agent.analysis.database.model import Migration

_DOWN_COMMAND = {
    "alembic": "alembic downgrade -1",
    "django": "python manage.py migrate <app> <previous migration>",
    "rails": "bin/rails db:migrate:down VERSION=<version>",
    "knex": "npx knex migrate:down",
    "typeorm": "npx typeorm migration:revert",
    "sequelize": "npx sequelize-cli db:migrate:undo",
    "golang-migrate": "migrate -path <dir> -database $DATABASE_URL down 1",
    "goose": "goose -dir <dir> <driver> $DATABASE_URL down",
}
_NO_DOWN = {
    "prisma": "Prisma has no down step: generate a reverse script with `prisma migrate diff` "
    "and mark the migration rolled back with `prisma migrate resolve --rolled-back`.",
    "sql": "Plain SQL has no down step: write and review a reverse script before deploying.",
}
_DESTRUCTIVE = frozenset({"drop-table", "drop-column"})


def rollback_steps(migration: Migration) -> list[str]:
    """The rollback procedure for one migration, in the order to follow it."""
    steps = []
    if migration.has_down:
        command = _DOWN_COMMAND.get(migration.tool, "the tool's down command")
        steps.append(f"Run the down step: `{command}`.")
    else:
        default = f"{migration.file} has no down step: write one before deploying."
        steps.append(_NO_DOWN.get(migration.tool, default))
    for op in migration.operations:
        if op.kind in _DESTRUCTIVE:
            what = f"{op.table}.{op.column}" if op.column else f"{op.table}"
            steps.append(
                f"{op.kind} {what} ({migration.file}:{op.line}) destroys data that no down step "
                "restores: back up the table first and restore from the backup to roll back."
            )
    return steps
