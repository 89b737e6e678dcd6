"""Agreement with squawk (a PostgreSQL migration linter, used here only as an oracle) on the
rules both tools have, for the PostgreSQL SQL migrations of the fixtures and for generated ones.
"""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend_agent.analysis.database import analyze_migrations
from backend_agent.analysis.project import Project

FIXTURES = Path(__file__).parents[2] / "fixtures" / "migrations"

# squawk rule -> our rule, for the rules both have.
SQUAWK_TO_OURS = {
    "ban-drop-table": "drop-table",
    "ban-drop-column": "drop-column",
    "renaming-table": "rename-table",
    "renaming-column": "rename-column",
    "changing-column-type": "change-column-type",
    "adding-required-field": "add-not-null-column",
    "adding-not-nullable-field": "set-not-null",
    "require-concurrent-index-creation": "add-index-non-concurrent",
    "require-concurrent-index-deletion": "drop-index-non-concurrent",
    "disallowed-unique-constraint": "add-unique-constraint",
    "adding-foreign-key-constraint": "add-foreign-key-validating",
}

pytestmark = pytest.mark.skipif(shutil.which("squawk") is None, reason="squawk-cli not installed")


def squawk(root: Path, path: str) -> set[tuple[int, str]]:
    """squawk's findings as (1-based line, our rule id); migration tools wrap each file in a
    transaction, hence --assume-in-transaction."""
    proc = subprocess.run(
        ["squawk", "--assume-in-transaction", "--reporter", "json", path],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        (v["line"] + 1, SQUAWK_TO_OURS[v["rule_name"]])
        for v in json.loads(proc.stdout)
        if v["rule_name"] in SQUAWK_TO_OURS
    }


def ours(migration) -> set[tuple[int, str]]:
    return {(f.line, f.rule) for f in migration.findings if f.rule in SQUAWK_TO_OURS.values()}


def comparable(migration, found: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Drop what we decide differently on purpose and what is not part of the up step.

    - Goose files hold both steps; only the Up section is the migration under review.
    - A column added NOT NULL to a table created earlier in the same migration cannot fail:
      the table is empty. squawk flags it; we do not.
    """
    up_lines = {op.line for op in migration.operations}
    new_table_lines = {
        op.line
        for op in migration.operations
        if op.table in migration.created_tables and op.kind != "create-table"
    }
    return {
        (line, rule)
        for line, rule in found
        if (migration.tool != "goose" or line in up_lines)
        and not (rule == "add-not-null-column" and line in new_table_lines)
    }


POSTGRES_SQL_FIXTURES = ["prisma", "golang-migrate", "goose", "postgres-sql"]


@pytest.mark.parametrize("fixture", POSTGRES_SQL_FIXTURES)
def test_fixture_sql_migrations_agree_with_squawk(fixture):
    root = FIXTURES / fixture
    migrations = [m for m in analyze_migrations(Project(root)) if m.dialect == "postgres"]
    assert migrations
    for migration in migrations:
        assert ours(migration) == comparable(migration, squawk(root, migration.file)), (
            migration.file
        )


def test_agreement_covers_every_shared_rule():
    covered = set()
    for fixture in POSTGRES_SQL_FIXTURES:
        for migration in analyze_migrations(Project(FIXTURES / fixture)):
            covered |= {rule for _, rule in ours(migration)}
    assert covered == set(SQUAWK_TO_OURS.values())


STATEMENTS = [
    "ALTER TABLE {t} ADD COLUMN {c} integer NOT NULL",
    "ALTER TABLE {t} ADD COLUMN {c} integer NOT NULL DEFAULT 0",
    "ALTER TABLE {t} ADD COLUMN {c} text",
    "ALTER TABLE {t} DROP COLUMN {c}",
    "ALTER TABLE {t} RENAME COLUMN {c} TO {c}_renamed",
    "ALTER TABLE {t} ALTER COLUMN {c} TYPE bigint",
    "ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL",
    "ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL",
    "CREATE INDEX {t}_{c}_idx ON {t} ({c})",
    "CREATE UNIQUE INDEX {t}_{c}_uidx ON {t} ({c})",
    "CREATE INDEX CONCURRENTLY {t}_{c}_cidx ON {t} ({c})",
    "DROP INDEX {t}_{c}_idx",
    "DROP INDEX CONCURRENTLY {t}_{c}_cidx",
    "ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_key UNIQUE ({c})",
    "ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_fk FOREIGN KEY ({c}) REFERENCES accounts (id)",
    "ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_nv FOREIGN KEY ({c}) REFERENCES accounts (id) "
    "NOT VALID",
    "ALTER TABLE {t} VALIDATE CONSTRAINT {t}_{c}_nv",
    "DROP TABLE {t}",
    "ALTER TABLE {t} RENAME TO {t}_old",
    "UPDATE {t} SET {c} = 0",
]

statement = st.builds(
    lambda template, table, column: template.format(t=table, c=column),
    st.sampled_from(STATEMENTS),
    st.sampled_from(["users", "orders", "line_items"]),
    st.sampled_from(["email", "status", "total", "owner_id"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statement, min_size=1, max_size=8))
def test_generated_migrations_agree_with_squawk(statements):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "migrations").mkdir()
        path = "migrations/1_generated.up.sql"
        (root / path).write_text("".join(f"{s};\n" for s in statements))
        [migration] = analyze_migrations(Project(root))
        assert ours(migration) == squawk(root, path)
