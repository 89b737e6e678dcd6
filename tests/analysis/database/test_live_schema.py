"""``db schema`` against real PostgreSQL, MariaDB and Redis servers started by the fixtures,
and against a SQLite file."""

import json
import sqlite3

import pytest
from services import mariadb, postgres, redis  # noqa: F401  (fixtures)

from backend_agent.analysis.database.live import inspect_url, mask_password
from backend_agent.cli import main
from backend_agent.errors import UserError

pytestmark = pytest.mark.services

SCHEMA = [
    "CREATE TABLE orgs (id integer PRIMARY KEY, name varchar(100) NOT NULL)",
    "CREATE TABLE users (id integer PRIMARY KEY, email varchar(200) NOT NULL, "
    "org_id integer, score integer DEFAULT 0, "
    "CONSTRAINT users_email_key UNIQUE (email), "
    "CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id))",
    "CREATE INDEX users_score_idx ON users (score)",
]


def schema_json(url, capsys):
    assert main(["db", "schema", "--url", url, "--format", "json"]) == 0
    out = capsys.readouterr().out
    return out, json.loads(out)


def check_users_table(data):
    tables = {t["name"]: t for t in data["tables"]}
    assert set(tables) == {"orgs", "users"}
    users = tables["users"]
    columns = {c["name"]: c for c in users["columns"]}
    assert list(columns) == ["id", "email", "org_id", "score"]
    assert columns["id"]["primary_key"] and not columns["email"]["nullable"]
    assert columns["org_id"]["nullable"]
    assert "0" in columns["score"]["default"]
    indexes = {i["name"]: i for i in users["indexes"]}
    assert indexes["users_score_idx"] == {
        "name": "users_score_idx",
        "columns": ["score"],
        "unique": False,
    }
    assert indexes["users_email_key"]["unique"]
    [fk] = users["foreign_keys"]
    assert (fk["columns"], fk["referred_table"], fk["referred_columns"]) == (
        ["org_id"],
        "orgs",
        ["id"],
    )


def test_postgres_schema_read_only_and_password_hidden(postgres, capsys):  # noqa: F811
    import psycopg

    with psycopg.connect(postgres.url, autocommit=True) as connection:
        for statement in SCHEMA:
            connection.execute(statement)
    out, data = schema_json(postgres.url, capsys)
    assert data["dialect"] == "postgresql"
    check_users_table(data)
    assert postgres.password not in out
    assert data["url"] == f"postgresql://app:***@127.0.0.1:{postgres.port}/app"


def test_postgres_other_schema(postgres, capsys):  # noqa: F811
    import psycopg

    with psycopg.connect(postgres.url, autocommit=True) as connection:
        connection.execute("CREATE SCHEMA billing")
        connection.execute("CREATE TABLE billing.invoices (id bigint PRIMARY KEY, total numeric)")
    url = postgres.url.replace("postgresql://", "postgres://")  # the short scheme works too
    assert main(["db", "schema", "--url", url, "--schema", "billing", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "billing"
    assert [t["name"] for t in data["tables"]] == ["invoices"]
    assert [c["type"] for c in data["tables"][0]["columns"]] == ["BIGINT", "NUMERIC"]


def test_postgres_session_refuses_writes(postgres):  # noqa: F811
    import sqlalchemy

    from backend_agent.analysis.database.live import _engine_url, _read_only_engine

    engine = _read_only_engine(_engine_url(postgres.url))
    with engine.connect() as connection, pytest.raises(sqlalchemy.exc.InternalError) as info:
        connection.execute(sqlalchemy.text("CREATE TABLE should_not_exist (a int)"))
    engine.dispose()
    assert "read-only" in str(info.value)


def test_mariadb_schema_through_plain_mysql_url(mariadb, capsys):  # noqa: F811
    import pymysql

    connection = pymysql.connect(
        host="127.0.0.1",
        port=mariadb.port,
        user="app",
        password=mariadb.password,
        database="app",
    )
    with connection.cursor() as cursor:
        for statement in SCHEMA:
            cursor.execute(statement)
    connection.commit()
    connection.close()
    out, data = schema_json(mariadb.url, capsys)
    assert data["dialect"] == "mysql"
    check_users_table(data)
    assert mariadb.password not in out


def test_mariadb_session_refuses_writes(mariadb):  # noqa: F811
    import sqlalchemy

    from backend_agent.analysis.database.live import _engine_url, _read_only_engine

    engine = _read_only_engine(_engine_url(mariadb.url))
    with engine.connect() as connection, pytest.raises(sqlalchemy.exc.OperationalError) as info:
        connection.execute(sqlalchemy.text("CREATE TABLE should_not_exist (a int)"))
    engine.dispose()
    assert "READ ONLY" in str(info.value).upper()


def test_sqlite_file_is_opened_read_only(tmp_path, capsys):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as connection:
        for statement in SCHEMA:
            connection.execute(statement)
    _out, data = schema_json(f"sqlite:///{path}", capsys)
    assert data["dialect"] == "sqlite"
    assert {t["name"] for t in data["tables"]} == {"orgs", "users"}
    assert main(["db", "schema", "--url", f"sqlite:///{path}"]) == 0
    table = capsys.readouterr().out
    assert "  email   VARCHAR(200)  NOT NULL" in table
    assert "  foreign key users_org_fk (org_id) -> orgs(id)" in table or (
        "  foreign key (unnamed) (org_id) -> orgs(id)" in table
    )
    missing = tmp_path / "missing.db"
    with pytest.raises(UserError, match="cannot read"):
        inspect_url(f"sqlite:///{missing}")
    assert not missing.exists()


def test_redis_keyspace_summary_uses_scan(redis, capsys):  # noqa: F811
    import redis as redis_client

    client = redis_client.Redis.from_url(redis.url)
    client.flushdb()
    for i in range(120):
        client.set(f"session:{i}", "x", ex=3600 + i)
    for i in range(30):
        client.hset(f"user:{i}", mapping={"name": "n"})
    client.rpush("queue:emails", "a", "b")
    client.sadd("tags", "a")
    client.close()
    out, data = schema_json(redis.url, capsys)  # KEYS is disabled on this server
    assert redis.password not in out
    assert (data["total_keys"], data["scanned"], data["complete"]) == (152, 152, True)
    prefixes = {p["prefix"]: p for p in data["prefixes"]}
    assert list(prefixes) == ["session:*", "user:*", "(no prefix)", "queue:*"]
    session = prefixes["session:*"]
    assert (session["keys"], session["types"], session["with_ttl"]) == (120, {"string": 120}, 120)
    assert 3500 < session["ttl_min"] <= session["ttl_max"] <= 3720
    assert prefixes["user:*"]["types"] == {"hash": 30}
    assert prefixes["user:*"]["ttl_min"] is None
    assert prefixes["(no prefix)"]["types"] == {"set": 1}


def test_redis_limit_samples_part_of_the_keyspace(redis):  # noqa: F811
    import redis as redis_client

    client = redis_client.Redis.from_url(redis.url)
    client.flushdb()
    client.mset({f"k:{i}": i for i in range(2000)})
    client.close()
    summary = inspect_url(redis.url, limit=600).as_dict()
    assert summary["total_keys"] == 2000
    assert 600 <= summary["scanned"] < 2000
    assert summary["complete"] is False


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:hunter2@127.0.0.1:{port}/app",
        "mysql://app:hunter2@127.0.0.1:{port}/app",
        "redis://:hunter2@127.0.0.1:{port}/0",
    ],
)
def test_unreachable_server_is_one_clear_line_without_the_password(url, capsys):
    from services import free_port

    assert main(["db", "schema", "--url", url.format(port=free_port())]) == 2
    err = capsys.readouterr().err
    assert err.startswith("backend-agent: error: cannot read ")
    assert "hunter2" not in err and "***" in err
    assert err.count("\n") == 1


def test_unknown_scheme_and_missing_url(capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["db", "schema", "--url", "oracle://x"]) == 2
    assert "unsupported database URL scheme" in capsys.readouterr().err
    assert main(["db", "schema"]) == 2
    assert "pass --url or set DATABASE_URL" in capsys.readouterr().err


def test_mask_password_keeps_everything_else():
    assert mask_password("postgresql://u:p@h:5432/db?sslmode=require") == (
        "postgresql://u:***@h:5432/db?sslmode=require"
    )
    assert mask_password("redis://h:6379/0") == "redis://h:6379/0"


def test_cli_refuses_a_key_limit_below_one(capsys):
    with pytest.raises(SystemExit):
        main(["db", "schema", "--url", "redis://127.0.0.1:1/0", "--limit", "0"])
    assert "--limit: expected a positive whole number, got '0'" in capsys.readouterr().err
