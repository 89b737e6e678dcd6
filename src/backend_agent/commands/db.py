"""``backend-agent db``: read-only live schema (``db schema``) and migration review
(``db migrations``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from backend_agent.commands.arguments import CommandParser, add_debug, positive_int
from backend_agent.commands.notes import warn_unread
from backend_agent.errors import UserError


def main(argv: list[str]) -> int:
    parser = CommandParser(
        prog="backend-agent db",
        description="Look at databases without changing them.",
    )
    add_debug(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    schema = commands.add_parser(
        "schema",
        help="tables, columns, indexes and foreign keys of a live database, or a Redis "
        "keyspace summary (read-only)",
        description="Connects read-only and prints the schema. PostgreSQL and MySQL/MariaDB "
        "sessions are opened read-only; Redis is read with SCAN/TYPE/PTTL only. Passwords "
        "are never printed.",
    )
    schema.add_argument(
        "--url",
        default=os.environ.get("DATABASE_URL"),
        help="postgresql://user:pass@host/db, mysql://..., sqlite:///path.db or "
        "redis://host:port/0 (default: $DATABASE_URL)",
    )
    schema.add_argument("--schema", help="SQL schema to list (default: the connection's)")
    schema.add_argument(
        "--limit",
        type=positive_int,
        default=10_000,
        help="Redis: keys to sample at most (default 10000)",
    )
    schema.add_argument("--format", choices=("table", "json"), default="table")
    add_debug(schema)
    migrations = commands.add_parser(
        "migrations",
        help="parse the repository's migrations and report risky operations",
        description="Finds Alembic, Django, Prisma, Knex, TypeORM, Sequelize, golang-migrate, "
        "goose, Rails and plain SQL migrations, reports each risky operation with its fix, and "
        "gives each migration's rollback procedure (the down command with its real version, or "
        "for Prisma and plain SQL the SQL of a migration that reverses it). Rules and messages "
        "follow the dialect the project configures (Prisma datasource, database.yml, settings, "
        "driver dependencies); JSON has each migration's dialect_evidence.",
    )
    migrations.add_argument("path", nargs="?", default=".", help="repository root (default: .)")
    migrations.add_argument("--format", choices=("table", "json"), default="table")
    add_debug(migrations)
    args = parser.parse_args(argv)
    if args.command == "schema":
        return _schema(args)
    if args.command == "migrations":
        return _migrations(args)
    parser.print_help()
    return 2


def _schema(args: argparse.Namespace) -> int:
    from backend_agent.analysis.database import RedisSummary, inspect_url

    if not args.url:
        raise UserError("no database URL: pass --url or set DATABASE_URL")

    def progress(scanned: int) -> None:
        print(f"\rscanned {scanned} keys", end="", file=sys.stderr, flush=True)

    result = inspect_url(
        args.url, args.schema, args.limit, progress if sys.stderr.isatty() else None
    )
    if sys.stderr.isatty() and isinstance(result, RedisSummary):
        print(file=sys.stderr)
    if args.format == "json":
        print(json.dumps(result.as_dict(), indent=2))
    elif isinstance(result, RedisSummary):
        print(_redis_table(result.as_dict()))
    else:
        print(_sql_table(result.as_dict()))
    return 0


def _sql_table(data: dict[str, Any]) -> str:
    lines = [f"{data['url']} ({data['dialect']}): {len(data['tables'])} tables"]
    for table in data["tables"]:
        lines.append("")
        lines.append(table["name"])
        width = max((len(c["name"]) for c in table["columns"]), default=0)
        for column in table["columns"]:
            flags = [
                "PK" if column["primary_key"] else "",
                "" if column["nullable"] else "NOT NULL",
                f"DEFAULT {column['default']}" if column["default"] is not None else "",
            ]
            extra = " ".join(f for f in flags if f)
            lines.append(f"  {column['name'].ljust(width)}  {column['type']}  {extra}".rstrip())
        for index in table["indexes"]:
            kind = "unique index" if index["unique"] else "index"
            name = index["name"] or "(unnamed)"
            lines.append(f"  {kind} {name} ({', '.join(index['columns'])})")
        for fk in table["foreign_keys"]:
            target = f"{fk['referred_table']}({', '.join(fk['referred_columns'])})"
            name = fk["name"] or "(unnamed)"
            lines.append(f"  foreign key {name} ({', '.join(fk['columns'])}) -> {target}")
    return "\n".join(lines)


def _redis_table(data: dict[str, Any]) -> str:
    coverage = "all" if data["complete"] else f"first {data['scanned']}"
    lines = [
        f"{data['url']} db {data['db']}: {data['total_keys']} keys ({coverage} scanned)",
        "",
        f"  {'prefix':<24} {'keys':>8} {'ttl':>8}  {'ttl range (s)':<20} types",
    ]
    for prefix in data["prefixes"]:
        ttl_range = (
            f"{prefix['ttl_min']:.0f}-{prefix['ttl_max']:.0f}"
            if prefix["ttl_min"] is not None
            else "-"
        )
        types = ", ".join(f"{k} {v}" for k, v in prefix["types"].items())
        lines.append(
            f"  {prefix['prefix']:<24} {prefix['keys']:>8} {prefix['with_ttl']:>8}  "
            f"{ttl_range:<20} {types}"
        )
    return "\n".join(lines)


def _migrations(args: argparse.Namespace) -> int:
    from backend_agent.analysis import Project
    from backend_agent.analysis.database import (
        analyze_migrations,
        orm_auto_sync,
        reverse_sql,
        rollback_steps,
    )

    project = Project(Path(args.path))
    migrations = analyze_migrations(project)
    auto_sync = orm_auto_sync(project)
    warn_unread(project)
    if args.format == "json":
        data = {
            "migrations": [
                {
                    **m.as_dict(),
                    "rollback": rollback_steps(m),
                    "reverse_sql": reverse_sql(m).statements,
                }
                for m in migrations
            ],
            "orm_auto_sync": [f.as_dict() for f in auto_sync],
        }
        print(json.dumps(data, indent=2))
        return 0
    if not migrations and not auto_sync:
        print("no migrations found")
    for migration in migrations:
        down = "down: yes" if migration.has_down else "down: no"
        print(
            f"{migration.file}  [{migration.tool}, {migration.dialect}, "
            f"{len(migration.operations)} operations, {down}]"
        )
        for finding in migration.findings:
            print(f"  {finding.file}:{finding.line}  {finding.severity.value:<8} {finding.rule}")
            print(f"      {finding.message}")
            print(f"      fix: {finding.fix}")
        for step in rollback_steps(migration):
            print(f"  rollback: {step}")
    for finding in auto_sync:
        print(f"{finding.file}:{finding.line}  {finding.severity.value:<8} {finding.rule}")
        print(f"      {finding.message}")
        print(f"      fix: {finding.fix}")
    return 0
