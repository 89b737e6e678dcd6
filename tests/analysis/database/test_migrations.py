"""Migration analysis: one fixture repository per tool, with the findings each must produce.

The expected lists below were checked by hand against the fixture files: each line names the
statement that should trip the rule (and nothing else should).
"""

import json
import subprocess
from pathlib import Path

import pytest

from backend_agent.analysis.database import RULES, analyze_migrations, orm_auto_sync
from backend_agent.analysis.findings import Severity
from backend_agent.analysis.project import Project
from backend_agent.cli import main

FIXTURES = Path(__file__).parents[2] / "fixtures" / "migrations"

EXPECTED = {
    "alembic": {
        "migrations/versions/001_create_users.py": [],
        "migrations/versions/002_risky_changes.py": [
            (13, "add-not-null-column"),
            (15, "drop-column"),
            (16, "change-column-type"),
            (17, "set-not-null"),
            (18, "rename-column"),
            (19, "add-index-non-concurrent"),
            (21, "drop-index-non-concurrent"),
            (22, "add-foreign-key-validating"),
            (23, "add-unique-constraint"),
            (24, "raw-sql"),
            (25, "rename-table"),
            (26, "drop-table"),
            (28, "drop-column"),
            (32, "irreversible-migration"),
        ],
        "migrations/versions/003_no_down.py": [
            (13, "missing-down-migration"),
        ],
    },
    "django": {
        "shop/migrations/0001_initial.py": [],
        "shop/migrations/0002_changes.py": [
            (12, "add-not-null-column"),
            (22, "add-foreign-key-validating"),
            (22, "add-index-non-concurrent"),
            (27, "drop-column"),
            (28, "rename-column"),
            (29, "change-column-type"),
            (34, "set-not-null"),
            (39, "irreversible-migration"),
            (41, "raw-sql"),
            (44, "add-unique-constraint"),
            (48, "drop-table"),
        ],
        "shop/migrations/0003_concurrent_index.py": [
            (14, "drop-index-non-concurrent"),
        ],
    },
    "golang-migrate": {
        "migrations/1_create_items.up.sql": [],
        "migrations/2_change_items.up.sql": [
            (1, "change-column-type"),
            (1, "missing-down-migration"),
            (2, "drop-index-non-concurrent"),
            (3, "add-unique-constraint"),
        ],
    },
    "goose": {
        "db/migrations/00001_create_orders.sql": [],
        "db/migrations/00002_change_orders.sql": [
            (2, "missing-down-migration"),
            (2, "rename-table"),
            (4, "set-not-null"),
            (8, "raw-sql"),
        ],
    },
    "knex": {
        "migrations/20240101000000_create_users.js": [],
        "migrations/20240102000000_alter_users.js": [
            (3, "add-not-null-column"),
            (3, "missing-down-migration"),
            (5, "drop-column"),
            (6, "rename-column"),
            (7, "change-column-type"),
            (8, "add-index-non-concurrent"),
            (11, "drop-table"),
        ],
    },
    "postgres-sql": {
        "migrations/0001_schema.sql": [],
        "migrations/0002_changes.sql": [
            (2, "add-foreign-key-validating"),
            (4, "add-not-null-column"),
            (5, "change-column-type"),
            (6, "change-column-type"),
            (7, "set-not-null"),
            (9, "rename-column"),
            (10, "rename-table"),
            (11, "drop-column"),
            (12, "drop-table"),
            (13, "add-index-non-concurrent"),
            (14, "add-index-non-concurrent"),
            (15, "drop-index-non-concurrent"),
            (16, "add-unique-constraint"),
            (17, "add-foreign-key-validating"),
        ],
        "migrations/0003_concurrent.sql": [(5, "raw-sql")],
    },
    "prisma": {  # no missing-down-migration: Prisma rolls back with a new migration
        "prisma/migrations/20240101000000_init/migration.sql": [],
        "prisma/migrations/20240201000000_changes/migration.sql": [
            (2, "add-not-null-column"),
            (5, "drop-column"),
            (8, "add-index-non-concurrent"),
            (11, "add-foreign-key-validating"),
        ],
    },
    "rails": {
        "db/migrate/20240101000000_create_users.rb": [],
        "db/migrate/20240102000000_change_users.rb": [
            (5, "add-not-null-column"),
            (7, "drop-column"),
            (7, "irreversible-migration"),
            (8, "drop-column"),
            (9, "add-index-non-concurrent"),
            (11, "add-foreign-key-validating"),
            (13, "rename-column"),
            (15, "raw-sql"),
        ],
        "db/migrate/20240103000000_widen_names.rb": [
            (3, "change-column-type"),
            (5, "drop-index-non-concurrent"),
            (10, "irreversible-migration"),
        ],
        "db/migrate/20240104000000_require_email.rb": [
            (3, "missing-down-migration"),
            (3, "set-not-null"),
            (4, "drop-index-non-concurrent"),
            (5, "drop-table"),
        ],
    },
    "sequelize": {
        "migrations/20240101000000-change-users.js": [
            (5, "add-not-null-column"),
            (11, "add-index-non-concurrent"),
            (12, "drop-column"),
            (13, "change-column-type"),
            (14, "add-unique-constraint"),
        ],
    },
    "sql": {
        "db/migrations/001_init.sql": [],
        "db/migrations/002_changes.sql": [
            (2, "change-column-type"),
            (3, "drop-column"),
            (5, "change-column-type"),
            (5, "rename-column"),
            (6, "raw-sql"),
        ],
    },
    "typeorm": {
        "src/migrations/1700000000000-AddAge.ts": [
            (7, "add-not-null-column"),
            (8, "add-index-non-concurrent"),
            (9, "add-not-null-column"),
            (17, "drop-column"),
            (18, "rename-column"),
            (22, "irreversible-migration"),
        ],
    },
}
EXPECTED_TOOLS = {
    "alembic": "alembic",
    "django": "django",
    "golang-migrate": "golang-migrate",
    "goose": "goose",
    "knex": "knex",
    "postgres-sql": "sql",
    "prisma": "prisma",
    "rails": "rails",
    "sequelize": "sequelize",
    "sql": "sql",
    "typeorm": "typeorm",
}


def analyse(fixture):
    return analyze_migrations(Project(FIXTURES / fixture))


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fixture_produces_exactly_its_known_findings(fixture):
    migrations = analyse(fixture)
    found = {m.file: sorted((f.line, f.rule) for f in m.findings) for m in migrations}
    assert found == EXPECTED[fixture]
    assert {m.tool for m in migrations} == {EXPECTED_TOOLS[fixture]}


def places(rule):
    return [
        (fixture, path, line)
        for fixture, files in EXPECTED.items()
        for path, findings in files.items()
        for line, name in findings
        if name == rule and rule != "orm-auto-sync"
    ]


@pytest.mark.parametrize("rule", sorted(set(RULES) - {"orm-auto-sync"}))
def test_each_rule_fires_in_at_least_two_tools_with_a_rollback(rule):
    """Every rule has plants in the fixtures, and each finding says how to roll back."""
    plants = places(rule)
    assert len({fixture for fixture, _, _ in plants}) >= 2
    fixture, path, line = plants[0]
    migration = next(m for m in analyse(fixture) if m.file == path)
    finding = next(f for f in migration.findings if f.rule == rule and f.line == line)
    assert finding.severity == RULES[rule]
    assert finding.file == path
    assert len(finding.fix) > 40


def test_orm_auto_sync_fires_outside_tests_only():
    found = {
        fixture: sorted((f.file, f.line) for f in orm_auto_sync(Project(FIXTURES / fixture)))
        for fixture in ("typeorm", "sequelize", "golang-migrate", "knex")
    }
    assert found == {
        "typeorm": [("src/data-source.ts", 6)],
        "sequelize": [("src/db.js", 6)],
        "golang-migrate": [("main.go", 11)],  # main_test.go's AutoMigrate is not reported
        "knex": [],
    }
    finding = orm_auto_sync(Project(FIXTURES / "typeorm"))[0]
    assert finding.rule == "orm-auto-sync" and finding.severity is Severity.HIGH


def test_safe_variants_stay_silent(tmp_path):
    """Each risky statement next to its safe twin: only the risky one is reported."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "1_safe.up.sql").write_text(
        "CREATE INDEX CONCURRENTLY a_idx ON t (a);\n"
        "DROP INDEX CONCURRENTLY b_idx;\n"
        "ALTER TABLE t ADD COLUMN c integer NOT NULL DEFAULT 0;\n"
        "ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (d) REFERENCES u (id) NOT VALID;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT t_fk;\n"
        "ALTER TABLE t ADD CONSTRAINT t_key UNIQUE USING INDEX t_key_idx;\n"
        "ALTER TABLE t ALTER COLUMN e DROP NOT NULL;\n"
        "CREATE TABLE n (id bigint PRIMARY KEY, x text NOT NULL);\n"
        "CREATE INDEX n_x_idx ON n (x);\n"
        "ALTER TABLE n ADD COLUMN y text NOT NULL;\n"
    )
    (migrations / "1_safe.down.sql").write_text("DROP TABLE n;\n")
    [migration] = analyze_migrations(Project(tmp_path))
    assert migration.findings == []
    assert migration.has_down


def test_mysql_is_spared_postgres_only_rules(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services:\n  db:\n    image: mariadb:11\n")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "1_x.up.sql").write_text(
        "CREATE INDEX a_idx ON t (a);\nALTER TABLE t ADD FOREIGN KEY (b) REFERENCES u (id);\n"
    )
    (tmp_path / "migrations" / "1_x.down.sql").write_text("DROP INDEX a_idx ON t;\n")
    [migration] = analyze_migrations(Project(tmp_path))
    assert migration.dialect == "mysql"
    assert migration.findings == []


def test_paths_limit_the_analysis_and_a_down_file_brings_its_up_file():
    project = Project(FIXTURES / "golang-migrate")
    migrations = analyze_migrations(project, ["migrations/1_create_items.down.sql", "main.go"])
    assert [m.file for m in migrations] == ["migrations/1_create_items.up.sql"]
    assert analyze_migrations(project, []) == []


def test_migration_json_shape():
    migration = next(m for m in analyse("goose") if m.name == "00002_change_orders")
    data = json.loads(json.dumps(migration.as_dict()))
    assert set(data) == {
        "tool",
        "file",
        "name",
        "dialect",
        "dialect_evidence",
        "has_down",
        "previous",
        "operations",
        "down_operations",
        "findings",
    }
    assert data["operations"][0] == {
        "kind": "rename-table",
        "line": 2,
        "table": "orders",
        "new_name": "purchases",
    }
    finding = data["findings"][0]
    assert set(finding) == {"rule", "severity", "message", "file", "line", "fix"}
    assert finding["file"] == "db/migrations/00002_change_orders.sql"


def test_analysis_at_a_git_revision_sees_the_committed_migration(tmp_path):
    repo = tmp_path / "repo"
    (repo / "db" / "migrate").mkdir(parents=True)
    source = FIXTURES / "rails" / "db" / "migrate" / "20240104000000_require_email.rb"
    target = repo / "db" / "migrate" / source.name
    target.write_text(source.read_text())
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "m"], check=True)
    target.write_text("class RequireEmail < ActiveRecord::Migration[7.1]\nend\n")
    at_head = analyze_migrations(Project(repo).at("HEAD"))
    assert [f.rule for f in at_head[0].findings] == [
        "missing-down-migration",
        "set-not-null",
        "drop-index-non-concurrent",
        "drop-table",
    ]
    assert analyze_migrations(Project(repo))[0].operations == []


def test_cli_migrations_json(capsys):
    assert main(["db", "migrations", str(FIXTURES / "typeorm"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["tool"] for m in data["migrations"]] == ["typeorm"]
    assert data["orm_auto_sync"][0]["rule"] == "orm-auto-sync"


def test_cli_migrations_table(capsys):
    assert main(["db", "migrations", str(FIXTURES / "goose")]) == 0
    out = capsys.readouterr().out
    assert "db/migrations/00002_change_orders.sql:4" in out
    assert "set-not-null" in out


def test_django_subset_compares_alter_field_with_earlier_migrations():
    """AlterField needs the field's earlier definition; with ``paths`` it is replayed."""
    project = Project(FIXTURES / "django")
    [alone] = analyze_migrations(project, ["shop/migrations/0002_changes.py"])
    assert (
        sorted((f.line, f.rule) for f in alone.findings)
        == (EXPECTED["django"]["shop/migrations/0002_changes.py"])
    )


def test_python_migration_that_does_not_parse_is_reported_not_fatal(tmp_path):
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "001_broken.py").write_text(
        "from alembic import op\n\ndef upgrade(:\n    op.drop_table('x')\n"
    )
    [migration] = analyze_migrations(Project(tmp_path))
    [finding] = migration.findings
    assert (finding.rule, finding.line) == ("raw-sql", 3)
    assert finding.message.startswith("the file does not parse")


def migration_from(tmp_path, path, text):
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(text)
    [migration] = analyze_migrations(Project(tmp_path))
    return migration


def test_knex_typescript_migration(tmp_path):
    migration = migration_from(
        tmp_path,
        "db/migrations/20240101_orders.ts",
        'import { Knex } from "knex";\n\n'
        "export async function up(knex: Knex): Promise<void> {\n"
        '  await knex.schema.table("orders", (table) => {\n'
        '    table.integer("total").notNullable().alter();\n'
        '    table.dropNullable("status");\n'
        "  });\n"
        "}\n\n"
        "export async function down(knex: Knex): Promise<void> {\n"
        '  await knex.schema.table("orders", (table) => {\n'
        '    table.setNullable("status");\n'
        "  });\n"
        "}\n",
    )
    assert migration.tool == "knex" and migration.has_down
    assert [(f.line, f.rule) for f in migration.findings] == [
        (5, "change-column-type"),
        (5, "set-not-null"),
        (6, "set-not-null"),
    ]


def test_sequelize_arrow_functions_and_raw_query(tmp_path):
    migration = migration_from(
        tmp_path,
        "migrations/20240101-users.js",
        "module.exports = {\n"
        "  up: async (queryInterface, Sequelize) => {\n"
        "    await queryInterface.sequelize.query('ALTER TABLE users RENAME TO people');\n"
        "    await queryInterface.removeIndex('people', 'people_email', { concurrently: true });\n"
        "    await queryInterface.bulkDelete('people', { active: false });\n"
        "  },\n"
        "  down: async () => {},\n"
        "};\n",
    )
    assert migration.tool == "sequelize"
    assert [(f.line, f.rule) for f in migration.findings] == [
        (3, "missing-down-migration"),
        (3, "rename-table"),
        (5, "raw-sql"),
    ]


def test_rails_change_table_block(tmp_path):
    migration = migration_from(
        tmp_path,
        "db/migrate/20240105000000_reshape_users.rb",
        "class ReshapeUsers < ActiveRecord::Migration[7.1]\n"
        "  def change\n"
        "    change_table :users do |t|\n"
        "      t.string :locale, null: false\n"
        "      t.remove :nickname\n"
        "      t.rename :login, :username\n"
        "      t.references :team, foreign_key: true, index: { algorithm: :concurrently }\n"
        "    end\n"
        "  end\n"
        "end\n",
    )
    assert [(f.line, f.rule) for f in migration.findings] == [
        (4, "add-not-null-column"),
        (5, "drop-column"),
        (5, "irreversible-migration"),
        (6, "rename-column"),
        (7, "add-foreign-key-validating"),
    ]


def test_knex_and_sequelize_inline_unique_and_foreign_key_constraints(tmp_path):
    knex = migration_from(
        tmp_path / "knex",
        "migrations/20240101_orders.js",
        "exports.up = function (knex) {\n"
        '  return knex.schema.table("orders", (table) => {\n'
        '    table.string("code").unique().index();\n'
        '    table.integer("user_id").references("users.id");\n'
        '    table.string("note").index();\n'
        "  });\n"
        "};\n"
        "exports.down = (knex) => knex.schema.dropTable('orders');\n",
    )
    operations = [(op.line, op.kind, op.constraint) for op in knex.operations]
    assert operations == [
        (3, "add-column", None),
        (3, "add-constraint", "unique"),
        (4, "add-column", None),
        (4, "add-constraint", "foreign-key"),
        (5, "add-column", None),
        (5, "add-index", None),
    ]
    sequelize = migration_from(
        tmp_path / "sequelize",
        "migrations/20240101-orders.js",
        "module.exports = {\n"
        "  up: async (queryInterface, Sequelize) => {\n"
        "    await queryInterface.addColumn('orders', 'code', {\n"
        "      type: Sequelize.STRING, allowNull: true, unique: true,\n"
        "      references: { model: 'codes', key: 'id' } });\n"
        "  },\n"
        "  down: async (queryInterface) => queryInterface.removeColumn('orders', 'code'),\n"
        "};\n",
    )
    assert [(op.kind, op.constraint) for op in sequelize.operations] == [
        ("add-column", None),
        ("add-constraint", "foreign-key"),
        ("add-constraint", "unique"),
    ]
    assert {f.rule for f in sequelize.findings} >= {
        "add-unique-constraint",
        "add-foreign-key-validating",
    }
