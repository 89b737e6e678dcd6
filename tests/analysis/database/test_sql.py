"""SQL scripts to operations: statement splitting, sqlglot and the fallback patterns."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.analysis.database.dialects import infer_dialect
from backend_agent.analysis.database.sql import split_statements, sql_operations
from backend_agent.analysis.project import Project

# Statement bodies with the things a naive split on ";" gets wrong.
pieces = st.sampled_from(
    [
        "SELECT 1",
        "UPDATE t SET a = 'x; y'",
        "INSERT INTO t VALUES ('it''s', \"q;\")",
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql",
        "CREATE FUNCTION g() RETURNS int AS $body$ SELECT 2; $body$ LANGUAGE sql",
        "ALTER TABLE t\n  ADD COLUMN b int",
        "DROP TABLE /* inline; comment */ t",
    ]
)
separators = st.sampled_from(
    ["\n", "\n\n", "\n-- a comment; with a semicolon\n", " ", "\n/* block\n; */\n"]
)


@given(st.lists(st.tuples(pieces, separators), min_size=1, max_size=6))
def test_split_keeps_each_statement_and_its_line(parts):
    script, expected = "", []
    for body, separator in parts:
        script += separator
        expected.append((body, script.count("\n") + 1))
        script += body + ";"
    statements = split_statements(script)
    assert [(s.text, s.line) for s in statements] == expected


def test_operations_keep_statement_lines_and_details():
    script = (
        "-- header\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY public.t USING btree (a);\n"
        "ALTER TABLE t ADD COLUMN c bigserial;\n"
        "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY USING INDEX i;\n"
        "DO $$ BEGIN PERFORM 1; END $$;\n"
        "TRUNCATE t;\n"
    )
    ops = [op.as_dict() for op in sql_operations(script, "postgres")]
    assert ops == [
        {"kind": "add-index", "line": 2, "table": "t", "name": "i", "concurrent": True},
        {
            "kind": "add-column",
            "line": 3,
            "table": "t",
            "column": "c",
            "type": "BIGSERIAL",
            "nullable": True,
            "has_default": True,
        },
        {
            "kind": "add-constraint",
            "line": 4,
            "table": "t",
            "name": "t_pk",
            "unique": True,
            "constraint": "primary-key",
            "using_index": "i",
        },
        {
            "kind": "raw-sql",
            "line": 5,
            "sql": "DO $$ BEGIN PERFORM 1; END $$",
            "note": "not parsed",
        },
        {
            "kind": "raw-sql",
            "line": 6,
            "table": "t",
            "sql": "TRUNCATE t",
            "note": "deletes every row",
        },
    ]


@pytest.mark.parametrize(
    ("path", "text", "dialect"),
    [
        ("alembic.ini", "sqlalchemy.url = mysql+pymysql://u@h/db\n", "mysql"),
        ("config/database.yml", "production:\n  adapter: sqlite3\n", "sqlite"),
        ("knexfile.js", "module.exports = { client: 'mysql2' };\n", "mysql"),
        (
            "app/settings.py",
            "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}",
            "sqlite",
        ),
        ("config/config.json", '{"development": {"dialect": "mariadb"}}', "mysql"),
        (".env", "DATABASE_URL=postgres://u:p@h/db\n", "postgres"),
        ("prisma/schema.prisma", 'datasource db {\n  provider = "sqlite"\n}\n', "sqlite"),
        ("src/data-source.ts", 'new DataSource({ type: "mysql" })', "mysql"),
        ("README.md", "we use mysql://somewhere", "postgres"),  # not a config file
    ],
)
def test_dialect_comes_from_the_tool_configuration(tmp_path, path, text, dialect):
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(text)
    assert infer_dialect(Project(tmp_path), "db/migrations/1_x.up.sql") == dialect


def test_nearest_configuration_wins_in_a_monorepo(tmp_path):
    for service, url in (("billing", "mysql://h/db"), ("orders", "postgresql://h/db")):
        (tmp_path / service).mkdir()
        (tmp_path / service / ".env").write_text(f"DATABASE_URL={url}\n")
    project = Project(tmp_path)
    assert infer_dialect(project, "billing/migrations/1_x.up.sql") == "mysql"
    assert infer_dialect(project, "orders/migrations/1_x.up.sql") == "postgres"


words = st.sampled_from(
    [
        "CREATE",
        "TABLE",
        "INDEX",
        "ALTER",
        "ADD",
        "COLUMN",
        "DROP",
        "t",
        "a",
        "(",
        ")",
        ";",
        "'",
        "$$",
        "--",
        "\n",
        "NOT",
        "NULL",
        "CONSTRAINT",
        "UNIQUE",
        "FOREIGN KEY",
        "REFERENCES",
        "USING",
        "CONCURRENTLY",
        "RENAME",
        "TO",
        "TYPE",
        "SET",
        "DEFAULT",
        "1",
        "`",
        '"',
        "/*",
        "*/",
        "ON",
        ",",
        "DO",
        "#",
    ]
)


@given(
    st.one_of(st.lists(words, max_size=25).map(" ".join), st.text(max_size=120)),
    st.sampled_from(["postgres", "mysql", "sqlite"]),
)
def test_any_text_gives_operations_without_raising(sql, dialect):
    lines = sql.count("\n") + 1
    for op in sql_operations(sql, dialect):
        assert 1 <= op.line <= lines
