"""Migrations written as SQL files: Prisma, golang-migrate, goose, and plain SQL scripts."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from backend_agent.analysis.database.model import Dialect, Migration
from backend_agent.analysis.database.sql import sql_operations
from backend_agent.analysis.project import Project

PRISMA_FILE = re.compile(r"(^|/)migrations/([^/]+)/migration\.sql$")
GOLANG_MIGRATE_UP = re.compile(r"(^|/)(\d+)_([^/]+)\.up\.sql$")
GOLANG_MIGRATE_DOWN = re.compile(r"(^|/)(\d+)_([^/]+)\.down\.sql$")
GOOSE_ANNOTATION = re.compile(r"^--\s*\+goose\s+(\w+)", re.IGNORECASE | re.MULTILINE)
MIGRATION_DIRS = frozenset({"migrations", "migration", "migrate", "db", "schema", "sql"})
FLYWAY_UNDO = re.compile(r"^U\d[\w.]*__")


def is_goose(text: str) -> bool:
    """A goose SQL migration: it has a ``-- +goose Up`` annotation."""
    return any(m.group(1).lower() == "up" for m in GOOSE_ANNOTATION.finditer(text))


def is_plain_sql_migration(path: str) -> bool:
    """A .sql file in a migrations-like directory that no tool-specific format claims."""
    pure = PurePosixPath(path)
    if pure.suffix.lower() != ".sql" or FLYWAY_UNDO.match(pure.name):
        return False
    return any(part.lower() in MIGRATION_DIRS for part in pure.parts[:-1])


def prisma(project: Project, path: str, dialect: Dialect) -> Migration:
    """``prisma/migrations/<timestamp>_<name>/migration.sql``; Prisma has no down step."""
    name = PurePosixPath(path).parent.name
    operations = sql_operations(project.read_text(path), dialect)
    return Migration("prisma", path, name, dialect, operations, has_down=False)


def golang_migrate(project: Project, path: str, dialect: Dialect, files: set[str]) -> Migration:
    """``N_name.up.sql`` with its optional ``N_name.down.sql`` sibling (``files``: all paths)."""
    match = GOLANG_MIGRATE_UP.search(path)
    name = f"{match.group(2)}_{match.group(3)}" if match else PurePosixPath(path).stem
    operations = sql_operations(project.read_text(path), dialect)
    down_path = path[: -len(".up.sql")] + ".down.sql"
    down_text = project.read_text(down_path) if down_path in files else ""
    down = sql_operations(down_text, dialect)
    has_down = bool(_strip_comments(down_text))
    return Migration("golang-migrate", path, name, dialect, operations, down, has_down=has_down)


def goose(project: Project, path: str, dialect: Dialect) -> Migration:
    """One file, ``-- +goose Up`` and ``-- +goose Down`` sections (line numbers kept)."""
    text = project.read_text(path)
    sections: dict[str, list[str]] = {"up": [], "down": []}
    starts: dict[str, int] = {}
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        marker = GOOSE_ANNOTATION.match(line)
        if marker and marker.group(1).lower() in sections:
            current = marker.group(1).lower()
            starts.setdefault(current, number + 1)
            continue
        if current is not None:
            sections[current].append("" if marker else line)
    up = sql_operations("\n".join(sections["up"]), dialect, starts.get("up", 1))
    down_text = "\n".join(sections["down"])
    down = sql_operations(down_text, dialect, starts.get("down", 1))
    has_down = bool(_strip_comments(down_text))
    name = PurePosixPath(path).stem
    return Migration("goose", path, name, dialect, up, down, has_down=has_down)


def plain_sql(project: Project, path: str, dialect: Dialect) -> Migration:
    """A SQL script in a migrations directory: every statement is part of the up step."""
    operations = sql_operations(project.read_text(path), dialect)
    return Migration("sql", path, PurePosixPath(path).stem, dialect, operations)


def _strip_comments(sql: str) -> str:
    return "\n".join(
        line for line in sql.splitlines() if line.strip() and not line.strip().startswith("--")
    )
