"""Migrations read right and rolled back right: Rails ``self.up``/``self.down`` and reversible
blocks, Prisma's roll-forward with reverse SQL, the project's dialect in rules and messages,
and rollback commands that name the real version."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backend_agent.analysis import Project
from backend_agent.analysis.database import (
    Migration,
    analyze_migrations,
    reverse_sql,
    rollback_steps,
)
from backend_agent.cli import main

FIXTURES = Path(__file__).parents[2] / "fixtures" / "migrations"


def migrations_of(fixture: str) -> dict[str, Migration]:
    return {m.file: m for m in analyze_migrations(Project(FIXTURES / fixture))}


def rules(migration: Migration) -> list[tuple[int, str]]:
    return sorted((f.line, f.rule) for f in migration.findings)


# --- Rails ------------------------------------------------------------------------------


def test_rails_self_up_and_self_down_are_read() -> None:
    legacy = migrations_of("rails-legacy")["db/migrate/20100301000000_create_accounts.rb"]
    assert [(op.kind, op.table, op.column) for op in legacy.operations] == [
        ("create-table", "accounts", None),
        ("add-column", "users", "account_id"),
        ("add-index", "users", "account_id"),
    ]
    assert legacy.has_down and legacy.reversible
    assert [op.kind for op in legacy.down_operations] == ["drop-index", "drop-column", "drop-table"]
    assert rules(legacy) == [(6, "add-not-null-column"), (7, "add-index-non-concurrent")]
    # The index gets the name Rails gives it, so its rollback names it too.
    fix = next(f.fix for f in legacy.findings if f.rule == "add-index-non-concurrent")
    assert "DROP INDEX CONCURRENTLY index_users_on_account_id" in fix


def test_rails_self_down_that_raises_is_irreversible() -> None:
    carts = migrations_of("rails-legacy")["db/migrate/20100302000000_retire_carts.rb"]
    assert rules(carts) == [(3, "drop-table"), (7, "irreversible-migration")]
    steps = rollback_steps(carts)
    assert "down step cannot run (it raises at line 7)" in steps[0]
    assert "db:migrate:down" not in " ".join(steps)  # no command that would fail


def test_reversible_blocks_are_reversible_in_change() -> None:
    checks = migrations_of("rails-legacy")["db/migrate/20240105000000_add_checks.rb"]
    assert [(op.kind, op.table, op.column) for op in checks.operations] == [
        ("add-constraint", "users", None),
        ("alter-column", "users", "bio"),
        ("add-column", "users", "nickname"),
    ]
    assert all(op.reversible for op in checks.operations)
    assert [op.kind for op in checks.down_operations] == ["drop-constraint", "alter-column"]
    assert "irreversible-migration" not in {rule for _, rule in rules(checks)}
    assert rollback_steps(checks) == [
        "Run the down step: `bin/rails db:migrate:down VERSION=20240105000000`."
    ]


def test_drop_table_without_a_block_is_irreversible_and_with_one_is_not() -> None:
    found = migrations_of("rails-legacy")
    bare = found["db/migrate/20240106000000_drop_sessions.rb"]
    assert rules(bare) == [(3, "drop-table"), (3, "irreversible-migration")]
    drop = next(f for f in bare.findings if f.rule == "drop-table")
    assert "Rails cannot reverse a drop_table without a block" in drop.fix
    assert "cannot be reversed" in rollback_steps(bare)[0]
    with_block = found["db/migrate/20240107000000_drop_tokens.rb"]
    assert rules(with_block) == [(3, "drop-table")]
    assert rollback_steps(with_block)[0] == (
        "Run the down step: `bin/rails db:migrate:down VERSION=20240107000000`."
    )


# --- Prisma ------------------------------------------------------------------------------


def test_prisma_rolls_back_with_a_new_migration_and_its_sql() -> None:
    found = migrations_of("prisma")
    assert all(f.rule != "missing-down-migration" for m in found.values() for f in m.findings)
    changes = found["prisma/migrations/20240201000000_changes/migration.sql"]
    steps = rollback_steps(changes)
    assert "new migration that reverses this one" in steps[0]
    assert "--name revert_20240201000000_changes" in steps[0]
    assert reverse_sql(changes).statements == [
        'ALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";',
        'DROP INDEX "User_age_idx";',
        'ALTER TABLE "User" DROP COLUMN "age";',
    ]
    assert steps[1].startswith('Its SQL, derived from the migration: `ALTER TABLE "Post"')
    assert "drop-column User.name (line 5)" in steps[2]  # the dropped column needs a backup
    assert "pg_dump --table='\"User\"'" in steps[3]  # "User" keeps its case in pg_dump


def test_prisma_init_migration_reverses_to_dropping_its_tables_only() -> None:
    init = migrations_of("prisma")["prisma/migrations/20240101000000_init/migration.sql"]
    assert reverse_sql(init).statements == ['DROP TABLE "User";']  # its index goes with it
    assert reverse_sql(init).not_derivable == []


def test_prisma_mysql_reverse_sql_uses_mysql_syntax() -> None:
    orders = migrations_of("prisma-mysql")["prisma/migrations/20240302000000_orders/migration.sql"]
    assert orders.dialect == "mysql"
    assert reverse_sql(orders).statements == [
        "ALTER TABLE `Order` RENAME COLUMN `status` TO `state`;",
        "DROP INDEX `Order_status_idx` ON `Order`;",
        "ALTER TABLE `Order` DROP COLUMN `total`;",
    ]
    # Backquoted identifiers sit in a double-backquote code span, which Markdown keeps whole.
    assert "`` ALTER TABLE `Order` RENAME COLUMN" in rollback_steps(orders)[1]


# --- Dialects ----------------------------------------------------------------------------


def test_postgres_projects_get_no_mysql_notes() -> None:
    for fixture in ("rails-legacy", "prisma", "alembic", "django", "knex", "rails"):
        for migration in migrations_of(fixture).values():
            assert migration.dialect == "postgres", (fixture, migration.dialect_evidence)
            text = " ".join(f.message + f.fix for f in migration.findings)
            text += " ".join(rollback_steps(migration))
            assert "MySQL" not in text and "mysqldump" not in text, migration.file


@pytest.mark.parametrize(
    ("fixture", "evidence"),
    [
        ("rails-legacy", "config/database.yml:2: postgresql"),  # inside ERB
        ("prisma", "prisma/migrations/migration_lock.toml:2: postgresql"),
        ("prisma-mysql", "prisma/migrations/migration_lock.toml:2: mysql"),
        ("django", "config/settings.py:1: postgresql"),
        ("rails-mysql", "Gemfile: mysql2"),  # a driver dependency, no configuration file
    ],
)
def test_dialect_comes_from_the_project_with_its_evidence(fixture: str, evidence: str) -> None:
    evidences = {m.dialect_evidence for m in migrations_of(fixture).values()}
    assert evidences == {evidence}


def test_mysql_messages_and_rules() -> None:
    [tighten] = migrations_of("rails-mysql").values()
    assert tighten.dialect == "mysql"
    # MySQL builds indexes without blocking writes: no CONCURRENTLY advice.
    assert rules(tighten) == [(3, "add-not-null-column"), (4, "set-not-null")]
    messages = {f.rule: f for f in tighten.findings}
    assert "implicit default" in messages["add-not-null-column"].message
    assert "MODIFY email <type> NULL" in messages["set-not-null"].fix
    assert "PostgreSQL" not in " ".join(f.message + f.fix for f in tighten.findings)


def test_an_unknown_dialect_says_it_was_assumed(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "1_x.up.sql").write_text("CREATE INDEX a ON t (a);\n")
    [migration] = analyze_migrations(Project(tmp_path))
    assert migration.dialect == "postgres"
    assert migration.dialect_evidence.startswith("assumed")


# --- Rollback commands -------------------------------------------------------------------

COMMANDS = {
    ("rails", "db/migrate/20240101000000_create_users.rb"): (
        "bin/rails db:migrate:down VERSION=20240101000000"
    ),
    ("django", "shop/migrations/0001_initial.py"): "python manage.py migrate shop zero",
    ("django", "shop/migrations/0003_concurrent_index.py"): (
        "python manage.py migrate shop 0002_changes"
    ),
    ("alembic", "migrations/versions/001_create_users.py"): "alembic downgrade base",
    ("golang-migrate", "migrations/1_create_items.up.sql"): (
        'migrate -path migrations -database "$DATABASE_URL" down -all'
    ),
    ("goose", "db/migrations/00001_create_orders.sql"): (
        'goose -dir db/migrations postgres "$DATABASE_URL" down-to 0'
    ),
    ("knex", "migrations/20240101000000_create_users.js"): (
        "npx knex migrate:down 20240101000000_create_users.js"
    ),
}


@pytest.mark.parametrize(("fixture", "path"), sorted(COMMANDS))
def test_rollback_commands_name_the_real_version(fixture: str, path: str) -> None:
    migration = migrations_of(fixture)[path]
    assert rollback_steps(migration)[0] == f"Run the down step: `{COMMANDS[fixture, path]}`."


def test_alembic_rolls_back_to_its_down_revision(tmp_path: Path) -> None:
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "b2_add_flag.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        'revision = "b2"\ndown_revision: str | None = "a1"\n\n\n'
        "def upgrade():\n    op.add_column('t', sa.Column('flag', sa.Boolean()))\n\n\n"
        "def downgrade():\n    op.drop_column('t', 'flag')\n"
    )
    [migration] = analyze_migrations(Project(tmp_path))
    assert rollback_steps(migration) == ["Run the down step: `alembic downgrade a1`."]


def test_goose_and_golang_migrate_roll_back_to_the_previous_version(tmp_path: Path) -> None:
    goose = tmp_path / "goose"
    (goose / "sql").mkdir(parents=True)
    for version in ("00007", "00012"):
        (goose / "sql" / f"{version}_step.sql").write_text(
            "-- +goose Up\nALTER TABLE t ADD COLUMN c int;\n"
            "-- +goose Down\nALTER TABLE t DROP COLUMN c;\n"
        )
    (goose / "go.mod").write_text("module x\n\nrequire github.com/go-sql-driver/mysql v1.7.0\n")
    second = migrations_of_path(goose)["sql/00012_step.sql"]
    assert rollback_steps(second)[0] == (
        'Run the down step: `goose -dir sql mysql "$DATABASE_URL" down-to 00007`.'
    )
    migrate = tmp_path / "migrate" / "db"
    migrate.mkdir(parents=True)
    for version in ("20240101", "20240202"):
        (migrate / f"{version}_step.up.sql").write_text("ALTER TABLE t ADD COLUMN c int;\n")
        (migrate / f"{version}_step.down.sql").write_text("ALTER TABLE t DROP COLUMN c;\n")
    later = migrations_of_path(migrate.parent)["db/20240202_step.up.sql"]
    assert "goto 20240101" in rollback_steps(later)[0]


def migrations_of_path(root: Path) -> dict[str, Migration]:
    return {m.file: m for m in analyze_migrations(Project(root))}


def test_no_fixture_rollback_leaves_a_version_placeholder() -> None:
    for fixture in sorted(p.name for p in FIXTURES.iterdir()):
        for migration in migrations_of(fixture).values():
            for step in rollback_steps(migration):
                assert not re.search(r"<(version|previous migration|app|dir)>", step), step


def test_cli_db_migrations_shows_the_rollback_and_the_reverse_sql(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "migrations", str(FIXTURES / "prisma"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    changes = data["migrations"][1]
    assert changes["reverse_sql"][-1] == 'ALTER TABLE "User" DROP COLUMN "age";'
    assert changes["rollback"][0].startswith("Prisma Migrate has no down migrations")
    assert changes["dialect_evidence"] == "prisma/migrations/migration_lock.toml:2: postgresql"
    assert main(["db", "migrations", str(FIXTURES / "rails-legacy")]) == 0
    out = capsys.readouterr().out
    assert "rollback: Run the down step: `bin/rails db:migrate:down VERSION=20100301000000`" in out


def test_a_folder_named_for_the_database_decides_its_dialect(tmp_path: Path) -> None:
    """Projects that support several databases keep one migration folder per dialect."""
    (tmp_path / "go.mod").write_text("module x\n\nrequire github.com/lib/pq v1.10.9\n")
    for dialect in ("mysql", "postgres", "sqlite"):
        folder = tmp_path / "store" / "migration" / dialect
        folder.mkdir(parents=True)
        (folder / "001_user.sql").write_text("ALTER TABLE users ADD COLUMN nick TEXT NOT NULL;\n")
    clickhouse = tmp_path / "db" / "clickhouse" / "migrations"
    clickhouse.mkdir(parents=True)
    (clickhouse / "01_events.sql").write_text("ALTER TABLE events ADD COLUMN x String;\n")
    found = {m.file: (m.dialect, m.dialect_evidence) for m in analyze_migrations(Project(tmp_path))}
    assert found == {
        "store/migration/mysql/001_user.sql": ("mysql", "store/migration/mysql/: folder name"),
        "store/migration/postgres/001_user.sql": (
            "postgres",
            "store/migration/postgres/: folder name",
        ),
        "store/migration/sqlite/001_user.sql": ("sqlite", "store/migration/sqlite/: folder name"),
    }  # the ClickHouse migration is not SQL our rules are about
